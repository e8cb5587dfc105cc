// The province's own evaluation set: the roll calls that an auditor counted on their evidence
// picture (records.h, LedgerExtract::Call::check), each as the truth file attendance-eval reads
// (counting/eval.h): every box of the counter that the auditor kept, and every person the
// auditor added as a point. This part chooses the roll calls, names their files and writes the
// truth and the index; attendance-server export-eval (analysis/app/eval_export.h) copies the
// pictures and writes the folder. Pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/domain/records.h"
#include "counting/eval.h"

namespace att {

// Which roll calls: all empty = every one.
struct EvalSetFilter {
  std::string site_id;    // one site's, or "" for every site's
  std::string from_date;  // the first and last day, YYYY-MM-DD in the province's time
  std::string to_date;    // (the roll call's own date), both included; "" = unbounded
  bool matches(const RollCall& r) const;
};

// Checks the filter's dates (YYYY-MM-DD, a real day, from_date not after to_date); the
// message names the option at fault ("--from", "--to").
Status check_filter(const EvalSetFilter& filter);

// One roll call of the set.
struct EvalSetItem {
  // The file name without extension, unique in the set: <site>_<yyyy-mm-dd>_<hhmm> from the roll
  // call's site, date and time of day in the province's time, and _<seq> (the roll call's
  // ledger entry) after it when another roll call of the set has that name already.
  std::string name;
  std::vector<TruthItem> truth;     // the kept boxes (in the counter's order), then the points
  std::string subject;              // the roll call's ledger subject
  std::int64_t seq = 0;             // its ledger entry ...
  std::int64_t correction_seq = 0;  // ... and the correction that holds the check
  std::string site_id, date, period, time;  // time: "07:45", the province's time
  std::optional<int> counted;               // the count the roll call took
  int verified = 0;                         // the people the auditor found (truth.size())
  int boxes = 0, removed = 0, added = 0;    // the check: boxes on the picture, taken out, added
  std::string checked_by;
  std::string evidence_path;  // relative to the data directory
  std::string evidence_sha256;
};

struct EvalSet {
  std::vector<EvalSetItem> items;  // in ledger order
  // Roll calls that match but cannot be in the set, each "<subject>: <why>" (a check of
  // another number of boxes than the roll call recorded, no evidence picture).
  std::vector<std::string> left_out;
};

// The roll calls of `records` that match `filter` and whose latest correction was counted on
// the picture.
EvalSet eval_set(const LedgerExtract& records, const EvalSetFilter& filter);

// A roll call's verified people: each of `r.boxes` that `check` did not remove, in their order,
// then each point `check` added. A box without area (w or h not above 0) is written as the
// point at its centre, so that it stays one person and the file stays readable. Fails when the
// check is of another number of boxes than `r` recorded.
Result<std::vector<TruthItem>> verified_people(const RollCall& r, const PictureCheck& check);

// The set's index.csv (common/csv.h: UTF-8 with a BOM, CRLF), one row per item after the header
//   name,site_id,date,time,period,counted,verified,boxes,removed,added,checked_by,subject,
//   roll_call_seq,correction_seq,evidence_path,evidence_sha256
// `counted` is the count the roll call took (empty: none), `verified` the people in NAME.txt.
std::string eval_set_index_csv(const EvalSet& set);

// The index's header row as written (the first line after the BOM), by which export-eval knows
// a folder it wrote before.
extern const char kEvalSetIndexHeader[];

}  // namespace att
