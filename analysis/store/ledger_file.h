// The ledger of a SQLite database file: what `attendance-server verify` and
// GET /api/v1/ledger/verify check (a live database, or an auditor's copy with its
// ledger.head beside it).
#pragma once

#include <filesystem>

#include "analysis/domain/ledger.h"
#include "common/error.h"

namespace att {

// Opens `db_path` with SqliteStore read-only (nothing is created, migrated or written: a copy
// is left byte for byte as it was) and checks both chains, read through LedgerStore, and the
// head beside it (verify_stored_ledger). Fails (rather than reporting problems) when the file
// is missing, cannot be opened, or has no ledger tables.
Result<LedgerReport> verify_database(const std::filesystem::path& db_path);

}  // namespace att
