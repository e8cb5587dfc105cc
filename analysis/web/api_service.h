// HttpApi's private half (ApiService), shared by the web layer's files that build and answer its
// routes: the server, the objects the handlers call, and one member function per route handler.
// Included only by analysis/web/*.cpp (it brings in <httplib.h>). Which file holds what:
//   http_api.cpp       the transport (server, TLS, error and exception handlers, start, stop),
//                      the route table, the access check before every route, node uploads
//   session_routes.cpp logins, logouts, the caller's session, the users and their changes
//   site_routes.cpp    the sites' read API (status, sites, latest, its picture, timeline) and
//                      asking a site for live frames
//   setup_routes.cpp   a site's counting setup: read, preview, save
//   metrics_route.cpp  Prometheus text (/metrics)
//   stream_routes.cpp  the long-lived answers: Server-Sent Events and the MJPEG live view
#pragma once

#include <httplib.h>

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "analysis/domain/attendance.h"
#include "analysis/domain/province.h"
#include "analysis/domain/store.h"
#include "analysis/ingest/ingest.h"
#include "analysis/ingest/site_setups.h"
#include "analysis/web/api_options.h"
#include "analysis/web/auth.h"
#include "analysis/web/http_server.h"
#include "analysis/web/http_util.h"
#include "analysis/web/live.h"
#include "analysis/web/records_api.h"
#include "analysis/web/route_table.h"
#include "common/log.h"
#include "common/time_util.h"

namespace att {

class ApiService {
 public:
  std::vector<const Site*> sites;  // config order
  std::map<std::string, const Site*> by_id;
  Ingest& ingest;
  Store& store;
  LiveHub& live;
  Auth& auth;
  Attendance& roll_book;
  SiteSetups& setups;
  ApiOptions options;
  WallClock clock;
  std::unique_ptr<HttpServer> server;  // HTTPS with TLS files
  std::string tls_error;               // why the TLS files cannot be used (start() fails)
  std::thread listener;
  std::shared_ptr<spdlog::logger> log = log::get("http");

  log::RateLimit stream_log{std::chrono::seconds(10)};
  RecordsApi records;

  ApiService(const std::vector<Site>& all, Ingest& i, Store& s, LiveHub& l, Auth& a, Attendance& r,
             SiteSetups& u, ApiOptions o, WallClock c)
      : ingest(i),
        store(s),
        live(l),
        auth(a),
        roll_book(r),
        setups(u),
        options(std::move(o)),
        clock(std::move(c)),
        records(all, s, a, records_options(options), clock) {
    for (const Site& site : all) {
      sites.push_back(&site);
      by_id[site.id] = &site;
    }
  }

  static RecordsApiOptions records_options(const ApiOptions& o) {
    RecordsApiOptions r = o.records;
    r.trusted_proxies = o.trusted_proxies;
    return r;
  }
  // Who sent the request: behind a trusted proxy, the client it names (request_checks.h).
  Client client(const httplib::Request& req) const {
    return client_of(req, options.trusted_proxies, !options.tls_cert.empty());
  }

  // The transport (http_api.cpp).
  void routes();
  RouteTable table();
  httplib::Server::HandlerResponse check_access(const httplib::Request& req,
                                                httplib::Response& res);

  // The handlers of the routes (the route table says who may call which).
  // http_api.cpp: health and node uploads.
  void get_healthz(const httplib::Request& req, httplib::Response& res);
  void post_frame(const httplib::Request& req, httplib::Response& res);
  void post_heartbeat(const httplib::Request& req, httplib::Response& res);
  void post_count(const httplib::Request& req, httplib::Response& res);
  void post_evidence(const httplib::Request& req, httplib::Response& res);
  // A signed upload to `path`, handed to `handle`, its answer counted under `endpoint`.
  void upload(const httplib::Request& req, httplib::Response& res, const char* path,
              IngestReply (Ingest::*handle)(const Upload&), const char* endpoint);
  // session_routes.cpp: logins, sessions, users.
  // The session cookie: the token, or (end) an empty one that the browser drops at once;
  // Secure when the client came over HTTPS.
  std::string session_cookie(const httplib::Request& req, const std::string& token, bool end) const;
  void post_login(const httplib::Request& req, httplib::Response& res);
  void post_logout(const httplib::Request& req, httplib::Response& res);
  void get_session(const httplib::Request& req, httplib::Response& res);
  void get_users(const httplib::Request& req, httplib::Response& res);
  void post_user(const httplib::Request& req, httplib::Response& res);
  void post_user_change(const httplib::Request& req, httplib::Response& res);
  // Writes a change made by `who` to the audit trail (`kind`, `subject` such as user/<name>
  // or site/<id>, the user and address as actor, `body` what changed, never a password);
  // false, with the error in `res`, when it cannot.
  bool audit_change(const httplib::Request& req, httplib::Response& res, const Identity& who,
                    const std::string& kind, const std::string& subject,
                    const nlohmann::json& body);
  // site_routes.cpp: the sites' read API and live requests.
  void get_status(const httplib::Request& req, httplib::Response& res);
  void get_sites(const httplib::Request& req, httplib::Response& res);
  void get_latest(const httplib::Request& req, httplib::Response& res);
  void get_latest_jpeg(const httplib::Request& req, httplib::Response& res);
  void get_timeline(const httplib::Request& req, httplib::Response& res);
  void post_live(const httplib::Request& req, httplib::Response& res);
  std::optional<Observation> latest_or_error(const std::string& id, httplib::Response& res);
  std::optional<Observation> picture_of(const Observation& latest);
  Result<std::shared_ptr<const LiveFrame>> stored_frame(const Observation& o);
  // setup_routes.cpp: a site's counting setup.
  void get_setup(const httplib::Request& req, httplib::Response& res);
  void get_setup_picture(const httplib::Request& req, httplib::Response& res);
  void post_setup_preview(const httplib::Request& req, httplib::Response& res);
  void post_setup(const httplib::Request& req, httplib::Response& res);
  std::optional<Observation> setup_picture(const std::string& id, const httplib::Request& req,
                                           httplib::Response& res);
  std::optional<std::vector<Box>> setup_detections(const Observation& o, httplib::Response& res);
  struct SetupRequest {
    SiteSetup setup;
    std::optional<Observation> picture;  // named by the request
    std::vector<Box> detections;         // the picture's
    bool take_reference = false;
    bool confirm_view = false;
    std::optional<std::int64_t> based_on;  // the version a save was drawn on
  };
  std::optional<SetupRequest> setup_request(const std::string& id, const httplib::Request& req,
                                            httplib::Response& res);
  // metrics_route.cpp.
  void get_metrics(const httplib::Request& req, httplib::Response& res);
  // stream_routes.cpp.
  void get_events(const httplib::Request& req, httplib::Response& res);
  void get_live_mjpeg(const httplib::Request& req, httplib::Response& res);

  std::optional<RouteTable> routes_;  // made by routes()
  // The frame last shown of each site (stored_frame), its annotated picture drawn once.
  std::mutex pictures_mu;
  std::map<std::string, std::shared_ptr<const LiveFrame>> pictures;  // guarded by pictures_mu
};

}  // namespace att
