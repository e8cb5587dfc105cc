// The ledger of a SQLite database file, read directly: what `attendance-server verify` and
// GET /api/v1/ledger/verify check (a live database, or an auditor's copy with its
// ledger.head), and the query the store's readers share.
#pragma once

#include <filesystem>
#include <vector>

#include "analysis/domain/ledger.h"
#include "analysis/domain/store.h"
#include "common/error.h"

struct sqlite3;

namespace att {

// Opens `db_path` read-only and checks both chains and the head beside it (verify_ledger).
// Fails (rather than reporting problems) when the file cannot be opened or has no ledger
// tables.
Result<LedgerReport> verify_database(const std::filesystem::path& db_path);

// Rows of a chain matching `query`, in seq order, on an open connection (the store's readers
// and verify_database share it). Within a transaction of the caller's when it must be
// consistent with other reads.
Result<std::vector<LedgerEntry>> read_ledger_entries(sqlite3* db, Chain chain,
                                                     const LedgerQuery& query);

}  // namespace att
