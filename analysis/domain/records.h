// The attendance record as the API reads it from the ledger (through extract_ledger, as the
// exports do): roll calls with any later correction applied (the count as taken kept beside
// it), alerts with their start and end joined, period summaries; and corrections. Reading
// never changes the ledger; a correction is a new entry.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/domain/ledger_store.h"
#include "analysis/domain/roll_call.h"
#include "common/error.h"

namespace att {

// The records of a run of ledger entries, each with the seq of the entry it comes from.
struct LedgerExtract {
  struct Call {
    RollCall roll_call;  // as taken, but `counted` is the latest correction's when corrected
    std::int64_t seq = 0;
    std::string subject;  // the ledger subject, which a correction names
    bool corrected = false;
    std::optional<int> counted_as_taken;  // when corrected: the count the roll call took
    std::string corrected_by, correction_reason;
    std::int64_t correction_seq = 0;
  };
  struct Alert {
    std::string subject, site_id, kind;  // kind: to_string(AlertKind)
    std::int64_t started_ms = 0, detected_ms = 0;
    std::optional<std::int64_t> ended_ms;  // none: still open
    double minutes = 0;                    // when ended
    std::string why_ended;                 // as recorded (English); see alert_end_vi()
    std::optional<int> count;        // the count that opened it (under-attendance; the node's count
                                     // of its picture for a count dispute), if recorded
    std::optional<int> audit_count;  // a count dispute: the service's count of that picture
    int expected = 0;                // the site's expected attendees then; 0 when not recorded
    std::string evidence_path, evidence_sha256;
    std::int64_t opened_seq = 0, closed_seq = 0;  // 0: not among the entries read
  };
  struct Summary {
    PeriodSummary summary;
    std::int64_t seq = 0;
    std::int64_t at_ms = 0;  // the period's end
  };
  std::vector<Call> roll_calls;    // in ledger order
  std::vector<Alert> alerts;       // in the order they opened
  std::vector<Summary> summaries;  // in ledger order
  std::int64_t entries = 0;        // ledger entries read
  std::int64_t first_seq = 0;      // the range read (0 when none) ...
  std::int64_t last_seq = 0;       // ...
  std::string last_hash;           // ... and the hash of its last entry
};

// Reads `entries`, in seq order as LedgerStore::entries returns them (all of the ledger, or a
// range: the footer of a report names what was read): roll_call, correction, alert_opened,
// alert_closed and period_summary entries; other kinds only count in the range. Fails, naming the
// entry's seq and kind, on a body that is not what its kind says: an export to be signed must not
// leave out a record silently. An alert closed without its opening among the entries (a partial
// range) keeps what its closing says; a correction of a roll call not among them is ignored.
Result<LedgerExtract> extract_ledger(const std::vector<LedgerEntry>& entries);

struct RecordFilter {
  std::string site_id, date, period;  // "" = any; alerts are filtered by site only
  bool matches(const std::string& site, const std::string& date, const std::string& period) const;
};

// Every ledger entry of the record (of one site, or all with ""), extracted.
Result<LedgerExtract> read_records(LedgerStore& store, const std::string& site_id);

nlohmann::json to_json(const LedgerExtract::Call& call);
nlohmann::json to_json(const LedgerExtract::Alert& alert);

// An auditor's recount of a roll call from its evidence: appended to the ledger as a
// `correction` naming the user and the reason. Refused: an unknown roll call, a count below
// 0 or above 5000, an empty user or reason.
Result<LedgerEntry> correct_roll_call(LedgerStore& store, const std::string& subject, int counted,
                                      const std::string& user, const std::string& reason,
                                      std::int64_t now_ms);

}  // namespace att
