// What the CSV exports and the printable reports both need when they walk the ledger's
// records: sites in the order organizers list them, a ledger entry's number as printed, the
// period summaries alone, and whether a roll call had a frame to count. Pure, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "analysis/domain/province.h"
#include "analysis/domain/records.h"
#include "analysis/domain/roll_call.h"

namespace att {

// Sites by id with their position in the list. Holds pointers into the vector it was built
// from, which must outlive it.
class SiteIndex {
 public:
  explicit SiteIndex(const std::vector<Site>& sites);
  const Site* find(const std::string& id) const;  // nullptr: not among the sites
  size_t order(const std::string& id) const;      // the site's position; past the end if unknown

 private:
  std::map<std::string, std::pair<size_t, const Site*>> by_id_;
};

// A ledger entry's number as printed: "" for 0 (not among the entries read).
std::string seq_text(std::int64_t seq);

// The period summaries of `records`, in ledger order.
std::vector<PeriodSummary> period_summaries(const LedgerExtract& records);

// False when the roll call found no frame to count (the site was offline).
bool has_frame(const RollCall& roll_call);

}  // namespace att
