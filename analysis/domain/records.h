// The attendance record as the API reads it from the ledger (through extract_ledger, as the
// exports do): roll calls with any later correction applied (the count as taken kept beside
// it), alerts with their start and end joined, period summaries; and corrections. Reading
// never changes the ledger; a correction is a new entry.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "analysis/domain/audit.h"
#include "analysis/domain/calibration.h"
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
    std::optional<int> counted_as_taken;          // when corrected: the count the roll call took
    std::vector<std::string> set_aside_as_taken;  // ... and why it was set aside, if it was
    std::string corrected_by, correction_reason;
    std::int64_t correction_seq = 0;
    // When the latest correction was counted on the picture: the person's check of it.
    std::optional<PictureCheck> check;
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
    std::optional<int> estimated;    // under-attendance compared as estimated: the people
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

// The same, counted on the picture: the count is the check's people (kept boxes and added
// points), and the check is kept in the correction ("picture"). Refused besides: a roll call
// without an evidence picture, a check of another number of boxes than the roll call recorded.
Result<LedgerEntry> count_on_picture(LedgerStore& store, const std::string& subject,
                                     const PictureCheck& check, const std::string& user,
                                     const std::string& reason, std::int64_t now_ms);

// Each site's calibration from its roll calls counted on the picture (sites without one are
// not in the map).
std::map<std::string, SiteCalibration> site_calibrations(const LedgerExtract& records);
// The roll calls most worth counting on their picture, so that each site's calibration rests
// on `per_site` checks without anyone checking 2,460 pictures a day: at the sites that have fewer
// checks, their counted roll calls with a picture (not set aside, not corrected), first those
// whose two counts disagreed at the audit (AuditConfig), then those near the alert line (within
// the larger of 2 people and a tenth of expected of under_fraction x expected), then the first
// of each session (the room as the class settles); newest first within each, at most the
// site's need each, `limit` in all.
struct CheckPlan {
  struct Proposal {
    const LedgerExtract::Call* call = nullptr;
    std::string why;  // "disputed", "near_line" or "first_of_session"
  };
  struct Site {
    std::string site_id;
    int checked = 0;  // roll calls counted on the picture
    int needed = 0;   // more to reach per_site
  };
  std::vector<Proposal> proposals;
  std::vector<Site> sites;  // every site asked for, in its order
};
CheckPlan plan_checks(const LedgerExtract& records, const std::vector<Site>& sites,
                      double under_fraction, const AuditConfig& audit, int per_site, size_t limit);

// The same from the ledger's `correction` entries alone (in seq order), as the roll book keeps
// it: each roll call's latest correction counted on the picture, unless its count was set aside.
std::map<std::string, SiteCalibration> calibrations_of(const std::vector<LedgerEntry>& corrections);

// The people a roll call's count as taken stands for by its site's calibration; none without one.
std::optional<int> estimated(const std::map<std::string, SiteCalibration>& calibrations,
                             const LedgerExtract::Call& call);

}  // namespace att
