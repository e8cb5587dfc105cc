// The attendance record as the API reads it from the ledger (through extract_ledger, as the
// exports do): roll calls with any later correction applied (the count as taken kept beside
// it), alerts with their start and end joined, period summaries; and corrections. Reading
// never changes the ledger; a correction is a new entry.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/export.h"
#include "analysis/store.h"
#include "common/error.h"

namespace att {

struct RecordFilter {
  std::string site_id, date, period;  // "" = any; alerts are filtered by site only
  bool matches(const std::string& site, const std::string& date, const std::string& period) const;
};

// Every ledger entry of the record (of one site, or all with ""), extracted.
Result<LedgerExtract> read_records(Store& store, const std::string& site_id);

nlohmann::json to_json(const LedgerExtract::Call& call);
nlohmann::json to_json(const LedgerExtract::Alert& alert);

// An auditor's recount of a roll call from its evidence: appended to the ledger as a
// `correction` naming the user and the reason. Refused: an unknown roll call, a count below
// 0 or above 5000, an empty user or reason.
Result<LedgerEntry> correct_roll_call(Store& store, const std::string& subject, int counted,
                                      const std::string& user, const std::string& reason,
                                      std::int64_t now_ms);

}  // namespace att
