// The service's HTTP face: frame upload, JSON API, annotated frames, live outputs (Server-Sent
// Events, MJPEG), login and sessions, and the dashboard's static files. Runs its own listener
// thread and worker threads (cpp-httplib); handlers only call thread-safe objects (Ingest,
// Store, LiveHub, Auth). An open event or MJPEG stream holds one worker thread for as long as
// it lasts.
//
// Every route is a row of one table (route_table.h; the rows are in http_api.cpp), and every
// request passes the access check built from it before any route runs: a public route goes
// on; any other needs a session (cookie att_session) of a role the row names, else 401
// login_required or 403 forbidden; a POST, PUT, PATCH or DELETE with a session must also
// carry its X-CSRF-Token and, if it has an Origin, come from the Host it is sent to, else
// 403 csrf. A path under /api/ that no row names gets 404 without reaching a route.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "analysis/domain/attendance.h"
#include "analysis/domain/province.h"
#include "analysis/domain/store.h"
#include "analysis/ingest/ingest.h"
#include "analysis/ingest/site_setups.h"
#include "analysis/web/api_options.h"
#include "analysis/web/auth.h"
#include "analysis/web/live.h"
#include "common/error.h"
#include "common/time_util.h"

namespace att {

class ApiService;

class HttpApi {
 public:
  // Every argument but `options` and `clock` must outlive this object.
  // `roll_book` tells where each site stands (in a class, its offline alert open) for its
  // state in GET /api/v1/sites; `setups` holds the sites' counting setups.
  HttpApi(const std::vector<Site>& sites, Ingest& ingest, Store& store, LiveHub& live, Auth& auth,
          Attendance& roll_book, SiteSetups& setups, ApiOptions options, WallClock clock = now_ms);
  ~HttpApi();  // stops
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // Binds host:port (port 0 = any free port), starts serving on a thread of its own and
  // returns the bound port once requests are accepted. Fails on unreadable TLS files.
  Result<int> start(const std::string& host, int port);
  // Stops accepting, finishes requests in flight and joins. Closes the LiveHub first, so that
  // open event and MJPEG streams end at once instead of holding their threads. Idempotent.
  void stop();

 private:
  std::unique_ptr<ApiService> impl_;  // the server and the handlers (api_service.h)
};

}  // namespace att
