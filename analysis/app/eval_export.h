// `attendance-server export-eval`: the province's own evaluation set written to a folder that
// attendance-eval --images reads. For every roll call an auditor counted on its picture
// (analysis/reports/eval_set.h): NAME.jpg, the evidence picture byte for byte as stored (its
// SHA-256 checked against the ledger), and NAME.txt, the people the auditor verified (the
// counter's boxes kept, as "x1 y1 x2 y2", and the people added, as "x y"); and index.csv, each
// file's roll call and ledger entries, so that an auditor can trace a file back to the ledger.
//
// The database is opened read-only (it may be the running service's, or an auditor's copy):
// nothing in the data directory changes. The folder is written beside `out` under a temporary
// name and renamed to `out` when complete, so `out` never holds half a set. `out` may not exist
// yet (its parent must), may be an empty folder, or may be a set this command wrote before
// (index.csv with this header, and nothing but index.csv, *.jpg and *.txt), which is replaced
// whole; anything else is refused and left as it is.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "analysis/app/server_config.h"
#include "analysis/reports/eval_set.h"
#include "common/error.h"

namespace att {

struct EvalExportResult {
  int written = 0;                    // image pairs in the folder
  std::vector<std::string> left_out;  // roll calls that match but are not there, with why
  std::filesystem::path out;          // the folder written
};

// Fails, writing nothing: kInvalid for a filter that is not valid (check_filter) or names a
// site not in config.sites; kConflict for an `out` that is refused (see above); kNotFound for
// an `out` whose parent folder does not exist or a data directory without a database; kIo or
// kCorrupt for a database that cannot be read. A roll call whose picture is missing or no
// longer has the SHA-256 its ledger entry names is left out, with why, not a failure.
Result<EvalExportResult> export_eval_set(const ServerConfig& config,
                                         const std::filesystem::path& out,
                                         const EvalSetFilter& filter);

}  // namespace att
