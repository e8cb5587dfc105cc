// The attendance record over HTTP, for the dashboard and auditors: roll calls (with
// corrections), alerts, period summaries, roll-ups (live, and final per period), the ledger
// itself and its verification, the evidence pictures, and corrections. Every read of
// records is written to the audit trail (who, what, when): the session's user and address.
// Which roles may call which route is the access table's business (auth.h), checked before
// the routes run; these routes only need a session, and answer 401 without one.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analysis/domain/province.h"
#include "analysis/domain/store.h"
#include "analysis/reports/export.h"
#include "analysis/web/auth.h"
#include "common/time_util.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace att {

struct RecordsApiOptions {
  std::filesystem::path data_dir;       // evidence/ is served from here
  std::filesystem::path database_path;  // verified by GET /api/v1/ledger/verify
  double under_fraction = 0.8;          // "short" in roll-ups (attendance.under_fraction)
  std::vector<PeriodSlot> slots;        // the schedule placed in time, for the reports
  std::optional<LocalClock> local;      // the province's time in exports; none: UTC
};

class RecordsApi {
 public:
  // `sites`, `store` and `auth` must outlive this object.
  RecordsApi(const std::vector<Site>& sites, LedgerStore& store, Auth& auth,
             RecordsApiOptions options, WallClock clock = now_ms);
  // Adds the routes to `server`; this object must outlive it.
  void routes(httplib::Server& server);

 private:
  // Who reads: "<user>@<address>" of the request's session, or none with a 401 (or 503) in
  // `res`.
  std::optional<std::string> reader(const httplib::Request& req, httplib::Response& res);
  // Writes the request to the audit trail under its reader; returns the reader, or none (and
  // the error in `res`) if it cannot, so that no record is shown unlogged.
  std::optional<std::string> audit(const httplib::Request& req, httplib::Response& res,
                                   const std::string& kind, const std::string& site_id);

  const std::vector<Site>& sites_;
  std::map<std::string, const Site*> by_id_;
  LedgerStore& store_;
  Auth& auth_;
  // The sites chosen by ?site= and ?district= (all without), or none with a 404 in `res`.
  std::optional<std::vector<Site>> sites_of(const httplib::Request& req,
                                            httplib::Response& res) const;
  ReportOptions report_options(const std::string& reader) const;

  const RecordsApiOptions options_;
  const LocalClock local_;
  WallClock clock_;
};

}  // namespace att
