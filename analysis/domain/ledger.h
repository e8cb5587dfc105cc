// The attendance ledger's hash chains: how an entry's hash is made, how a chain and its head
// anchor are checked, and `verify` of a database file. Two chains share these rules: the
// ledger (roll calls, alerts, corrections) and the audit trail (views and exports of
// records). The store appends (LedgerStore::append); nothing here writes to the database, and
// verify_stored_ledger reads it through LedgerStore::entries only, whatever the backend.
//
// The hash of an entry, which an auditor can recompute with any tool:
//
//   hash = lowercase hex SHA-256 of the concatenation, for each of the 8 fields
//            prev_hash, kind, site_id, subject, at_ms, recorded_at_ms, actor, body
//          in that order, of  <length> ":" <bytes> ","
//   where <bytes> is the field's UTF-8 text as stored (at_ms and recorded_at_ms in decimal
//   ASCII, "-" before a negative number) and <length> is the number of those bytes in
//   decimal ASCII (a netstring). prev_hash is the previous entry's hash, or 64 "0"s for the
//   first entry. The seq is not hashed: a reorder shows up as a broken link, not an edit.
//
//   Example: prev_hash "00..0" (64), kind "alert", site_id "td-01", subject "a/1", at_ms 5,
//   recorded_at_ms 6, actor "system", body "{}" hash the bytes
//     64:0000000000000000000000000000000000000000000000000000000000000000,5:alert,5:td-01,
//     3:a/1,1:5,1:6,6:system,2:{},
//   (one line, no spaces or line breaks).
//
// The body is hashed byte for byte as stored; verification never re-serialises JSON. Callers
// make it with canonical_body().
//
// The head anchor: each chain's last entry recorded apart from its rows (LedgerStore::
// recorded_head). SQLite's store writes `ledger.head` beside the database file after each
// append (atomically, fsync'd): one line per chain, "<chain> <seq> <hash>\n", chain "ledger"
// then "audit_trail", seq 0 and 64 "0"s for an empty chain. PostgreSQL's moves the chain's
// row of table chain_heads in the append's own transaction. Deleting the last entries leaves
// no gap and no broken link in the chain; the head still names the deleted last entry.
// Anchors kept beside the rows only catch edits of the rows alone; for more, copy the head's
// lines elsewhere (a daily report) and compare.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/domain/ledger_store.h"
#include "common/error.h"

namespace att {

// The bytes hashed for `entry` (its seq and hash are ignored), as described above.
std::string ledger_hash_input(const LedgerEntry& entry);
std::string ledger_hash(const LedgerEntry& entry);

// The body to store for `body`: body.dump(), compact, object keys in nlohmann::json's own
// order (sorted bytewise, std::map), non-ASCII text as UTF-8. Fails on a string that is not
// valid UTF-8 rather than storing something other than what was given.
Result<std::string> canonical_body(const nlohmann::json& body);

// What every store checks before it appends `entry` (LedgerStore::append): kind, subject and
// actor given, a body that is JSON; recorded_at_ms 0 becomes now, by the system clock.
Status prepare_append(Chain chain, LedgerEntry& entry);

const char* chain_name(Chain chain);   // "ledger", "audit trail": for people
const char* chain_table(Chain chain);  // "ledger", "audit_trail": the table and head line

enum class ProblemKind {
  kEdited,     // an entry's hash does not match its content
  kDeleted,    // entries missing: a gap in seq, or a link to an entry no longer there
  kReordered,  // an entry linked to another entry than its predecessor by seq
  kInserted,   // an entry the chain passes by: its successor links to its predecessor
  kTruncated,  // the chain ends before, or elsewhere than, where ledger.head says it does
};
const char* to_string(ProblemKind kind);  // "edited", "deleted", ...

struct LedgerProblem {
  Chain chain = Chain::kLedger;
  std::int64_t seq = 0;  // the entry (the first missing one when deleted); 0: the whole chain
  ProblemKind what = ProblemKind::kEdited;
  std::string message;  // says what was found, naming the seq numbers concerned
};
// One line: "ledger entry 17: edited: its hash does not match its content"
// ("audit trail entry 3: ...", "ledger: truncated: ..." for seq 0).
std::string describe(const LedgerProblem& problem);

// Checks one chain, given every row of its table in seq order. Problems are in seq order:
//  - edited: an entry's hash is not the hash of its content;
//  - deleted: a gap in seq (the missing seq numbers are named); an entry whose prev_hash
//    matches no entry (the one before it was deleted and the rest renumbered, or rewritten
//    with a recomputed hash); a first entry whose prev_hash is not zeros;
//  - reordered: an entry whose prev_hash is the hash of another entry than its predecessor
//    (it names which one it follows); a swap of two entries names both, and the entries
//    after each, whose links broke too; a seq changed without a gap in the chain;
//  - inserted: an entry whose successor links to the entry before it.
std::vector<LedgerProblem> verify_chain(const std::vector<LedgerEntry>& rows_in_seq_order,
                                        Chain chain = Chain::kLedger);

// `ledger.head` in the database's directory.
std::filesystem::path ledger_head_path(const std::filesystem::path& db_path);
std::string format_ledger_head(const LedgerHead& head);
Result<LedgerHead> parse_ledger_head(const std::string& text);
// nullopt when the file does not exist; an error when it cannot be read or parsed.
Result<std::optional<LedgerHead>> read_ledger_head(const std::filesystem::path& path);
Status write_ledger_head(const std::filesystem::path& path, const LedgerHead& head);

// Checks a chain's end against its head: "truncated" when the head names an entry beyond the
// last row (the last entries were deleted) or an entry whose hash is not the head's (the end
// was replaced). Rows after the head are not problems: they were appended after the head was
// read (verify reads the head before the rows), or the head's write did not survive a crash.
std::vector<LedgerProblem> verify_head(const std::vector<LedgerEntry>& rows_in_seq_order,
                                       const ChainHead& head, Chain chain);

struct LedgerReport {
  std::int64_t ledger_entries = 0;
  std::int64_t audit_entries = 0;
  bool head_found = false;
  std::vector<LedgerProblem> problems;  // the ledger's, then the audit trail's, in seq order
  bool intact() const { return problems.empty(); }
};

// Both chains checked against themselves and against the head: the problems of verify_chain
// and verify_head, in seq order, the ledger's first. A head that cannot be used (an error) or
// is missing (none) is a kTruncated problem of each chain with entries, since deletions at
// the end could not be seen; `head_name` names where the head should be, for that message.
LedgerReport verify_ledger(const std::vector<LedgerEntry>& ledger,
                           const std::vector<LedgerEntry>& audit,
                           const Result<std::optional<LedgerHead>>& head,
                           const std::string& head_name);

// The same check of the chains as `store` holds them, read through LedgerStore::entries in
// pages of at most `page_size` entries (each page a read of its own: entries are only ever
// appended, so the pages of a chain make up the chain as it stood at some moment, or show
// where it was tampered with). Read `head` before calling: a head read after the rows could
// name entries appended meanwhile, and they would look deleted. Fails when the entries cannot
// be read.
Result<LedgerReport> verify_stored_ledger(LedgerStore& store,
                                          const Result<std::optional<LedgerHead>>& head,
                                          const std::string& head_name, int page_size = 5000);

// verify_stored_ledger with the store's own recorded head (LedgerStore::recorded_head), read
// first.
Result<LedgerReport> verify_stored_ledger(LedgerStore& store, int page_size = 5000);

}  // namespace att
