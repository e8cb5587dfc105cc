#include "analysis/store/ledger_file.h"

#include <sqlite3.h>

#include <string>

#include "common/sqlite_db.h"

namespace att {

Result<std::vector<LedgerEntry>> read_ledger_entries(sqlite3* db, Chain chain,
                                                     const LedgerQuery& query) {
  // Only fixed fragments are joined here (the table name comes from chain_table()); every
  // value is bound.
  std::string sql = std::string(
                        "SELECT seq, kind, site_id, subject, at_ms, recorded_at_ms, actor, "
                        "body, prev_hash, hash FROM ") +
                    chain_table(chain) + " WHERE seq >= ?1";
  if (!query.kind.empty()) sql += " AND kind = ?2";
  if (!query.site_id.empty()) sql += " AND site_id = ?3";
  if (!query.subject.empty()) sql += " AND subject = ?4";
  sql += " ORDER BY seq LIMIT ?5";
  auto stmt = sql::prepare(db, sql.c_str());
  if (!stmt) return std::unexpected(stmt.error());
  sqlite3_stmt* s = stmt->get();
  sql::bind(s, 1, query.from_seq);
  if (!query.kind.empty()) sql::bind(s, 2, query.kind);
  if (!query.site_id.empty()) sql::bind(s, 3, query.site_id);
  if (!query.subject.empty()) sql::bind(s, 4, query.subject);
  sql::bind(s, 5, static_cast<std::int64_t>(query.limit > 0 ? query.limit : -1));
  std::vector<LedgerEntry> out;
  while (true) {
    auto row = sql::step(db, s, std::string("read ") + chain_name(chain));
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    LedgerEntry e;
    e.seq = sql::column_int64(s, 0);
    e.kind = sql::column_text(s, 1);
    e.site_id = sql::column_text(s, 2);
    e.subject = sql::column_text(s, 3);
    e.at_ms = sql::column_int64(s, 4);
    e.recorded_at_ms = sql::column_int64(s, 5);
    e.actor = sql::column_text(s, 6);
    e.body = sql::column_text(s, 7);
    e.prev_hash = sql::column_text(s, 8);
    e.hash = sql::column_text(s, 9);
    out.push_back(std::move(e));
  }
  return out;
}

Result<LedgerReport> verify_database(const std::filesystem::path& db_path) {
  // The head first: the store writes it only after an append committed, so a head read before
  // the rows never names an entry the rows could lack without a deletion.
  const auto head_path = ledger_head_path(db_path);
  auto head = read_ledger_head(head_path);

  std::error_code ec;
  if (!std::filesystem::is_regular_file(db_path, ec)) {
    return fail("cannot open database " + db_path.string() + ": no such file");
  }
  auto db = sql::open(db_path, sql::read_only());
  if (!db) return std::unexpected(db.error());
  auto tables = sql::prepare(db->get(),
                             "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
                             "name IN ('ledger', 'audit_trail')");
  if (!tables) {
    return fail(db_path.string() + " is not a usable SQLite database: " + tables.error().message);
  }
  auto counted = sql::step(db->get(), tables->get(), "list tables");
  if (!counted) return std::unexpected(counted.error());
  if (!*counted || sql::column_int64(tables->get(), 0) != 2) {
    return fail(db_path.string() +
                " has no ledger (it came with schema version 5; start attendance-server on it "
                "once to migrate)");
  }

  // One read transaction: both chains as of one moment.
  if (auto s = sql::exec(db->get(), "BEGIN"); !s) return std::unexpected(s.error());
  LedgerQuery all;
  all.limit = 0;
  auto ledger = read_ledger_entries(db->get(), Chain::kLedger, all);
  auto audit = ledger ? read_ledger_entries(db->get(), Chain::kAudit, all) : ledger;
  (void)sql::exec(db->get(), "COMMIT");
  if (!ledger) return std::unexpected(ledger.error());
  if (!audit) return std::unexpected(audit.error());

  return verify_ledger(*ledger, *audit, head, "ledger.head beside " + db_path.filename().string());
}

}  // namespace att
