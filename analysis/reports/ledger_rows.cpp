#include "analysis/reports/ledger_rows.h"

namespace att {

SiteIndex::SiteIndex(const std::vector<Site>& sites) {
  for (size_t i = 0; i < sites.size(); ++i) by_id_.try_emplace(sites[i].id, i, &sites[i]);
}

const Site* SiteIndex::find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.second;
}

size_t SiteIndex::order(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? by_id_.size() : it->second.first;
}

std::string seq_text(std::int64_t seq) {
  return seq > 0 ? std::to_string(seq) : "";
}

std::vector<PeriodSummary> period_summaries(const LedgerExtract& records) {
  std::vector<PeriodSummary> out;
  for (const auto& s : records.summaries) out.push_back(s.summary);
  return out;
}

bool has_frame(const RollCall& roll_call) {
  return roll_call.sequence >= 0 && roll_call.captured_at_ms > 0;
}

}  // namespace att
