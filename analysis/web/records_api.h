// The attendance record over HTTP, for the dashboard and auditors: roll calls (with
// corrections), alerts, period summaries, roll-ups (live, and final per period), the ledger
// itself and its verification, the evidence pictures, and corrections. Every read of
// records is written to the audit trail (who, what, when): the session's user and address.
// Which roles may call which route is the route table's business (route_table.h), checked
// before the routes run; these handlers only need a session, and answer 401 without one.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analysis/domain/audit.h"
#include "analysis/domain/province.h"
#include "analysis/domain/store.h"
#include "analysis/reports/export.h"
#include "analysis/web/auth.h"
#include "common/time_util.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace att {

struct RecordsApiOptions {
  std::filesystem::path data_dir;            // evidence/ is served from here
  double under_fraction = 0.8;               // "short" in roll-ups (attendance.under_fraction)
  std::vector<PeriodSlot> slots;             // the schedule placed in time, for the reports
  std::optional<LocalClock> local;           // the province's time in exports; none: UTC
  std::vector<std::string> trusted_proxies;  // who may name the client (ApiOptions)
  AuditConfig audit;                         // when a roll call's two counts disagree
  int checks_per_site = 3;                   // roll calls counted on the picture a site needs
};

// The longest request target written to the audit trail; a longer one is cut there, its
// length noted.
inline constexpr size_t kMaxAuditedTarget = 512;

class RecordsApi {
 public:
  // `sites`, `store` and `auth` must outlive this object.
  RecordsApi(const std::vector<Site>& sites, LedgerStore& store, Auth& auth,
             RecordsApiOptions options, WallClock clock = now_ms);
  // The routes' handlers (their paths and roles: the route table, http_api.cpp). Those that
  // read the record write the read to the audit trail first.
  void get_roll_calls(const httplib::Request& req, httplib::Response& res);
  // GET /api/v1/roll-calls/to-check?site=&district=: plan_checks (records.h) of those sites.
  void get_checks_to_do(const httplib::Request& req, httplib::Response& res);
  void get_alerts(const httplib::Request& req, httplib::Response& res);  // ?open=1: open ones
  void get_summaries(const httplib::Request& req, httplib::Response& res);
  // Live: each site's latest roll call (corrections applied). Final for a period: the period
  // summaries' medians (?date=&period=).
  void get_rollup(const httplib::Request& req, httplib::Response& res);
  void get_ledger(const httplib::Request& req, httplib::Response& res);
  void get_ledger_verify(const httplib::Request& req, httplib::Response& res);
  // Evidence pictures: evidence/<site>/... only, no way up the tree.
  void get_evidence(const httplib::Request& req, httplib::Response& res);
  // Exports for spreadsheets: ?site= or ?district= narrows them to those sites.
  void get_export(const httplib::Request& req, httplib::Response& res);
  // Printable reports: one site, or one district (?name=, its name as in sites.csv).
  void get_site_report(const httplib::Request& req, httplib::Response& res);
  void get_district_report(const httplib::Request& req, httplib::Response& res);
  // An auditor's recount from the evidence: {"subject", "counted", "reason"}, made in the
  // name of the session's user (a "user" in the body is not used).
  void post_correction(const httplib::Request& req, httplib::Response& res);

  // Writes the request to the audit trail under its reader; returns the reader, or none (and
  // the error in `res`) if it cannot, so that no record is shown unlogged. The target
  // (path and query) is kept to kMaxAuditedTarget bytes.
  std::optional<std::string> audit(const httplib::Request& req, httplib::Response& res,
                                   const std::string& kind, const std::string& site_id);

 private:
  // Who reads: "<user>@<address>" of the request's session, or none with a 401 (or 503) in
  // `res`.
  std::optional<std::string> reader(const httplib::Request& req, httplib::Response& res);
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
