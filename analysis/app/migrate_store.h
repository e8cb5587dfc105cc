// `attendance-server migrate-store`: a province's SQLite database (attendance.db, ledger.head
// beside it) copied whole into an empty PostgreSQL database, for a service that moves from one
// process to several (storage.backend postgres).
//
// What is copied, every column of every row as stored: sites, observations and heartbeats (with
// their ids, so that each row is the same row on both sides; the identity sequences are then
// set past the largest id), site_setups, users, sessions, and the ledger and audit trail byte
// for byte (seq, prev_hash, hash and body as stored, so the chains and their hashes are the
// same); chain_heads is then moved to the copied chains' ends. What is not: the pictures and
// reports under the data directory (frames/, evidence/, reports/), which are files: the
// PostgreSQL service processes must use this data directory (shared, or copied to them).
//
// Order, each step refusing with nothing written to PostgreSQL when it fails:
//  1. the SQLite file is opened read-only (nothing in its directory changes but SQLite's own
//     -shm beside it); its schema must be the latest this build knows (an older file: start
//     attendance-server on it once, which migrates it); its ledger must verify against
//     ledger.head (verify_stored_ledger), else nothing is copied;
//  2. the PostgreSQL database must hold no rows in the service's tables (an empty database, or
//     one whose schema is migrated and empty); it is then migrated (PgStore::open);
//  3. one transaction copies every table (COPY FROM STDIN) from one read snapshot of the SQLite
//     file, moves chain_heads forward, resets the identity sequences and compares, table by
//     table, the rows it holds with the rows read, and the chains' ends with the ends verify
//     checked (a difference: the file changed meanwhile; stop the service first). Any failure
//     rolls the whole copy back: the target is left as step 2 left it, migrated and empty.
//  4. after the commit, the target is opened with PgStore and its ledger verified; its rows are
//     counted again, and its chain heads compared with the source's chain ends.
//
// Run it with the service stopped: what the service writes to the SQLite file after the read
// snapshot is taken is not copied (and a ledger append after the verify is refused as a change).
// Not thread-safe with respect to other writers of either database; callable from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "analysis/domain/ledger.h"
#include "common/error.h"

namespace att {

// One table's rows on both sides.
struct MigratedTable {
  std::string name;              // "sites", "observations", ...
  std::int64_t source_rows = 0;  // in the SQLite file's snapshot
  std::int64_t target_rows = 0;  // in PostgreSQL after the commit
};

struct MigrateReport {
  std::vector<MigratedTable> tables;  // in the order copied (parents before children)
  LedgerReport source_ledger;         // the SQLite file's verify (intact, or nothing is copied)
  LedgerReport target_ledger;         // PostgreSQL's verify after the commit
  LedgerHead source_ends;             // the SQLite chains' last entries (seq 0: empty chain)
  LedgerHead target_heads;            // chain_heads in PostgreSQL after the commit
  double copy_seconds = 0;            // the copy transaction, BEGIN to COMMIT
  double total_seconds = 0;           // everything, checks before and after included
  std::filesystem::path data_dir;     // the SQLite file's directory: its pictures stay there
  // What the checks after the commit found that does not agree (row counts, heads, verify
  // problems of the target, or a check that could not be made), one a line; empty when the
  // copy is whole. The copy stands either way (it committed).
  std::vector<std::string> problems;
  bool ok() const { return problems.empty(); }
};

// Copies `sqlite_db` into the PostgreSQL database `postgres_conninfo` names (libpq keyword=value
// or postgresql:// URL), as described above. Fails, with PostgreSQL as it was or, from step 3
// on, migrated and empty:
//  - kNotFound: no such SQLite file;
//  - kInvalid: a schema that is not the latest on either side, or a table or column this
//    command does not know of (a newer build's);
//  - kCorrupt: the SQLite ledger does not verify (the message lists its problems, one a line,
//    then the verify line);
//  - kConflict: the target holds rows (the message names the first table found), or the SQLite
//    file changed during the copy;
//  - kUnavailable, kIo: a database could not be reached or failed (PostgreSQL's message, with
//    the table and line of a row it refused).
Result<MigrateReport> migrate_store(const std::filesystem::path& sqlite_db,
                                    const std::string& postgres_conninfo);

// "verify: ledger N entries, audit trail M entries, chains intact" (or "..., K problems").
std::string verify_line(const LedgerReport& report);

// The report for a person: each table's rows on both sides, the verify line of each side, the
// chains' ends, the time taken, the problems, and that the pictures were not moved.
std::string format_migrate_report(const MigrateReport& report);

}  // namespace att
