#include "analysis/domain/records.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "analysis/domain/ledger.h"

namespace att {

using nlohmann::json;

Result<LedgerExtract> extract_ledger(const std::vector<LedgerEntry>& entries) {
  LedgerExtract out;
  std::map<std::string, size_t> call_at, alert_at;  // by subject
  for (const LedgerEntry& e : entries) {
    if (out.entries++ == 0) out.first_seq = e.seq;
    out.last_seq = e.seq;
    out.last_hash = e.hash;
    const auto bad = [&](const std::string& what) {
      return fail("ledger entry " + std::to_string(e.seq) + " (" + e.kind + "): " + what);
    };
    const bool known = e.kind == "roll_call" || e.kind == "correction" ||
                       e.kind == "alert_opened" || e.kind == "alert_closed" ||
                       e.kind == "period_summary";
    if (!known) continue;
    const json body = json::parse(e.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) return bad("the body is not a JSON object");
    try {
      if (e.kind == "roll_call") {
        auto r = RollCall::from_json(body);
        if (!r) return bad("the body is not a roll call");
        call_at[e.subject] = out.roll_calls.size();
        LedgerExtract::Call call;
        call.roll_call = std::move(*r);
        call.seq = e.seq;
        call.subject = e.subject;
        out.roll_calls.push_back(std::move(call));
      } else if (e.kind == "correction") {
        if (!body.contains("counted") || !body["counted"].is_number_integer())
          return bad("the body has no whole number 'counted'");
        auto it = call_at.find(e.subject);
        if (it == call_at.end()) continue;  // its roll call is outside the range read
        LedgerExtract::Call& call = out.roll_calls[it->second];
        if (!call.corrected) {  // the roll call as taken, kept beside the correction
          call.counted_as_taken = call.roll_call.counted;
          call.set_aside_as_taken = std::move(call.roll_call.set_aside);
        }
        call.corrected = true;
        call.roll_call.counted = body["counted"].get<int>();
        call.roll_call.set_aside.clear();  // counted by a person from the evidence: it stands
        call.corrected_by = e.actor;
        call.correction_reason = body.value("reason", "");
        call.correction_seq = e.seq;
        call.check.reset();
        if (body.contains("picture")) {
          auto check = PictureCheck::from_json(body["picture"]);
          if (!check) return bad("its picture check: " + check.error().message);
          call.check = std::move(*check);
        }
      } else if (e.kind == "alert_opened") {
        LedgerExtract::Alert a;
        a.subject = e.subject;
        a.site_id = e.site_id;
        a.kind = body.at("kind").get<std::string>();
        a.started_ms = body.at("started_ms").get<std::int64_t>();
        a.detected_ms = body.value("detected_ms", a.started_ms);
        a.evidence_path = body.value("evidence_path", "");
        a.evidence_sha256 = body.value("evidence_sha256", "");
        if (body.contains("details") && body["details"].is_object()) {
          const json& d = body["details"];
          const auto number = [&](const char* key) -> std::optional<int> {
            if (d.contains(key) && d[key].is_number_integer()) return d[key].get<int>();
            return std::nullopt;
          };
          a.count = number("count");
          if (!a.count) a.count = number("node_count");
          a.audit_count = number("audit_count");
          a.estimated = number("estimated");  // under-attendance compared as estimated
        }
        a.expected = body.value("expected", 0);
        a.opened_seq = e.seq;
        alert_at[e.subject] = out.alerts.size();
        out.alerts.push_back(std::move(a));
      } else if (e.kind == "alert_closed") {
        auto it = alert_at.find(e.subject);
        if (it == alert_at.end()) {  // opened before the range read
          LedgerExtract::Alert a;
          a.subject = e.subject;
          a.site_id = e.site_id;
          a.kind = body.at("kind").get<std::string>();
          a.started_ms = body.at("started_ms").get<std::int64_t>();
          a.detected_ms = a.started_ms;
          it = alert_at.emplace(e.subject, out.alerts.size()).first;
          out.alerts.push_back(std::move(a));
        }
        LedgerExtract::Alert& a = out.alerts[it->second];
        a.ended_ms = body.at("ended_ms").get<std::int64_t>();
        a.minutes = body.contains("minutes")
                        ? body["minutes"].get<double>()
                        : static_cast<double>(*a.ended_ms - a.started_ms) / 60'000;
        a.why_ended = body.value("why", "");
        a.closed_seq = e.seq;
      } else {  // period_summary
        auto s = PeriodSummary::from_json(body);
        if (!s) return bad("the body is not a period summary");
        LedgerExtract::Summary summary;
        summary.summary = std::move(*s);
        summary.seq = e.seq;
        summary.at_ms = e.at_ms;
        out.summaries.push_back(std::move(summary));
      }
    } catch (const json::exception& ex) {
      return bad(std::string("malformed body: ") + ex.what());
    }
  }
  return out;
}

namespace {

json parse(const std::string& body) {
  return json::parse(body, nullptr, /*allow_exceptions=*/false);
}

json evidence_url(const std::string& path) {
  return path.empty() ? json(nullptr) : json("/api/v1/" + path);
}

}  // namespace

bool RecordFilter::matches(const std::string& site, const std::string& d,
                           const std::string& p) const {
  return (site_id.empty() || site_id == site) && (date.empty() || date == d) &&
         (period.empty() || period == p);
}

Result<LedgerExtract> read_records(LedgerStore& store, const std::string& site_id) {
  std::vector<LedgerEntry> all;
  for (const char* kind :
       {"roll_call", "correction", "alert_opened", "alert_closed", "period_summary"}) {
    LedgerQuery q;
    q.kind = kind;
    q.site_id = site_id;
    q.limit = 0;
    auto entries = store.entries(Chain::kLedger, q);
    if (!entries) return std::unexpected(entries.error());
    all.insert(all.end(), entries->begin(), entries->end());
  }
  std::sort(all.begin(), all.end(),
            [](const LedgerEntry& a, const LedgerEntry& b) { return a.seq < b.seq; });
  return extract_ledger(all);
}

json to_json(const LedgerExtract::Call& call) {
  json j = call.roll_call.to_json();
  j["seq"] = call.seq;
  j["subject"] = call.subject;
  j["evidence_url"] = evidence_url(call.roll_call.evidence_path);
  j["correction"] = nullptr;
  if (call.corrected) {
    j["correction"] = {{"counted_originally",
                        call.counted_as_taken ? json(*call.counted_as_taken) : json(nullptr)},
                       {"by", call.corrected_by},
                       {"reason", call.correction_reason},
                       {"seq", call.correction_seq}};
  }
  j["verified"] = nullptr;  // counted on the picture: the people, and the marks that make them
  if (call.check) {
    j["verified"] = call.check->to_json();
    j["verified"]["people"] = call.check->people();
  }
  return j;
}

json to_json(const LedgerExtract::Alert& a) {
  return {{"subject", a.subject},
          {"kind", a.kind},
          {"site_id", a.site_id},
          {"started_ms", a.started_ms},
          {"detected_ms", a.detected_ms},
          {"ended_ms", a.ended_ms ? json(*a.ended_ms) : json(nullptr)},
          {"open", !a.ended_ms.has_value()},
          {"minutes", a.minutes},
          {"why_ended", a.why_ended},
          {"count", a.count ? json(*a.count) : json(nullptr)},
          {"expected", a.expected},
          {"evidence_url", evidence_url(a.evidence_path)},
          {"evidence_sha256", a.evidence_sha256},
          {"opened_seq", a.opened_seq},
          {"closed_seq", a.closed_seq},
          {"audit_count", a.audit_count ? json(*a.audit_count) : json(nullptr)},
          {"estimated", a.estimated ? json(*a.estimated) : json(nullptr)}};
}

namespace {

Result<LedgerEntry> append_correction(LedgerStore& store, const std::string& subject, int counted,
                                      const PictureCheck* check, const std::string& user,
                                      const std::string& reason, std::int64_t now_ms) {
  if (user.empty()) return fail("a correction must name the user who makes it");
  if (reason.empty()) return fail("a correction must give its reason");
  if (counted < 0 || counted > 5000) return fail("the count must be a whole number from 0 to 5000");
  LedgerQuery q;
  q.kind = "roll_call";
  q.subject = subject;
  q.limit = 1;
  auto found = store.entries(Chain::kLedger, q);
  if (!found) return std::unexpected(found.error());
  if (found->empty()) return fail(ErrorCode::kNotFound, "no roll call '" + subject + "'");
  const auto original = RollCall::from_json(parse(found->front().body));
  json body = {{"roll_call_seq", found->front().seq},
               {"counted", counted},
               {"counted_as_taken",
                original && original->counted ? json(*original->counted) : json(nullptr)},
               {"reason", reason}};
  if (check) {
    if (!original || original->evidence_path.empty())
      return fail("roll call '" + subject + "' has no evidence picture to count on");
    if (check->boxes != static_cast<int>(original->boxes.size())) {
      return fail("the check is of " + std::to_string(check->boxes) + " boxes; the picture has " +
                  std::to_string(original->boxes.size()));
    }
    body["picture"] = check->to_json();
    // A spoiled picture's count teaches nothing about the counting: said with the check.
    if (!original->set_aside.empty()) body["set_aside_as_taken"] = original->set_aside;
  }
  auto canonical = canonical_body(body);
  if (!canonical) return std::unexpected(canonical.error());
  LedgerEntry e;
  e.kind = "correction";
  e.site_id = found->front().site_id;
  e.subject = subject;
  e.at_ms = now_ms;
  e.actor = user;
  e.body = std::move(*canonical);
  return store.append(Chain::kLedger, std::move(e));
}

}  // namespace

Result<LedgerEntry> correct_roll_call(LedgerStore& store, const std::string& subject, int counted,
                                      const std::string& user, const std::string& reason,
                                      std::int64_t now_ms) {
  return append_correction(store, subject, counted, nullptr, user, reason, now_ms);
}

Result<LedgerEntry> count_on_picture(LedgerStore& store, const std::string& subject,
                                     const PictureCheck& check, const std::string& user,
                                     const std::string& reason, std::int64_t now_ms) {
  return append_correction(store, subject, check.people(), &check, user, reason, now_ms);
}

std::map<std::string, SiteCalibration> site_calibrations(const LedgerExtract& records) {
  std::map<std::string, std::vector<CheckedCall>> by_site;
  for (const LedgerExtract::Call& c : records.roll_calls) {
    // A count the camera spoiled teaches nothing about the counting.
    if (c.check && c.counted_as_taken && c.set_aside_as_taken.empty())
      by_site[c.roll_call.site_id].push_back({*c.counted_as_taken, *c.check});
  }
  std::map<std::string, SiteCalibration> out;
  for (const auto& [site, calls] : by_site) out[site] = calibrate(calls);
  return out;
}

CheckPlan plan_checks(const LedgerExtract& records, const std::vector<Site>& sites,
                      double under_fraction, const AuditConfig& audit, int per_site, size_t limit) {
  CheckPlan plan;
  std::map<std::string, int> checked;
  for (const LedgerExtract::Call& c : records.roll_calls) {
    if (c.check) ++checked[c.roll_call.site_id];
  }
  std::map<std::string, int> needed;
  for (const Site& s : sites) {
    const int done = checked[s.id];
    plan.sites.push_back({s.id, done, std::max(0, per_site - done)});
    if (done < per_site) needed[s.id] = per_site - done;
  }
  // The first roll call of each session (site, date, period).
  std::map<std::tuple<std::string, std::string, std::string>, std::int64_t> first;
  for (const LedgerExtract::Call& c : records.roll_calls) {
    const RollCall& r = c.roll_call;
    auto [it, fresh] = first.try_emplace({r.site_id, r.date, r.period}, r.scheduled_ms);
    if (!fresh) it->second = std::min(it->second, r.scheduled_ms);
  }
  const auto why_of = [&](const LedgerExtract::Call& c) -> std::string {
    const RollCall& r = c.roll_call;
    if (r.evidence_count && r.audit_count &&
        counts_disagree(*r.evidence_count, *r.audit_count, audit))
      return "disputed";
    const double line = under_fraction * r.expected;
    if (std::abs(*r.counted - line) <= std::max(2.0, 0.1 * r.expected)) return "near_line";
    if (first[{r.site_id, r.date, r.period}] == r.scheduled_ms) return "first_of_session";
    return "";
  };
  static constexpr std::string_view kOrder[] = {"disputed", "near_line", "first_of_session"};
  std::vector<CheckPlan::Proposal> candidates;
  for (const LedgerExtract::Call& c : records.roll_calls) {
    const RollCall& r = c.roll_call;
    if (!needed.contains(r.site_id) || c.corrected || r.evidence_path.empty() || !r.standing())
      continue;
    if (std::string why = why_of(c); !why.empty()) candidates.push_back({&c, std::move(why)});
  }
  const auto rank = [](const std::string& why) {
    return std::ranges::find(kOrder, why) - std::begin(kOrder);
  };
  std::ranges::stable_sort(candidates, [&](const auto& a, const auto& b) {
    return std::tuple(rank(a.why), -a.call->roll_call.scheduled_ms) <
           std::tuple(rank(b.why), -b.call->roll_call.scheduled_ms);
  });
  for (CheckPlan::Proposal& p : candidates) {
    if (plan.proposals.size() >= limit) break;
    int& left = needed[p.call->roll_call.site_id];
    if (left == 0) continue;
    --left;
    plan.proposals.push_back(std::move(p));
  }
  return plan;
}

std::map<std::string, SiteCalibration> calibrations_of(
    const std::vector<LedgerEntry>& corrections) {
  std::map<std::string, std::pair<std::string, std::optional<CheckedCall>>> latest;  // by subject
  for (const LedgerEntry& e : corrections) {
    if (e.kind != "correction") continue;
    const json body = json::parse(e.body, nullptr, /*allow_exceptions=*/false);
    std::optional<CheckedCall> call;
    if (body.is_object() && body.contains("picture") &&
        body.value("counted_as_taken", json()).is_number_integer() &&
        !body.contains("set_aside_as_taken")) {
      if (auto check = PictureCheck::from_json(body["picture"]))
        call = CheckedCall{body["counted_as_taken"].get<int>(), std::move(*check)};
    }
    latest[e.subject] = {e.site_id, std::move(call)};  // a later plain correction ends a check
  }
  std::map<std::string, std::vector<CheckedCall>> by_site;
  for (auto& [subject, site_call] : latest) {
    if (site_call.second) by_site[site_call.first].push_back(std::move(*site_call.second));
  }
  std::map<std::string, SiteCalibration> out;
  for (const auto& [site, calls] : by_site) out[site] = calibrate(calls);
  return out;
}

std::optional<int> estimated(const std::map<std::string, SiteCalibration>& calibrations,
                             const LedgerExtract::Call& call) {
  const auto cal = calibrations.find(call.roll_call.site_id);
  const std::optional<int> taken = call.corrected ? call.counted_as_taken : call.roll_call.counted;
  if (cal == calibrations.end() || !taken) return std::nullopt;
  return cal->second.estimate(*taken);
}

}  // namespace att
