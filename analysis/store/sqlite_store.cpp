#include "analysis/store/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>

#include "analysis/domain/ledger.h"
#include "analysis/store/columns.h"
#include "analysis/store/connection_pool.h"
#include "analysis/store/migrations.h"
#include "analysis/store/sqlite_writer.h"
#include "common/log.h"
#include "common/sqlite_db.h"
#include "protocol/boxes.h"

namespace att {
namespace {

using sql::column_text;
using sql::Db;
using sql::exec;
using sql::prepare;
using sql::Stmt;

Observation read_observation(sqlite3_stmt* s) {
  Observation o;
  o.site_id = column_text(s, 0);
  o.sequence = sqlite3_column_int64(s, 1);
  o.captured_at_ms = sqlite3_column_int64(s, 2);
  o.received_at_ms = sqlite3_column_int64(s, 3);
  o.count = sqlite3_column_int(s, 4);
  o.boxes = boxes_from_json(nlohmann::json::parse(column_text(s, 5), nullptr, false));
  o.detector = column_text(s, 6);
  o.width = sqlite3_column_int(s, 7);
  o.height = sqlite3_column_int(s, 8);
  o.frame_path = column_text(s, 9);
  o.frame_sha256 = column_text(s, 10);
  o.frame_count = sqlite3_column_int(s, 11);
  o.health = column_text(s, 12);
  o.counted_by = column_text(s, 13) == "node" ? CountedBy::kNode : CountedBy::kService;
  if (sqlite3_column_type(s, 14) != SQLITE_NULL) o.audit_count = sqlite3_column_int(s, 14);
  return o;
}

Result<int> user_version(sqlite3* db) {
  auto stmt = prepare(db, "PRAGMA user_version");
  if (!stmt) return std::unexpected(stmt.error());
  auto row = sql::step(db, stmt->get(), "read schema version");
  if (!row) return std::unexpected(row.error());
  if (!*row) return fail("read schema version: no answer");
  return sqlite3_column_int(stmt->get(), 0);
}

}  // namespace

Status migrate(sqlite3* db, std::span<const Migration> migrations) {
  auto current = user_version(db);
  if (!current) return std::unexpected(current.error());
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  if (*current > latest) {
    return fail("database schema version " + std::to_string(*current) +
                " is newer than this build knows (" + std::to_string(latest) +
                "); run a newer attendance-server");
  }
  int expected = 1;
  for (const Migration& m : migrations) {  // checked whole before anything is applied
    if (m.version != expected++) return fail("migrations must be numbered 1, 2, 3, ... in order");
  }
  auto log = log::get("store");
  for (const Migration& m : migrations) {
    if (m.version <= *current) continue;
    if (auto s = exec(db, "BEGIN IMMEDIATE"); !s) return s;
    auto applied = exec(db, m.sql);
    if (applied) {
      const std::string bump = "PRAGMA user_version = " + std::to_string(m.version);
      applied = exec(db, bump.c_str());
    }
    if (!applied) {
      (void)exec(db, "ROLLBACK");
      return fail("migration " + std::to_string(m.version) + " (" + m.name +
                  ") failed and was rolled back: " + applied.error().message);
    }
    if (auto s = exec(db, "COMMIT"); !s) return s;
    log->info("schema migrated to version {} ({})", m.version, m.name);
  }
  return {};
}

namespace {

// Whether the ledger's tables exist (a database migrated with a shorter list has none).
Result<bool> has_ledger_tables(sqlite3* db) {
  auto stmt = prepare(db,
                      "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
                      "name IN ('ledger', 'audit_trail')");
  if (!stmt) return std::unexpected(stmt.error());
  if (sqlite3_step(stmt->get()) != SQLITE_ROW) return fail(sql::error(db, "list tables"));
  return sqlite3_column_int(stmt->get(), 0) == 2;
}

// Rows of a chain matching `query`, in seq order.
Result<std::vector<LedgerEntry>> read_ledger_entries(sqlite3* db, Chain chain,
                                                     const LedgerQuery& query) {
  // Only fixed fragments are joined here (the table name comes from chain_table()); every
  // value is bound.
  std::string sql = std::string("SELECT ") + columns::kLedgerEntry + " FROM " + chain_table(chain) +
                    " WHERE seq >= ?1";
  if (!query.kind.empty()) sql += " AND kind = ?2";
  if (!query.site_id.empty()) sql += " AND site_id = ?3";
  if (!query.subject.empty()) sql += " AND subject = ?4";
  sql += " ORDER BY seq LIMIT ?5";
  auto stmt = prepare(db, sql.c_str());
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
    e.kind = column_text(s, 1);
    e.site_id = column_text(s, 2);
    e.subject = column_text(s, 3);
    e.at_ms = sql::column_int64(s, 4);
    e.recorded_at_ms = sql::column_int64(s, 5);
    e.actor = column_text(s, 6);
    e.body = column_text(s, 7);
    e.prev_hash = column_text(s, 8);
    e.hash = column_text(s, 9);
    out.push_back(std::move(e));
  }
  return out;
}

// The last entry of a chain in the database (seq 0 when empty).
Result<ChainHead> chain_end(sqlite3* db, Chain chain) {
  const std::string query =
      std::string("SELECT seq, hash FROM ") + chain_table(chain) + " ORDER BY seq DESC LIMIT 1";
  auto stmt = prepare(db, query.c_str());
  if (!stmt) return std::unexpected(stmt.error());
  auto row = sql::step(db, stmt->get(), std::string("read the end of the ") + chain_name(chain));
  if (!row) return std::unexpected(row.error());
  if (!*row) return ChainHead{};
  return ChainHead{sql::column_int64(stmt->get(), 0), column_text(stmt->get(), 1)};
}

// The hash stored for entry `seq` of a chain, "" when there is no such entry.
Result<std::string> hash_at(sqlite3* db, Chain chain, std::int64_t seq) {
  const std::string query =
      std::string("SELECT hash FROM ") + chain_table(chain) + " WHERE seq = ?1";
  auto stmt = prepare(db, query.c_str());
  if (!stmt) return std::unexpected(stmt.error());
  sql::bind(stmt->get(), 1, seq);
  auto row = sql::step(db, stmt->get(), std::string("read the ") + chain_name(chain));
  if (!row) return std::unexpected(row.error());
  return *row ? column_text(stmt->get(), 0) : std::string();
}

}  // namespace

struct SqliteStore::Impl {
  std::filesystem::path path;            // the database file, as opened
  std::unique_ptr<SqliteWriter> writer;  // null when opened read-only
  bool has_ledger = false;               // set at open
  std::filesystem::path head_path;       // ledger.head beside the database
  std::mutex head_mu;                    // orders the head's writes between appending threads
  LedgerHead head;                       // guarded by head_mu: the last committed entries
  bool head_pinned = false;              // guarded by head_mu: the file is left as it is

  // Opens `count` (at least 1) read-only connections to `path` for the readers.
  Status open_readers(int count);
  // Loads ledger.head at open and reconciles it with the database (see open()).
  Status open_head(sqlite3* db);
  // After an append committed: the head moves forward to it (never back: appends in one
  // batch may return in any order) and is written.
  void advance_head(Chain chain, const LedgerEntry& entry);

  // Runs `work` on the writer (SqliteWriter::write); refused when opened read-only.
  Status write(const std::function<Status(sqlite3*)>& work) {
    if (!writer) return fail(path.string() + " is open read-only: nothing is written to it");
    return writer->write(work);
  }
  // Refuses the ledger's calls on a database that has none.
  Status need_ledger() const {
    if (has_ledger) return {};
    return fail(path.string() +
                " has no ledger (it came with schema version 5; start attendance-server on it "
                "once to migrate)");
  }
  ConnectionPool<Db> readers;  // read-only connections

  // Runs `f` on an idle reader connection, waiting for one if all are busy.
  template <typename F>
  auto read(F&& f) {
    return readers.with(std::forward<F>(f));
  }
};

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;

int SqliteStore::latest_schema_version() {
  return builtin_migrations().back().version;
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::filesystem::path& path,
                                                       SqliteStoreOptions options) {
  return open(path, builtin_migrations(), options);
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::filesystem::path& path,
                                                       std::span<const Migration> migrations,
                                                       SqliteStoreOptions options) {
  if (options.read_only) return open_read_only(path, migrations, options);
  auto writer = sql::open(path, sql::read_write_create());
  if (!writer) return std::unexpected(writer.error());
  sqlite3* db = writer->get();
  // The first statement that reads the file tells a non-database apart.
  if (auto wal = exec(db, "PRAGMA journal_mode = WAL"); !wal) {
    return fail(wal.error().code,
                path.string() + " is not a usable SQLite database: " + wal.error().message);
  }
  // FULL: a commit is on disk before the write returns, so an acknowledged frame survives a
  // power cut too; group commit (SqliteWriter) keeps that to one flush per batch.
  const char* sync =
      options.full_sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
  for (const char* pragma : {sync, "PRAGMA foreign_keys = ON"}) {
    if (auto s = exec(db, pragma); !s) return fail(path.string() + ": " + s.error().message);
  }
  if (auto s = migrate(db, migrations); !s) return fail(path.string() + ": " + s.error().message);

  auto impl = std::make_unique<Impl>();
  impl->path = path;
  if (auto s = impl->open_readers(options.readers); !s) return std::unexpected(s.error());
  auto ledger = has_ledger_tables(db);
  if (!ledger) return fail(path.string() + ": " + ledger.error().message);
  if (*ledger) {
    impl->has_ledger = true;
    impl->head_path = ledger_head_path(path);
    if (auto s = impl->open_head(db); !s) return fail(path.string() + ": " + s.error().message);
  }
  impl->writer = std::make_unique<SqliteWriter>(std::move(*writer), options.writer);
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open_read_only(
    const std::filesystem::path& path, std::span<const Migration> migrations,
    const SqliteStoreOptions& options) {
  // SQLITE_OPEN_READONLY never creates the file; asked first, the error names it plainly.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return fail(ErrorCode::kNotFound, "cannot open database " + path.string() + ": no such file");
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  if (auto s = impl->open_readers(options.readers); !s) return std::unexpected(s.error());
  sqlite3* db = impl->readers.front();
  // The first statement that reads the file tells a non-database apart.
  auto version = user_version(db);
  if (!version) {
    return fail(version.error().code,
                path.string() + " is not a usable SQLite database: " + version.error().message);
  }
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  if (*version > latest) {
    return fail(path.string() + ": database schema version " + std::to_string(*version) +
                " is newer than this build knows (" + std::to_string(latest) +
                "); run a newer attendance-server");
  }
  auto ledger = has_ledger_tables(db);
  if (!ledger) {
    return fail(ledger.error().code,
                path.string() + " is not a usable SQLite database: " + ledger.error().message);
  }
  // ledger.head is neither checked nor written here: it is for the reader to compare.
  impl->has_ledger = *ledger;
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

Status SqliteStore::Impl::open_readers(int count) {
  for (int i = 0; i < std::max(1, count); ++i) {
    auto reader = sql::open(path, sql::read_only());
    if (!reader) return std::unexpected(reader.error());
    readers.add(std::move(*reader));
  }
  return {};
}

Status SqliteStore::Impl::open_head(sqlite3* db) {
  auto log = log::get("store");
  for (Chain chain : {Chain::kLedger, Chain::kAudit}) {
    auto end = chain_end(db, chain);
    if (!end) return std::unexpected(end.error());
    head.of(chain) = *end;
  }
  auto file = read_ledger_head(head_path);
  if (!file) {
    head_pinned = true;
    log->error("{}; it is left as it is and not updated: run `attendance-server verify`",
               file.error().message);
    return {};
  }
  if (!file->has_value()) {
    if (head == LedgerHead{}) return {};  // no entries yet: written with the first append
    log->warn(
        "{} is missing; written anew from the database's end (entries deleted from the "
        "end before now cannot be seen)",
        head_path.string());
    return write_ledger_head(head_path, head);
  }
  const LedgerHead& recorded = **file;
  for (Chain chain : {Chain::kLedger, Chain::kAudit}) {
    const ChainHead& mark = recorded.of(chain);
    if (mark.seq == 0) continue;
    auto hash = hash_at(db, chain, mark.seq);
    if (!hash) return std::unexpected(hash.error());
    if (*hash != mark.hash) {
      head_pinned = true;
      log->error(
          "the {} does not match {}: it names entry {} {}, the database {}; the file is "
          "left as it is and not updated: run `attendance-server verify`",
          chain_name(chain), head_path.string(), mark.seq, mark.hash,
          hash->empty() ? "has no such entry" : "has " + *hash);
    }
  }
  if (head_pinned || recorded == head) return {};
  log->info("{} brought up to the database's end (ledger {}, audit trail {})", head_path.string(),
            head.ledger.seq, head.audit.seq);
  return write_ledger_head(head_path, head);
}

void SqliteStore::Impl::advance_head(Chain chain, const LedgerEntry& entry) {
  std::lock_guard lock(head_mu);
  ChainHead& mark = head.of(chain);
  if (entry.seq <= mark.seq) return;  // a later append of the same batch got here first
  mark = ChainHead{entry.seq, entry.hash};
  if (head_pinned) return;
  if (auto s = write_ledger_head(head_path, head); !s) {
    log::get("store")->error("{} entry {} is committed but {} was not updated: {}",
                             chain_name(chain), entry.seq, head_path.string(), s.error().message);
  }
}

Result<int> SqliteStore::schema_version() {
  return impl_->read([](sqlite3* db) { return user_version(db); });
}

Status SqliteStore::sync_sites(const std::vector<Site>& sites) {
  return impl_->write([&](sqlite3* db) -> Status {
    auto stmt = prepare(db,
                        "INSERT INTO sites(id, name, district, school_level, address, "
                        "expected_attendees, camera) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                        "ON CONFLICT(id) DO UPDATE SET name = ?2, district = ?3, "
                        "school_level = ?4, address = ?5, expected_attendees = ?6, camera = ?7");
    if (!stmt) return std::unexpected(stmt.error());
    for (const Site& site : sites) {
      sqlite3_stmt* s = stmt->get();
      sqlite3_reset(s);
      sql::bind(s, 1, site.id);
      sql::bind(s, 2, site.name);
      sql::bind(s, 3, site.district);
      sql::bind(s, 4, std::string(to_string(site.level)));
      sql::bind(s, 5, site.address);
      sql::bind(s, 6, site.expected_attendees);
      sql::bind(s, 7, site.camera);
      if (sqlite3_step(s) != SQLITE_DONE) return fail(sql::error(db, "store site " + site.id));
    }
    return {};
  });
}

Result<InsertOutcome> SqliteStore::insert_observation(const Observation& o) {
  InsertOutcome outcome = InsertOutcome::kInserted;
  auto written = impl_->write([&](sqlite3* db) -> Status {
    auto stmt =
        prepare(db,
                "INSERT INTO observations(site_id, sequence, captured_at_ms, received_at_ms, "
                "count, boxes, detector, width, height, frame_path, frame_sha256, frame_count, "
                "health, counted_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                "?13, ?14) "
                "ON CONFLICT(site_id, sequence) DO NOTHING");
    if (!stmt) return std::unexpected(stmt.error());
    sqlite3_stmt* s = stmt->get();
    sql::bind(s, 1, o.site_id);
    sql::bind(s, 2, o.sequence);
    sql::bind(s, 3, o.captured_at_ms);
    sql::bind(s, 4, o.received_at_ms);
    sql::bind(s, 5, o.count);
    sql::bind(s, 6, boxes_to_json(o.boxes).dump());
    sql::bind(s, 7, o.detector);
    sql::bind(s, 8, o.width);
    sql::bind(s, 9, o.height);
    sql::bind(s, 10, o.frame_path);
    sql::bind(s, 11, o.frame_sha256);
    sql::bind(s, 12, o.frame_count);
    sql::bind(s, 13, o.health);
    sql::bind(s, 14, std::string(o.counted_by == CountedBy::kNode ? "node" : "service"));
    if (sqlite3_step(s) != SQLITE_DONE) return fail(sql::error(db, "store observation"));
    if (sqlite3_changes(db) == 1) return {};

    auto existing = prepare(db,
                            "SELECT frame_sha256 FROM observations WHERE site_id = ?1 AND "
                            "sequence = ?2");
    if (!existing) return std::unexpected(existing.error());
    sql::bind(existing->get(), 1, o.site_id);
    sql::bind(existing->get(), 2, o.sequence);
    if (sqlite3_step(existing->get()) != SQLITE_ROW)
      return fail(sql::error(db, "read observation"));
    outcome = column_text(existing->get(), 0) == o.frame_sha256 ? InsertOutcome::kDuplicate
                                                                : InsertOutcome::kConflict;
    return {};
  });
  if (!written) return std::unexpected(written.error());
  return outcome;
}

namespace {

// The site's setups, newest first; `limit` of them (-1: all).
Result<std::vector<SiteStore::Setup>> read_setups(sqlite3* db, const std::string& site_id,
                                                  int limit) {
  auto stmt = prepare(db,
                      "SELECT version, body, created_ms, made_by FROM site_setups "
                      "WHERE site_id = ?1 ORDER BY version DESC LIMIT ?2");
  if (!stmt) return std::unexpected(stmt.error());
  sql::bind(stmt->get(), 1, site_id);
  sql::bind(stmt->get(), 2, static_cast<std::int64_t>(limit));
  std::vector<SiteStore::Setup> out;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    out.push_back({sqlite3_column_int64(stmt->get(), 0), column_text(stmt->get(), 1),
                   sqlite3_column_int64(stmt->get(), 2), column_text(stmt->get(), 3)});
  }
  if (rc != SQLITE_DONE) return fail(sql::error(db, "read site setup"));
  return out;
}

Result<std::optional<SiteStore::Setup>> read_latest_setup(sqlite3* db, const std::string& site_id) {
  auto latest = read_setups(db, site_id, 1);
  if (!latest) return std::unexpected(latest.error());
  if (latest->empty()) return std::optional<SiteStore::Setup>();
  return std::move(latest->front());
}

}  // namespace

Result<std::optional<SiteStore::Setup>> SqliteStore::latest_setup(const std::string& site_id) {
  return impl_->read([&](sqlite3* db) { return read_latest_setup(db, site_id); });
}

Result<std::vector<SiteStore::Setup>> SqliteStore::setup_history(const std::string& site_id) {
  auto all = impl_->read([&](sqlite3* db) { return read_setups(db, site_id, -1); });
  if (all) std::ranges::reverse(*all);
  return all;
}

Result<SiteStore::Setup> SqliteStore::put_setup(const std::string& site_id, const std::string& body,
                                                std::int64_t at_ms, const std::string& made_by) {
  Setup now;
  auto written = impl_->write([&](sqlite3* db) -> Status {
    auto latest = read_latest_setup(db, site_id);
    if (!latest) return std::unexpected(latest.error());
    if (*latest && (*latest)->body == body) {
      now = **latest;
      return {};
    }
    now = Setup{*latest ? (*latest)->version + 1 : 1, body, at_ms, made_by};
    auto stmt = prepare(db,
                        "INSERT INTO site_setups(site_id, version, body, created_ms, made_by) "
                        "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!stmt) return std::unexpected(stmt.error());
    sql::bind(stmt->get(), 1, site_id);
    sql::bind(stmt->get(), 2, now.version);
    sql::bind(stmt->get(), 3, body);
    sql::bind(stmt->get(), 4, at_ms);
    sql::bind(stmt->get(), 5, made_by);
    if (sqlite3_step(stmt->get()) != SQLITE_DONE) return fail(sql::error(db, "store site setup"));
    return {};
  });
  if (!written) return std::unexpected(written.error());
  return now;
}

Result<std::optional<Observation>> SqliteStore::find_observation(const std::string& site_id,
                                                                 std::int64_t sequence) {
  return impl_->read([&](sqlite3* db) -> Result<std::optional<Observation>> {
    const std::string sql = std::string("SELECT ") + columns::kObservation +
                            " FROM observations WHERE site_id = ?1 AND sequence = ?2";
    auto stmt = prepare(db, sql.c_str());
    if (!stmt) return std::unexpected(stmt.error());
    sql::bind(stmt->get(), 1, site_id);
    sql::bind(stmt->get(), 2, sequence);
    const int rc = sqlite3_step(stmt->get());
    if (rc == SQLITE_ROW) return read_observation(stmt->get());
    if (rc == SQLITE_DONE) return std::optional<Observation>();
    return fail(sql::error(db, "find observation"));
  });
}

Result<std::vector<Observation>> SqliteStore::observations_since(const std::string& site_id,
                                                                 std::int64_t from_ms, int limit) {
  return impl_->read([&](sqlite3* db) -> Result<std::vector<Observation>> {
    const std::string sql = std::string("SELECT * FROM (SELECT ") + columns::kObservation +
                            " FROM observations WHERE site_id = ?1 AND captured_at_ms >= ?2 "
                            "ORDER BY captured_at_ms DESC, sequence DESC LIMIT ?3) "
                            "ORDER BY captured_at_ms, sequence";
    auto stmt = prepare(db, sql.c_str());
    if (!stmt) return std::unexpected(stmt.error());
    sql::bind(stmt->get(), 1, site_id);
    sql::bind(stmt->get(), 2, from_ms);
    sql::bind(stmt->get(), 3, static_cast<std::int64_t>(limit));
    std::vector<Observation> out;
    int rc;
    while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW)
      out.push_back(read_observation(stmt->get()));
    if (rc != SQLITE_DONE) return fail(sql::error(db, "observations since"));
    return out;
  });
}

Result<std::vector<Observation>> SqliteStore::observations_between(const std::string& site_id,
                                                                   std::int64_t from_ms,
                                                                   std::int64_t to_ms, int limit) {
  return impl_->read([&](sqlite3* db) -> Result<std::vector<Observation>> {
    const std::string sql = std::string("SELECT ") + columns::kObservation +
                            " FROM observations WHERE site_id = ?1 AND captured_at_ms >= ?2 "
                            "AND captured_at_ms < ?3 ORDER BY captured_at_ms, sequence LIMIT ?4";
    auto stmt = prepare(db, sql.c_str());
    if (!stmt) return std::unexpected(stmt.error());
    sql::bind(stmt->get(), 1, site_id);
    sql::bind(stmt->get(), 2, from_ms);
    sql::bind(stmt->get(), 3, to_ms);
    sql::bind(stmt->get(), 4, static_cast<std::int64_t>(limit));
    std::vector<Observation> out;
    int rc;
    while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW)
      out.push_back(read_observation(stmt->get()));
    if (rc != SQLITE_DONE) return fail(sql::error(db, "observations between"));
    return out;
  });
}

Result<std::optional<Observation>> SqliteStore::latest_observation(const std::string& site_id) {
  return impl_->read([&](sqlite3* db) -> Result<std::optional<Observation>> {
    const std::string sql = std::string("SELECT ") + columns::kObservation +
                            " FROM observations WHERE site_id = ?1 "
                            "ORDER BY captured_at_ms DESC, sequence DESC LIMIT 1";
    auto stmt = prepare(db, sql.c_str());
    if (!stmt) return std::unexpected(stmt.error());
    sql::bind(stmt->get(), 1, site_id);
    const int rc = sqlite3_step(stmt->get());
    if (rc == SQLITE_ROW) return read_observation(stmt->get());
    if (rc == SQLITE_DONE) return std::optional<Observation>();
    return fail(sql::error(db, "latest observation"));
  });
}

Result<std::vector<Observation>> SqliteStore::latest_per_site() {
  return impl_->read([&](sqlite3* db) -> Result<std::vector<Observation>> {
    // One indexed lookup per site rather than a scan of every observation.
    const std::string sql = std::string("SELECT ") + columns::kObservation +
                            " FROM sites s JOIN observations o ON o.id = (SELECT id FROM "
                            "observations WHERE site_id = s.id ORDER BY captured_at_ms DESC, "
                            "sequence DESC LIMIT 1) ORDER BY s.id";
    auto stmt = prepare(db, sql.c_str());
    if (!stmt) return std::unexpected(stmt.error());
    std::vector<Observation> out;
    int rc;
    while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW)
      out.push_back(read_observation(stmt->get()));
    if (rc != SQLITE_DONE) return fail(sql::error(db, "latest observations"));
    return out;
  });
}

Result<HeartbeatInsert> SqliteStore::insert_heartbeat(const Heartbeat& h) {
  HeartbeatInsert result{InsertOutcome::kInserted, h.spool_dropped};
  auto written = impl_->write([&](sqlite3* db) -> Status {
    auto stmt = prepare(db,
                        "INSERT INTO heartbeats(site_id, sequence, captured_at_ms, received_at_ms, "
                        "report, spool_dropped) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                        "ON CONFLICT(site_id, sequence) DO NOTHING");
    if (!stmt) return std::unexpected(stmt.error());
    sqlite3_stmt* s = stmt->get();
    sql::bind(s, 1, h.site_id);
    sql::bind(s, 2, h.sequence);
    sql::bind(s, 3, h.captured_at_ms);
    sql::bind(s, 4, h.received_at_ms);
    sql::bind(s, 5, h.report);
    sql::bind(s, 6, h.spool_dropped);
    if (sqlite3_step(s) != SQLITE_DONE) return fail(sql::error(db, "store heartbeat"));
    if (sqlite3_changes(db) == 1) return {};

    auto existing = prepare(db,
                            "SELECT report, spool_dropped FROM heartbeats WHERE site_id = ?1 AND "
                            "sequence = ?2");
    if (!existing) return std::unexpected(existing.error());
    sql::bind(existing->get(), 1, h.site_id);
    sql::bind(existing->get(), 2, h.sequence);
    if (sqlite3_step(existing->get()) != SQLITE_ROW) return fail(sql::error(db, "read heartbeat"));
    const bool same = column_text(existing->get(), 0) == h.report;
    result = {same ? InsertOutcome::kDuplicate : InsertOutcome::kConflict,
              sqlite3_column_int64(existing->get(), 1)};
    return {};
  });
  if (!written) return std::unexpected(written.error());
  return result;
}

Result<std::optional<Heartbeat>> SqliteStore::find_heartbeat(const std::string& site_id,
                                                             std::int64_t sequence) {
  return impl_->read([&](sqlite3* db) -> Result<std::optional<Heartbeat>> {
    auto stmt = prepare(db,
                        "SELECT site_id, sequence, captured_at_ms, received_at_ms, report, "
                        "spool_dropped FROM heartbeats WHERE site_id = ?1 AND sequence = ?2");
    if (!stmt) return std::unexpected(stmt.error());
    sqlite3_stmt* s = stmt->get();
    sql::bind(s, 1, site_id);
    sql::bind(s, 2, sequence);
    auto row = sql::step(db, s, "find heartbeat");
    if (!row) return std::unexpected(row.error());
    if (!*row) return std::optional<Heartbeat>();
    return Heartbeat{column_text(s, 0),       sql::column_int64(s, 1), sql::column_int64(s, 2),
                     sql::column_int64(s, 3), column_text(s, 4),       sql::column_int64(s, 5)};
  });
}

Result<std::vector<Heartbeat>> SqliteStore::latest_heartbeat_per_site() {
  return impl_->read([&](sqlite3* db) -> Result<std::vector<Heartbeat>> {
    auto stmt = prepare(db,
                        "SELECT h.site_id, h.sequence, h.captured_at_ms, h.received_at_ms, "
                        "h.report, h.spool_dropped FROM sites s JOIN heartbeats h ON h.id = "
                        "(SELECT id FROM heartbeats WHERE site_id = s.id ORDER BY captured_at_ms "
                        "DESC, sequence DESC LIMIT 1) ORDER BY s.id");
    if (!stmt) return std::unexpected(stmt.error());
    std::vector<Heartbeat> out;
    int rc;
    while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
      sqlite3_stmt* s = stmt->get();
      out.push_back(Heartbeat{column_text(s, 0), sqlite3_column_int64(s, 1),
                              sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3),
                              column_text(s, 4), sqlite3_column_int64(s, 5)});
    }
    if (rc != SQLITE_DONE) return fail(sql::error(db, "latest heartbeats"));
    return out;
  });
}

namespace {

// One number from a query with one parameter, the site id.
Result<std::int64_t> site_number(sqlite3* db, const char* query, const std::string& site_id,
                                 const char* what) {
  auto stmt = prepare(db, query);
  if (!stmt) return std::unexpected(stmt.error());
  sql::bind(stmt->get(), 1, site_id);
  if (sqlite3_step(stmt->get()) != SQLITE_ROW) return fail(sql::error(db, what));
  return sqlite3_column_int64(stmt->get(), 0);
}

}  // namespace

Result<std::int64_t> SqliteStore::observation_count(const std::string& site_id) {
  return impl_->read([&](sqlite3* db) {
    return site_number(db, "SELECT COUNT(*) FROM observations WHERE site_id = ?1", site_id,
                       "count observations");
  });
}

Status SqliteStore::record_audit(const std::string& site_id, std::int64_t sequence,
                                 int audit_count) {
  return impl_->write([&](sqlite3* db) -> Status {
    auto stmt = prepare(db,
                        "UPDATE observations SET audit_count = ?3 WHERE site_id = ?1 AND "
                        "sequence = ?2");
    if (!stmt) return std::unexpected(stmt.error());
    sql::bind(stmt->get(), 1, site_id);
    sql::bind(stmt->get(), 2, sequence);
    sql::bind(stmt->get(), 3, audit_count);
    if (sqlite3_step(stmt->get()) != SQLITE_DONE) return fail(sql::error(db, "record audit"));
    if (sqlite3_changes(db) != 1) {
      return fail("record audit: site " + site_id + " has no observation " +
                  std::to_string(sequence));
    }
    return {};
  });
}

Result<std::int64_t> SqliteStore::heartbeat_count(const std::string& site_id) {
  return impl_->read([&](sqlite3* db) {
    return site_number(db, "SELECT COUNT(*) FROM heartbeats WHERE site_id = ?1", site_id,
                       "count heartbeats");
  });
}

Result<std::int64_t> SqliteStore::spool_dropped_total(const std::string& site_id) {
  return impl_->read([&](sqlite3* db) {
    return site_number(db,
                       "SELECT COALESCE(SUM(spool_dropped), 0) FROM heartbeats WHERE site_id = ?1",
                       site_id, "sum spool drops");
  });
}

Result<std::vector<std::string>> SqliteStore::expire_frames(std::int64_t before_ms, int limit) {
  std::vector<std::string> paths;
  auto written = impl_->write([&](sqlite3* db) -> Status {
    paths.clear();  // filled again if this write is retried in a new transaction
    auto select = prepare(db,
                          "SELECT id, frame_path FROM observations WHERE captured_at_ms < ?1 "
                          "AND frame_path != '' ORDER BY captured_at_ms LIMIT ?2");
    auto clear = prepare(db, "UPDATE observations SET frame_path = '' WHERE id = ?1");
    if (!select) return std::unexpected(select.error());
    if (!clear) return std::unexpected(clear.error());
    sql::bind(select->get(), 1, before_ms);
    sql::bind(select->get(), 2, static_cast<std::int64_t>(limit));
    std::vector<std::int64_t> ids;
    while (true) {
      auto row = sql::step(db, select->get(), "expired frames");
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      ids.push_back(sqlite3_column_int64(select->get(), 0));
      paths.push_back(column_text(select->get(), 1));
    }
    for (std::int64_t id : ids) {
      sqlite3_reset(clear->get());
      sql::bind(clear->get(), 1, id);
      if (sqlite3_step(clear->get()) != SQLITE_DONE)
        return fail(sql::error(db, "clear expired frame"));
    }
    return {};
  });
  if (!written) return std::unexpected(written.error());
  return paths;
}

Result<std::int64_t> SqliteStore::expire_heartbeats(std::int64_t before_ms) {
  std::int64_t deleted = 0;
  auto written = impl_->write([&](sqlite3* db) -> Status {
    auto s = sql::run(db, "DELETE FROM heartbeats WHERE captured_at_ms < ?1 AND spool_dropped = 0",
                      "expire heartbeats", before_ms);
    deleted = sql::changes(db);
    return s;
  });
  if (!written) return std::unexpected(written.error());
  return deleted;
}

Result<LedgerEntry> SqliteStore::append(Chain chain, LedgerEntry entry) {
  if (auto s = impl_->need_ledger(); !s) return std::unexpected(s.error());
  if (auto s = prepare_append(chain, entry); !s) return std::unexpected(s.error());
  // The last entry is read and the new one inserted in the same write, so no other append
  // can come between: the chain has one line.
  auto written = impl_->write([&](sqlite3* db) -> Status {
    auto end = chain_end(db, chain);
    if (!end) return std::unexpected(end.error());
    entry.seq = end->seq + 1;
    entry.prev_hash = end->hash;
    entry.hash = ledger_hash(entry);
    const std::string insert = std::string("INSERT INTO ") + chain_table(chain) +
                               "(seq, kind, site_id, subject, at_ms, recorded_at_ms, actor, "
                               "body, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                               "?9, ?10)";
    return sql::run(db, insert.c_str(), std::string("append to the ") + chain_name(chain),
                    entry.seq, entry.kind, entry.site_id, entry.subject, entry.at_ms,
                    entry.recorded_at_ms, entry.actor, entry.body, entry.prev_hash, entry.hash);
  });
  if (!written) return std::unexpected(written.error());
  impl_->advance_head(chain, entry);
  return entry;
}

Result<std::vector<LedgerEntry>> SqliteStore::entries(Chain chain, const LedgerQuery& query) {
  if (auto s = impl_->need_ledger(); !s) return std::unexpected(s.error());
  return impl_->read([&](sqlite3* db) { return read_ledger_entries(db, chain, query); });
}

Result<std::optional<LedgerHead>> SqliteStore::recorded_head() {
  return read_ledger_head(ledger_head_path(impl_->path));
}

std::string SqliteStore::head_name() const {
  return "ledger.head beside " + impl_->path.filename().string();
}

namespace {

User read_user(sqlite3_stmt* s) {
  return User{column_text(s, 0), column_text(s, 1), column_text(s, 2), sql::column_int64(s, 3),
              sql::column_int64(s, 4) != 0};
}

Session read_session(sqlite3_stmt* s) {
  return Session{column_text(s, 0),       column_text(s, 1),       column_text(s, 2),
                 sql::column_int64(s, 3), sql::column_int64(s, 4), sql::column_int64(s, 5)};
}

}  // namespace

Status SqliteStore::add_user(const User& u) {
  return impl_->write([&](sqlite3* db) -> Status {
    auto s = sql::run(db,
                      "INSERT INTO users(name, role, password_hash, created_ms, disabled) "
                      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(name) DO NOTHING",
                      "add user " + u.name, u.name, u.role, u.password_hash, u.created_ms,
                      static_cast<std::int64_t>(u.disabled));
    if (!s) return s;
    if (sql::changes(db) == 0) return fail("user '" + u.name + "' already exists");
    return {};
  });
}

Status SqliteStore::update_user(const User& u) {
  return impl_->write([&](sqlite3* db) -> Status {
    auto s = sql::run(db,
                      "UPDATE users SET role = ?2, password_hash = ?3, disabled = ?4 "
                      "WHERE name = ?1",
                      "update user " + u.name, u.name, u.role, u.password_hash,
                      static_cast<std::int64_t>(u.disabled));
    if (!s) return s;
    if (sql::changes(db) == 0) return fail("no user '" + u.name + "'");
    return sql::run(db, "DELETE FROM sessions WHERE user = ?1", "end the sessions of " + u.name,
                    u.name);
  });
}

Result<std::optional<User>> SqliteStore::find_user(const std::string& name) {
  return impl_->read([&](sqlite3* db) -> Result<std::optional<User>> {
    const std::string query =
        std::string("SELECT ") + columns::kUser + " FROM users WHERE name = ?1";
    auto stmt = prepare(db, query.c_str());
    if (!stmt) return std::unexpected(stmt.error());
    sql::bind(stmt->get(), 1, name);
    auto row = sql::step(db, stmt->get(), "find user");
    if (!row) return std::unexpected(row.error());
    if (!*row) return std::optional<User>();
    return read_user(stmt->get());
  });
}

Result<std::vector<User>> SqliteStore::users() {
  return impl_->read([&](sqlite3* db) -> Result<std::vector<User>> {
    const std::string query = std::string("SELECT ") + columns::kUser + " FROM users ORDER BY name";
    auto stmt = prepare(db, query.c_str());
    if (!stmt) return std::unexpected(stmt.error());
    std::vector<User> out;
    while (true) {
      auto row = sql::step(db, stmt->get(), "list users");
      if (!row) return std::unexpected(row.error());
      if (!*row) return out;
      out.push_back(read_user(stmt->get()));
    }
  });
}

Status SqliteStore::add_session(const Session& s) {
  return impl_->write([&](sqlite3* db) -> Status {
    // In one statement with the user's check: a user disabled meanwhile gets no session.
    auto added = sql::run(db,
                          "INSERT INTO sessions(token_sha256, user, csrf_token, created_ms, "
                          "expires_ms, last_seen_ms) SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS "
                          "(SELECT 1 FROM users WHERE name = ?2 AND disabled = 0)",
                          "add session", s.token_sha256, s.user, s.csrf_token, s.created_ms,
                          s.expires_ms, s.last_seen_ms);
    if (!added) return added;
    if (sql::changes(db) == 0) return fail("no session for '" + s.user + "': unknown or disabled");
    return {};
  });
}

Result<std::optional<Session>> SqliteStore::find_session(const std::string& token_sha256) {
  return impl_->read([&](sqlite3* db) -> Result<std::optional<Session>> {
    const std::string query =
        std::string("SELECT ") + columns::kSession + " FROM sessions WHERE token_sha256 = ?1";
    auto stmt = prepare(db, query.c_str());
    if (!stmt) return std::unexpected(stmt.error());
    sql::bind(stmt->get(), 1, token_sha256);
    auto row = sql::step(db, stmt->get(), "find session");
    if (!row) return std::unexpected(row.error());
    if (!*row) return std::optional<Session>();
    return read_session(stmt->get());
  });
}

Status SqliteStore::touch_session(const std::string& token_sha256, std::int64_t last_seen_ms) {
  return impl_->write([&](sqlite3* db) {
    return sql::run(db,
                    "UPDATE sessions SET last_seen_ms = MAX(last_seen_ms, ?2) "
                    "WHERE token_sha256 = ?1",
                    "touch session", token_sha256, last_seen_ms);
  });
}

Status SqliteStore::delete_session(const std::string& token_sha256) {
  return impl_->write([&](sqlite3* db) {
    return sql::run(db, "DELETE FROM sessions WHERE token_sha256 = ?1", "end session",
                    token_sha256);
  });
}

Result<std::int64_t> SqliteStore::delete_ended_sessions(std::int64_t now_ms,
                                                        std::int64_t idle_before_ms) {
  std::int64_t deleted = 0;
  auto written = impl_->write([&](sqlite3* db) -> Status {
    auto s = sql::run(db, "DELETE FROM sessions WHERE expires_ms <= ?1 OR last_seen_ms <= ?2",
                      "delete ended sessions", now_ms, idle_before_ms);
    deleted = sql::changes(db);
    return s;
  });
  if (!written) return std::unexpected(written.error());
  return deleted;
}

WriteStats SqliteStore::write_stats() const {
  return impl_->writer ? impl_->writer->stats() : WriteStats{};
}

}  // namespace att
