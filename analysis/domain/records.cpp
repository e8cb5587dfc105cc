#include "analysis/domain/records.h"

#include <algorithm>
#include <map>

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
        if (!call.corrected) call.counted_as_taken = call.roll_call.counted;
        call.corrected = true;
        call.roll_call.counted = body["counted"].get<int>();
        call.roll_call.set_aside.clear();  // counted by a person from the evidence: it stands
        call.corrected_by = e.actor;
        call.correction_reason = body.value("reason", "");
        call.correction_seq = e.seq;
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
          {"audit_count", a.audit_count ? json(*a.audit_count) : json(nullptr)}};
}

Result<LedgerEntry> correct_roll_call(LedgerStore& store, const std::string& subject, int counted,
                                      const std::string& user, const std::string& reason,
                                      std::int64_t now_ms) {
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

}  // namespace att
