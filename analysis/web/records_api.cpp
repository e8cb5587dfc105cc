#include "analysis/web/records_api.h"

#include <algorithm>
#include <charconv>
#include <regex>

#include "analysis/domain/ledger.h"
#include "analysis/domain/records.h"
#include "analysis/domain/rollup.h"
#include "analysis/web/http_util.h"
#include "common/files.h"
#include "common/log.h"

namespace att {

using nlohmann::json;

namespace {

const std::regex kDate(R"(\d{4}-\d{2}-\d{2})");
const std::regex kName(R"([A-Za-z0-9_-]{1,32})");

// The record filter from ?site=&date=&period=, or a 4xx in `res`.
std::optional<RecordFilter> filter_of(const httplib::Request& req, httplib::Response& res,
                                      const std::map<std::string, const Site*>& sites) {
  RecordFilter f;
  f.site_id = req.get_param_value("site");
  f.date = req.get_param_value("date");
  f.period = req.get_param_value("period");
  if (!f.site_id.empty() && !sites.contains(f.site_id)) {
    send_error(res, 404, "unknown_site", "no site '" + f.site_id.substr(0, 64) + "'");
    return std::nullopt;
  }
  if (!f.date.empty() && !std::regex_match(f.date, kDate)) {
    send_error(res, 400, "bad_date", "date must be YYYY-MM-DD");
    return std::nullopt;
  }
  if (!f.period.empty() && !std::regex_match(f.period, kName)) {
    send_error(res, 400, "bad_period", "period must be a period's name, e.g. morning");
    return std::nullopt;
  }
  return f;
}

// A whole number parameter within [lo, hi], `fallback` when absent, or a 400 in `res`.
std::optional<std::int64_t> number_param(const httplib::Request& req, httplib::Response& res,
                                         const char* name, std::int64_t fallback, std::int64_t lo,
                                         std::int64_t hi) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) {
    send_error(res, 400, "bad_parameter",
               std::string(name) + " must be a whole number from " + std::to_string(lo) + " to " +
                   std::to_string(hi));
    return std::nullopt;
  }
  return v;
}

}  // namespace

RecordsApi::RecordsApi(const std::vector<Site>& sites, LedgerStore& store, Auth& auth,
                       RecordsApiOptions options, WallClock clock)
    : sites_(sites),
      store_(store),
      auth_(auth),
      options_(std::move(options)),
      local_(options_.local ? *options_.local : LocalClock::make("UTC", {"2000-01-01"}).value()),
      clock_(std::move(clock)) {
  for (const Site& s : sites_) by_id_[s.id] = &s;
}

std::optional<std::vector<Site>> RecordsApi::sites_of(const httplib::Request& req,
                                                      httplib::Response& res) const {
  const std::string site = req.get_param_value("site");
  const std::string district = req.get_param_value("district");
  std::vector<Site> chosen;
  for (const Site& s : sites_) {
    if ((site.empty() || s.id == site) && (district.empty() || s.district == district))
      chosen.push_back(s);
  }
  if (chosen.empty()) {
    send_error(res, 404, "no_sites",
               "no site matches site='" + site.substr(0, 64) + "' district='" +
                   district.substr(0, 64) + "'");
    return std::nullopt;
  }
  return chosen;
}

ReportOptions RecordsApi::report_options(const std::string& reader) const {
  ReportOptions r;
  r.data_dir = options_.data_dir;
  r.slots = options_.slots;
  r.under_fraction = options_.under_fraction;
  r.generated_at_ms = clock_();
  r.generated_by = reader;
  return r;
}

std::optional<std::string> RecordsApi::reader(const httplib::Request& req, httplib::Response& res) {
  auto who = session_of(auth_, req, res);
  if (!who) return std::nullopt;
  return who->user + "@" + client_of(req, options_.trusted_proxies).address;
}

std::optional<std::string> RecordsApi::audit(const httplib::Request& req, httplib::Response& res,
                                             const std::string& kind, const std::string& site_id) {
  auto who = reader(req, res);
  if (!who) return std::nullopt;
  LedgerEntry e;
  e.kind = kind;
  e.site_id = site_id;
  e.subject = req.target.size() <= kMaxAuditedTarget  // the path and query as requested
                  ? req.target
                  : req.target.substr(0, kMaxAuditedTarget) + "... (" +
                        std::to_string(req.target.size()) + " bytes)";
  e.at_ms = clock_();
  e.actor = *who;
  e.body = "{}";
  if (auto a = store_.append(Chain::kAudit, std::move(e)); !a) {
    log::get("http")->error("audit trail: {}", a.error().message);
    send_error(res, 503, "audit_failed", "the audit trail cannot be written; try again");
    return std::nullopt;
  }
  return who;
}

void RecordsApi::get_roll_calls(const httplib::Request& req, httplib::Response& res) {
  auto f = filter_of(req, res, by_id_);
  if (!f || !audit(req, res, "view", f->site_id)) return;
  auto records = read_records(store_, f->site_id);
  if (!records) return send_error(res, 503, "storage_failed", records.error().message);
  // Each site's calibration from its roll calls counted on the picture (all of its record, not
  // only the ones asked for), and what each count stands for by it.
  const std::map<std::string, SiteCalibration> calibrations = site_calibrations(*records);
  json list = json::array();
  json calibration = json::object();
  for (const auto& c : records->roll_calls) {
    const RollCall& r = c.roll_call;
    if (!f->matches(r.site_id, r.date, r.period)) continue;
    json j = to_json(c);
    const std::optional<int> estimate = estimated(calibrations, c);
    j["estimated"] = estimate ? json(*estimate) : json(nullptr);
    if (const auto cal = calibrations.find(r.site_id); cal != calibrations.end())
      calibration[r.site_id] = cal->second.to_json();
    list.push_back(std::move(j));
  }
  send_json(res, 200, {{"roll_calls", std::move(list)}, {"calibration", std::move(calibration)}});
}

void RecordsApi::get_checks_to_do(const httplib::Request& req, httplib::Response& res) {
  const auto sites = sites_of(req, res);
  if (!sites || !audit(req, res, "view", req.get_param_value("site"))) return;
  auto records = read_records(store_, sites->size() == 1 ? sites->front().id : "");
  if (!records) return send_error(res, 503, "storage_failed", records.error().message);
  const CheckPlan plan = plan_checks(*records, *sites, options_.under_fraction, options_.audit,
                                     options_.checks_per_site, 30);
  json proposals = json::array();
  for (const auto& p : plan.proposals) {
    json j = to_json(*p.call);
    j["why"] = p.why;
    proposals.push_back(std::move(j));
  }
  json needs = json::array();
  for (const auto& s : plan.sites)
    needs.push_back({{"site_id", s.site_id}, {"checked", s.checked}, {"needed", s.needed}});
  send_json(res, 200,
            {{"per_site", options_.checks_per_site},
             {"sites", std::move(needs)},
             {"proposals", std::move(proposals)}});
}

void RecordsApi::get_alerts(const httplib::Request& req, httplib::Response& res) {
  auto f = filter_of(req, res, by_id_);
  if (!f || !audit(req, res, "view", f->site_id)) return;
  const bool open_only = req.get_param_value("open") == "1";
  auto records = read_records(store_, f->site_id);
  if (!records) return send_error(res, 503, "storage_failed", records.error().message);
  json list = json::array();
  for (const auto& a : records->alerts) {
    if (!open_only || !a.ended_ms) list.push_back(to_json(a));
  }
  send_json(res, 200, {{"alerts", std::move(list)}});
}

void RecordsApi::get_summaries(const httplib::Request& req, httplib::Response& res) {
  auto f = filter_of(req, res, by_id_);
  if (!f || !audit(req, res, "view", f->site_id)) return;
  auto records = read_records(store_, f->site_id);
  if (!records) return send_error(res, 503, "storage_failed", records.error().message);
  json list = json::array();
  for (const auto& s : records->summaries) {
    if (!f->matches(s.summary.site_id, s.summary.date, s.summary.period)) continue;
    json j = s.summary.to_json();
    // A period without a frame saw nothing: its count, rate and late/early facts are unknown,
    // not 0 and not "no" (the ledger keeps the summary as written; docs/api.md).
    if (s.summary.frames == 0) {
      for (const char* k :
           {"peak", "median", "minimum", "attendance_rate", "late_start", "early_leave"})
        j[k] = nullptr;
    }
    list.push_back(std::move(j));
  }
  send_json(res, 200, {{"summaries", std::move(list)}});
}

void RecordsApi::get_rollup(const httplib::Request& req, httplib::Response& res) {
  auto f = filter_of(req, res, by_id_);
  if (!f) return;
  if (!f->site_id.empty()) return send_error(res, 400, "bad_parameter", "a roll-up has no site");
  if (f->date.empty() != f->period.empty()) {
    return send_error(res, 400, "bad_parameter", "give both date and period, or neither");
  }
  if (!audit(req, res, "view", "")) return;
  auto records = read_records(store_, "");
  if (!records) return send_error(res, 503, "storage_failed", records.error().message);
  if (f->date.empty()) {
    std::vector<RollCall> calls;
    for (const auto& c : records->roll_calls) calls.push_back(c.roll_call);
    json out = live_rollup(sites_, calls, options_.under_fraction).to_json();
    out["final"] = false;
    out["as_of_ms"] = clock_();
    return send_json(res, 200, out);
  }
  std::vector<PeriodSummary> summaries;
  for (const auto& s : records->summaries) summaries.push_back(s.summary);
  json out =
      period_rollup(sites_, summaries, f->date, f->period, options_.under_fraction).to_json();
  out["final"] = true;
  out["date"] = f->date;
  out["period"] = f->period;
  send_json(res, 200, out);
}

void RecordsApi::get_ledger(const httplib::Request& req, httplib::Response& res) {
  const auto from = number_param(req, res, "from", 1, 1, std::int64_t{1} << 53);
  if (!from) return;
  const auto limit = number_param(req, res, "limit", 1000, 1, 10000);
  if (!limit || !audit(req, res, "view", "")) return;
  LedgerQuery q;
  q.from_seq = *from;
  q.limit = static_cast<int>(*limit);
  q.kind = req.get_param_value("kind");
  auto entries = store_.entries(Chain::kLedger, q);
  if (!entries) return send_error(res, 503, "storage_failed", entries.error().message);
  json list = json::array();
  for (const LedgerEntry& e : *entries) {
    list.push_back({{"seq", e.seq},
                    {"kind", e.kind},
                    {"site_id", e.site_id},
                    {"subject", e.subject},
                    {"at_ms", e.at_ms},
                    {"recorded_at_ms", e.recorded_at_ms},
                    {"actor", e.actor},
                    {"body", json::parse(e.body, nullptr, /*allow_exceptions=*/false)},
                    {"prev_hash", e.prev_hash},
                    {"hash", e.hash}});
  }
  send_json(res, 200, {{"entries", std::move(list)}});
}

void RecordsApi::get_ledger_verify(const httplib::Request& req, httplib::Response& res) {
  if (!audit(req, res, "verify", "")) return;
  auto report = verify_stored_ledger(store_);
  if (!report) return send_error(res, 503, "verify_failed", report.error().message);
  json problems = json::array();
  for (const auto& p : report->problems) problems.push_back(describe(p));
  send_json(res, 200,
            {{"intact", report->problems.empty()},
             {"ledger_entries", report->ledger_entries},
             {"audit_entries", report->audit_entries},
             {"problems", std::move(problems)}});
}

void RecordsApi::get_evidence(const httplib::Request& req, httplib::Response& res) {
  const std::string site = req.matches[1];
  const std::string path = "evidence/" + site + "/" + req.matches[2].str() + ".jpg";
  if (path.find("..") != std::string::npos || !by_id_.contains(site)) {
    return send_error(res, 404, "not_found", "no such evidence");
  }
  if (!audit(req, res, "view", site)) return;
  auto bytes = read_file(options_.data_dir / path);
  if (!bytes) return send_error(res, 404, "not_found", "no such evidence");
  res.set_header("Cache-Control", "private, max-age=3600");
  res.set_content(std::move(*bytes), "image/jpeg");
}

void RecordsApi::get_export(const httplib::Request& req, httplib::Response& res) {
  const std::string what = req.matches[1];
  auto chosen = sites_of(req, res);
  if (!chosen || !audit(req, res, "export", req.get_param_value("site"))) return;
  auto records = read_records(store_, req.get_param_value("site"));
  if (!records) return send_error(res, 503, "storage_failed", records.error().message);
  std::string csv = what == "roll-calls"  ? roll_calls_csv(*chosen, *records, local_)
                    : what == "alerts"    ? alerts_csv(*chosen, *records, local_)
                    : what == "summaries" ? summaries_csv(*chosen, *records)
                                          : rollups_csv(*chosen, *records, options_.under_fraction);
  res.set_header("Cache-Control", "no-store");
  // ASCII by construction (export_file_name), so no filename*= is needed.
  res.set_header("Content-Disposition",
                 "attachment; filename=\"" +
                     export_file_name(what, req.get_param_value("site"),
                                      req.get_param_value("district"), local_.date(clock_())) +
                     "\"");
  res.set_content(std::move(csv), "text/csv; charset=utf-8");
}

void RecordsApi::get_site_report(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  if (!by_id_.contains(id)) return send_error(res, 404, "unknown_site", "no site '" + id + "'");
  const auto who = audit(req, res, "export", id);
  if (!who) return;
  auto records = read_records(store_, id);
  if (!records) return send_error(res, 503, "storage_failed", records.error().message);
  auto html = site_report_html(sites_, id, *records, local_, report_options(*who));
  if (!html) return send_error(res, 500, "report_failed", html.error().message);
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::move(*html), "text/html; charset=utf-8");
}

void RecordsApi::get_district_report(const httplib::Request& req, httplib::Response& res) {
  const std::string district = req.get_param_value("name");
  const auto who = reader(req, res);
  if (!who) return;
  auto records = read_records(store_, "");
  if (!records) return send_error(res, 503, "storage_failed", records.error().message);
  auto html = district_report_html(sites_, district, *records, local_, report_options(*who));
  if (!html) return send_error(res, 404, "unknown_district", html.error().message);
  if (!audit(req, res, "export", "")) return;
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::move(*html), "text/html; charset=utf-8");
}

void RecordsApi::post_correction(const httplib::Request& req, httplib::Response& res) {
  const auto who = session_of(auth_, req, res);
  if (!who) return;
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  const bool on_picture = body.is_object() && body.contains("picture");
  if (!body.is_object() || !body.contains("subject") || !body["subject"].is_string() ||
      (!on_picture && (!body.contains("counted") || !body["counted"].is_number_integer())) ||
      (body.contains("reason") && !body["reason"].is_string())) {
    return send_error(res, 400, "bad_request",
                      "expected JSON {\"subject\": ..., \"counted\": N, \"reason\": ...}, or "
                      "{\"subject\": ..., \"picture\": {\"boxes\": N, \"removed\": [...], "
                      "\"added\": [[x, y], ...]}, \"reason\": ...}");
  }
  const std::string subject = body["subject"].get<std::string>();
  const std::string reason = body.value("reason", "");
  std::optional<PictureCheck> check;  // counted on the picture: the count is the check's
  if (on_picture) {
    auto parsed = PictureCheck::from_json(body["picture"]);
    if (!parsed) return send_error(res, 400, "bad_correction", parsed.error().message);
    check = std::move(*parsed);
  }
  const auto counted = on_picture ? 0 : body["counted"].get<std::int64_t>();
  auto entry =
      check ? count_on_picture(store_, subject, *check, who->user, reason, clock_())
            : correct_roll_call(store_, subject,
                                static_cast<int>(std::clamp<std::int64_t>(counted, -1, 1'000'000)),
                                who->user, reason, clock_());
  if (!entry) {
    const bool unknown = entry.error().code == ErrorCode::kNotFound;
    return send_error(res, unknown ? 404 : 400, unknown ? "unknown_roll_call" : "bad_correction",
                      entry.error().message);
  }
  const json stored = json::parse(entry->body, nullptr, /*allow_exceptions=*/false);
  send_json(res, 201,
            {{"seq", entry->seq},
             {"hash", entry->hash},
             {"counted", stored.value("counted", json(nullptr))}});
}

}  // namespace att
