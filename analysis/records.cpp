#include "analysis/records.h"

#include <algorithm>

#include "analysis/ledger.h"

namespace att {

using nlohmann::json;

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

Result<LedgerExtract> read_records(Store& store, const std::string& site_id) {
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
          {"closed_seq", a.closed_seq}};
}

Result<LedgerEntry> correct_roll_call(Store& store, const std::string& subject, int counted,
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
  if (found->empty()) return fail("no roll call '" + subject + "'");
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
