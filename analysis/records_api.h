// The attendance record over HTTP, for the dashboard and auditors: roll calls (with
// corrections), alerts, period summaries, roll-ups (live, and final per period), the ledger
// itself and its verification, the evidence pictures, and corrections. Every read of
// records is written to the audit trail (who, what, when).
#pragma once

#include <httplib.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analysis/export.h"
#include "analysis/province.h"
#include "analysis/store.h"
#include "common/time_util.h"

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
  RecordsApi(const std::vector<Site>& sites, Store& store, RecordsApiOptions options,
             WallClock clock = now_ms);
  // Adds the routes to `server`; this object must outlive it.
  void routes(httplib::Server& server);

 private:
  // Writes the request to the audit trail; false (and a 503 in `res`) if it cannot, so that
  // no record is shown unlogged.
  bool audit(const httplib::Request& req, httplib::Response& res, const std::string& kind,
             const std::string& site_id);

  const std::vector<Site>& sites_;
  std::map<std::string, const Site*> by_id_;
  Store& store_;
  // The sites chosen by ?site= and ?district= (all without), or none with a 404 in `res`.
  std::optional<std::vector<Site>> sites_of(const httplib::Request& req,
                                            httplib::Response& res) const;
  ReportOptions report_options(const httplib::Request& req) const;

  const RecordsApiOptions options_;
  const LocalClock local_;
  WallClock clock_;
};

}  // namespace att
