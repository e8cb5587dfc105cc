#include "analysis/store/pg_store.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>

#include "analysis/store/columns.h"
#include "analysis/store/connection_pool.h"
#include "analysis/store/pg_db.h"
#include "common/log.h"
#include "protocol/boxes.h"

namespace att {
namespace {

using pg::query;
using pg::Rows;

// Keys of the session-level advisory lock taken while migrating ("att" and a number).
constexpr std::int64_t kMigrationLock = 0x617474'0001;

constexpr std::int64_t kNoLimit = std::numeric_limits<std::int64_t>::max();

Observation read_observation(const Rows& r, int i) {
  Observation o;
  o.site_id = r.text(i, 0);
  o.sequence = r.integer(i, 1);
  o.captured_at_ms = r.integer(i, 2);
  o.received_at_ms = r.integer(i, 3);
  o.count = static_cast<int>(r.integer(i, 4));
  o.boxes = boxes_from_json(nlohmann::json::parse(r.text(i, 5), nullptr, false));
  o.detector = r.text(i, 6);
  o.width = static_cast<int>(r.integer(i, 7));
  o.height = static_cast<int>(r.integer(i, 8));
  o.frame_path = r.text(i, 9);
  o.frame_sha256 = r.text(i, 10);
  o.frame_count = static_cast<int>(r.integer(i, 11));
  o.health = r.text(i, 12);
  o.counted_by = r.text(i, 13) == "node" ? CountedBy::kNode : CountedBy::kService;
  if (!r.null(i, 14)) o.audit_count = static_cast<int>(r.integer(i, 14));
  return o;
}

std::vector<Observation> read_observations(const Rows& r) {
  std::vector<Observation> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back(read_observation(r, i));
  return out;
}

std::optional<Observation> first_observation(const Rows& r) {
  if (r.empty()) return std::nullopt;
  return read_observation(r, 0);
}

Result<int> read_schema_version(PGconn* db) {
  auto table = query(db, "SELECT to_regclass('schema_version') IS NOT NULL", "read schema version");
  if (!table) return std::unexpected(table.error());
  if (table->text(0, 0) != "t") return 0;
  auto rows = query(db, "SELECT version FROM schema_version", "read schema version");
  if (!rows) return std::unexpected(rows.error());
  return rows->empty() ? 0 : static_cast<int>(rows->integer(0, 0));
}

// Brings the database to the last of `migrations` under a session-level advisory lock (a
// second process starting meanwhile waits, then finds nothing to do).
Status migrate(PGconn* db, std::span<const Migration> migrations) {
  int expected = 1;
  for (const Migration& m : migrations) {  // checked whole before anything is applied
    if (m.version != expected++) return fail("migrations must be numbered 1, 2, 3, ... in order");
  }
  if (auto s = query(db, "SELECT pg_advisory_lock($1)", "lock for migration", kMigrationLock); !s) {
    return std::unexpected(s.error());
  }
  struct Unlock {
    PGconn* db;
    ~Unlock() { (void)query(db, "SELECT pg_advisory_unlock($1)", "unlock", kMigrationLock); }
  } unlock{db};

  if (auto s = pg::exec(db,
                        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL); "
                        "INSERT INTO schema_version SELECT 0 WHERE NOT EXISTS "
                        "(SELECT 1 FROM schema_version)",
                        "create schema_version");
      !s) {
    return s;
  }
  auto current = read_schema_version(db);
  if (!current) return std::unexpected(current.error());
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  if (*current > latest) {
    return fail("database schema version " + std::to_string(*current) +
                " is newer than this build knows (" + std::to_string(latest) +
                "); run a newer attendance-server");
  }
  auto log = log::get("store");
  for (const Migration& m : migrations) {
    if (m.version <= *current) continue;
    auto applied = pg::exec(db, std::string("BEGIN;\n") + m.sql, "migration");
    if (applied) {
      applied = pg::exec(
          db, "UPDATE schema_version SET version = " + std::to_string(m.version) + "; COMMIT",
          "migration");
    }
    if (!applied) {
      (void)pg::exec(db, "ROLLBACK", "roll back");
      return fail("migration " + std::to_string(m.version) + " (" + m.name +
                  ") failed and was rolled back: " + applied.error().message);
    }
    log->info("schema migrated to version {} ({})", m.version, m.name);
  }
  return {};
}

Result<bool> has_ledger_tables(PGconn* db) {
  auto rows = query(db,
                    "SELECT to_regclass('ledger') IS NOT NULL AND "
                    "to_regclass('audit_trail') IS NOT NULL AND "
                    "to_regclass('chain_heads') IS NOT NULL",
                    "list tables");
  if (!rows) return std::unexpected(rows.error());
  return rows->text(0, 0) == "t";
}

// The last entry of a chain's table (seq 0 when empty).
Result<ChainHead> chain_end(PGconn* db, Chain chain) {
  const std::string sql =
      std::string("SELECT seq, hash FROM ") + chain_table(chain) + " ORDER BY seq DESC LIMIT 1";
  auto rows = query(db, sql.c_str(), std::string("read the end of the ") + chain_name(chain));
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return ChainHead{};
  return ChainHead{rows->integer(0, 0), rows->text(0, 1)};
}

Result<LedgerHead> read_heads(PGconn* db, bool for_update, Chain only = Chain::kLedger) {
  std::string sql = "SELECT chain, seq, hash FROM chain_heads";
  if (for_update) sql += " WHERE chain = $1 FOR UPDATE";
  auto rows = for_update ? query(db, sql.c_str(), "lock the chain's head", chain_table(only))
                         : query(db, sql.c_str(), "read the chains' heads");
  if (!rows) return std::unexpected(rows.error());
  LedgerHead head;
  for (int i = 0; i < rows->size(); ++i) {
    const ChainHead mark{rows->integer(i, 1), rows->text(i, 2)};
    if (rows->text(i, 0) == chain_table(Chain::kLedger)) head.ledger = mark;
    if (rows->text(i, 0) == chain_table(Chain::kAudit)) head.audit = mark;
  }
  return head;
}

}  // namespace

struct PgStore::Impl final : Transactions {
  std::string conninfo;
  pg::Conn writer;  // used by the group commit's thread only
  std::unique_ptr<GroupCommit> commits;
  ConnectionPool<pg::Conn> readers;
  bool has_ledger = false;

  // Runs `work` on the writer connection inside the current batch's transaction.
  Status write(const std::function<Status(PGconn*)>& work) {
    PGconn* db = writer.get();
    return commits->write([&] { return work(db); });
  }

  // Runs `f` on an idle reader connection; once more on a fresh connection when the server
  // had dropped it (a restart).
  template <typename F>
  auto read(F&& f) {
    return readers.with([&](PGconn* db) {
      auto result = f(db);
      if (!result && pg::broken(db)) {
        PQreset(db);
        result = f(db);
      }
      return result;
    });
  }

  Status need_ledger() const {
    if (has_ledger) return {};
    return fail(
        "this PostgreSQL database has no ledger (start attendance-server on it once "
        "to migrate)");
  }

  // Transactions, for the group commit.
  // A connection the server dropped (a restart, a terminated session) is found here, before
  // the batch runs, and opened again: the batch's writes then go through as usual.
  Status begin() override {
    auto begun = pg::exec(writer.get(), "BEGIN", "begin");
    if (begun || !pg::broken(writer.get())) return begun;
    log::get("store")->warn("the database connection was lost ({}); connecting again",
                            begun.error().message);
    PQreset(writer.get());
    return pg::exec(writer.get(), "BEGIN", "begin");
  }
  Status savepoint() override { return pg::exec(writer.get(), "SAVEPOINT write", "savepoint"); }
  void rollback_to_savepoint() override {
    (void)pg::exec(writer.get(), "ROLLBACK TO SAVEPOINT write", "roll back a write");
  }
  void release_savepoint() override {
    (void)pg::exec(writer.get(), "RELEASE SAVEPOINT write", "release");
  }
  Status commit() override {
    // COMMIT of a transaction that failed answers ROLLBACK without an error: asked, not assumed.
    auto done = query(writer.get(), "COMMIT", "commit");
    if (!done) return std::unexpected(done.error());
    if (done->command() != "COMMIT") {
      return fail(ErrorCode::kIo, "commit: PostgreSQL rolled the transaction back");
    }
    return {};
  }
  void rollback() override { (void)pg::exec(writer.get(), "ROLLBACK", "roll back"); }
};

PgStore::PgStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PgStore::~PgStore() {
  if (impl_) impl_->commits.reset();  // every queued write committed before the link closes
}

Result<std::unique_ptr<PgStore>> PgStore::open(const PgStoreOptions& options) {
  return open(options, postgres_migrations());
}

Result<std::unique_ptr<PgStore>> PgStore::open(const PgStoreOptions& options,
                                               std::span<const Migration> migrations) {
  auto writer = pg::connect(options.conninfo);
  if (!writer) return std::unexpected(writer.error());
  if (auto s = migrate(writer->get(), migrations); !s) {
    return fail(s.error().code, "PostgreSQL: " + s.error().message);
  }
  auto impl = std::make_unique<Impl>();
  impl->conninfo = options.conninfo;
  for (int i = 0; i < std::max(1, options.readers); ++i) {
    auto reader = pg::connect(options.conninfo);
    if (!reader) return std::unexpected(reader.error());
    impl->readers.add(std::move(*reader));
  }
  auto ledger = has_ledger_tables(writer->get());
  if (!ledger) return std::unexpected(ledger.error());
  impl->has_ledger = *ledger;
  if (impl->has_ledger) {
    // The heads move with their chains in one transaction, so they differ only after rows were
    // deleted or replaced behind the triggers: said here, and left for verify to report.
    auto heads = read_heads(writer->get(), false);
    if (!heads) return std::unexpected(heads.error());
    for (Chain chain : {Chain::kLedger, Chain::kAudit}) {
      auto end = chain_end(writer->get(), chain);
      if (!end) return std::unexpected(end.error());
      if (*end != heads->of(chain)) {
        log::get("store")->error(
            "the {} ends at entry {} {} but its head in chain_heads names entry {} {}: run "
            "`attendance-server verify`",
            chain_name(chain), end->seq, end->hash, heads->of(chain).seq, heads->of(chain).hash);
      }
    }
  }
  impl->writer = std::move(*writer);
  impl->commits = std::make_unique<GroupCommit>(*impl, options.writer);
  return std::unique_ptr<PgStore>(new PgStore(std::move(impl)));
}

Result<int> PgStore::schema_version() {
  return impl_->read([](PGconn* db) { return read_schema_version(db); });
}

Result<std::optional<LedgerHead>> PgStore::recorded_head() {
  if (auto s = impl_->need_ledger(); !s) return std::unexpected(s.error());
  return impl_->read([](PGconn* db) -> Result<std::optional<LedgerHead>> {
    auto heads = read_heads(db, false);
    if (!heads) return std::unexpected(heads.error());
    return std::optional<LedgerHead>(*heads);
  });
}

std::string PgStore::head_name() const {
  return "chain_heads in the PostgreSQL database";
}

Status PgStore::sync_sites(const std::vector<Site>& sites) {
  return impl_->write([&](PGconn* db) -> Status {
    for (const Site& site : sites) {
      auto s = query(db,
                     "INSERT INTO sites(id, name, district, school_level, address, "
                     "expected_attendees, camera) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                     "ON CONFLICT (id) DO UPDATE SET name = $2, district = $3, "
                     "school_level = $4, address = $5, expected_attendees = $6, camera = $7",
                     "store site " + site.id, site.id, site.name, site.district,
                     std::string(to_string(site.level)), site.address, site.expected_attendees,
                     site.camera);
      if (!s) return std::unexpected(s.error());
    }
    return {};
  });
}

Result<InsertOutcome> PgStore::insert_observation(const Observation& o) {
  InsertOutcome outcome = InsertOutcome::kInserted;
  auto written = impl_->write([&](PGconn* db) -> Status {
    auto inserted =
        query(db,
              "INSERT INTO observations(site_id, sequence, captured_at_ms, received_at_ms, count, "
              "boxes, detector, width, height, frame_path, frame_sha256, frame_count, health, "
              "counted_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
              "ON CONFLICT (site_id, sequence) DO NOTHING",
              "store observation", o.site_id, o.sequence, o.captured_at_ms, o.received_at_ms,
              o.count, boxes_to_json(o.boxes).dump(), o.detector, o.width, o.height, o.frame_path,
              o.frame_sha256, o.frame_count, o.health,
              std::string(o.counted_by == CountedBy::kNode ? "node" : "service"));
    if (!inserted) return std::unexpected(inserted.error());
    if (inserted->affected() == 1) return {};
    auto existing = query(db,
                          "SELECT frame_sha256 FROM observations WHERE site_id = $1 AND "
                          "sequence = $2",
                          "read observation", o.site_id, o.sequence);
    if (!existing) return std::unexpected(existing.error());
    if (existing->empty()) return fail("read observation: the row that conflicted is gone");
    outcome = existing->text(0, 0) == o.frame_sha256 ? InsertOutcome::kDuplicate
                                                     : InsertOutcome::kConflict;
    return {};
  });
  if (!written) return std::unexpected(written.error());
  return outcome;
}

namespace {

// The site's setups, newest first; `limit` of them.
Result<std::vector<SiteStore::Setup>> read_setups(PGconn* db, const std::string& site_id,
                                                  std::int64_t limit) {
  auto rows = query(db,
                    "SELECT version, body, created_ms, made_by FROM site_setups "
                    "WHERE site_id = $1 ORDER BY version DESC LIMIT $2",
                    "read site setup", site_id, limit);
  if (!rows) return std::unexpected(rows.error());
  std::vector<SiteStore::Setup> out;
  for (int i = 0; i < rows->size(); ++i) {
    out.push_back({rows->integer(i, 0), rows->text(i, 1), rows->integer(i, 2), rows->text(i, 3)});
  }
  return out;
}

Result<std::optional<SiteStore::Setup>> read_latest_setup(PGconn* db, const std::string& site_id) {
  auto latest = read_setups(db, site_id, 1);
  if (!latest) return std::unexpected(latest.error());
  if (latest->empty()) return std::optional<SiteStore::Setup>();
  return std::move(latest->front());
}

}  // namespace

Result<std::optional<SiteStore::Setup>> PgStore::latest_setup(const std::string& site_id) {
  return impl_->read([&](PGconn* db) { return read_latest_setup(db, site_id); });
}

Result<std::vector<SiteStore::Setup>> PgStore::setup_history(const std::string& site_id) {
  auto all = impl_->read([&](PGconn* db) { return read_setups(db, site_id, kNoLimit); });
  if (all) std::ranges::reverse(*all);
  return all;
}

Result<SiteStore::Setup> PgStore::put_setup(const std::string& site_id, const std::string& body,
                                            std::int64_t at_ms, const std::string& made_by) {
  Setup now;
  auto written = impl_->write([&](PGconn* db) -> Status {
    // Another process saving a setup of the same site waits here until this one commits, then
    // numbers its own after it.
    if (auto s = query(db, "SELECT pg_advisory_xact_lock(hashtext('site_setups/' || $1))",
                       "lock the site's setups", site_id);
        !s) {
      return std::unexpected(s.error());
    }
    auto latest = read_latest_setup(db, site_id);
    if (!latest) return std::unexpected(latest.error());
    if (*latest && (*latest)->body == body) {
      now = **latest;
      return {};
    }
    now = Setup{*latest ? (*latest)->version + 1 : 1, body, at_ms, made_by};
    auto s = query(db,
                   "INSERT INTO site_setups(site_id, version, body, created_ms, made_by) "
                   "VALUES ($1, $2, $3, $4, $5)",
                   "store site setup", site_id, now.version, body, at_ms, made_by);
    if (!s) return std::unexpected(s.error());
    return {};
  });
  if (!written) return std::unexpected(written.error());
  return now;
}

Result<std::optional<Observation>> PgStore::find_observation(const std::string& site_id,
                                                             std::int64_t sequence) {
  return impl_->read([&](PGconn* db) -> Result<std::optional<Observation>> {
    const std::string sql = std::string("SELECT ") + columns::kObservation +
                            " FROM observations WHERE site_id = $1 AND sequence = $2";
    auto rows = query(db, sql.c_str(), "find observation", site_id, sequence);
    if (!rows) return std::unexpected(rows.error());
    return first_observation(*rows);
  });
}

Result<std::vector<Observation>> PgStore::observations_since(const std::string& site_id,
                                                             std::int64_t from_ms, int limit) {
  return impl_->read([&](PGconn* db) -> Result<std::vector<Observation>> {
    const std::string sql = std::string("SELECT * FROM (SELECT ") + columns::kObservation +
                            " FROM observations WHERE site_id = $1 AND captured_at_ms >= $2 "
                            "ORDER BY captured_at_ms DESC, sequence DESC LIMIT $3) newest "
                            "ORDER BY captured_at_ms, sequence";
    auto rows = query(db, sql.c_str(), "observations since", site_id, from_ms, limit);
    if (!rows) return std::unexpected(rows.error());
    return read_observations(*rows);
  });
}

Result<std::vector<Observation>> PgStore::observations_between(const std::string& site_id,
                                                               std::int64_t from_ms,
                                                               std::int64_t to_ms, int limit) {
  return impl_->read([&](PGconn* db) -> Result<std::vector<Observation>> {
    const std::string sql = std::string("SELECT ") + columns::kObservation +
                            " FROM observations WHERE site_id = $1 AND captured_at_ms >= $2 "
                            "AND captured_at_ms < $3 ORDER BY captured_at_ms, sequence LIMIT $4";
    auto rows = query(db, sql.c_str(), "observations between", site_id, from_ms, to_ms, limit);
    if (!rows) return std::unexpected(rows.error());
    return read_observations(*rows);
  });
}

Result<std::optional<Observation>> PgStore::latest_observation(const std::string& site_id) {
  return impl_->read([&](PGconn* db) -> Result<std::optional<Observation>> {
    const std::string sql = std::string("SELECT ") + columns::kObservation +
                            " FROM observations WHERE site_id = $1 "
                            "ORDER BY captured_at_ms DESC, sequence DESC LIMIT 1";
    auto rows = query(db, sql.c_str(), "latest observation", site_id);
    if (!rows) return std::unexpected(rows.error());
    return first_observation(*rows);
  });
}

Result<std::vector<Observation>> PgStore::latest_per_site() {
  return impl_->read([&](PGconn* db) -> Result<std::vector<Observation>> {
    // One indexed lookup per site rather than a scan of every observation.
    const std::string sql = std::string("SELECT o.* FROM sites s CROSS JOIN LATERAL (SELECT ") +
                            columns::kObservation +
                            " FROM observations WHERE site_id = s.id ORDER BY captured_at_ms "
                            "DESC, sequence DESC LIMIT 1) o ORDER BY s.id";
    auto rows = query(db, sql.c_str(), "latest observations");
    if (!rows) return std::unexpected(rows.error());
    return read_observations(*rows);
  });
}

Result<HeartbeatInsert> PgStore::insert_heartbeat(const Heartbeat& h) {
  HeartbeatInsert result{InsertOutcome::kInserted, h.spool_dropped};
  auto written = impl_->write([&](PGconn* db) -> Status {
    auto inserted = query(db,
                          "INSERT INTO heartbeats(site_id, sequence, captured_at_ms, "
                          "received_at_ms, report, spool_dropped) VALUES ($1, $2, $3, $4, $5, $6) "
                          "ON CONFLICT (site_id, sequence) DO NOTHING",
                          "store heartbeat", h.site_id, h.sequence, h.captured_at_ms,
                          h.received_at_ms, h.report, h.spool_dropped);
    if (!inserted) return std::unexpected(inserted.error());
    if (inserted->affected() == 1) return {};
    auto existing = query(db,
                          "SELECT report, spool_dropped FROM heartbeats WHERE site_id = $1 AND "
                          "sequence = $2",
                          "read heartbeat", h.site_id, h.sequence);
    if (!existing) return std::unexpected(existing.error());
    if (existing->empty()) return fail("read heartbeat: the row that conflicted is gone");
    const bool same = existing->text(0, 0) == h.report;
    result = {same ? InsertOutcome::kDuplicate : InsertOutcome::kConflict, existing->integer(0, 1)};
    return {};
  });
  if (!written) return std::unexpected(written.error());
  return result;
}

Result<std::optional<Heartbeat>> PgStore::find_heartbeat(const std::string& site_id,
                                                         std::int64_t sequence) {
  return impl_->read([&](PGconn* db) -> Result<std::optional<Heartbeat>> {
    auto rows = query(db,
                      "SELECT site_id, sequence, captured_at_ms, received_at_ms, report, "
                      "spool_dropped FROM heartbeats WHERE site_id = $1 AND sequence = $2",
                      "find heartbeat", site_id, sequence);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::optional<Heartbeat>();
    return Heartbeat{rows->text(0, 0),    rows->integer(0, 1), rows->integer(0, 2),
                     rows->integer(0, 3), rows->text(0, 4),    rows->integer(0, 5)};
  });
}

Result<std::vector<Heartbeat>> PgStore::latest_heartbeat_per_site() {
  return impl_->read([&](PGconn* db) -> Result<std::vector<Heartbeat>> {
    auto rows = query(db,
                      "SELECT h.site_id, h.sequence, h.captured_at_ms, h.received_at_ms, "
                      "h.report, h.spool_dropped FROM sites s CROSS JOIN LATERAL (SELECT * FROM "
                      "heartbeats WHERE site_id = s.id ORDER BY captured_at_ms DESC, sequence "
                      "DESC LIMIT 1) h ORDER BY s.id",
                      "latest heartbeats");
    if (!rows) return std::unexpected(rows.error());
    std::vector<Heartbeat> out;
    for (int i = 0; i < rows->size(); ++i) {
      out.push_back(Heartbeat{rows->text(i, 0), rows->integer(i, 1), rows->integer(i, 2),
                              rows->integer(i, 3), rows->text(i, 4), rows->integer(i, 5)});
    }
    return out;
  });
}

namespace {

// One number from a query with one parameter, the site id.
Result<std::int64_t> site_number(PGconn* db, const char* sql, const std::string& site_id,
                                 const char* what) {
  auto rows = query(db, sql, what, site_id);
  if (!rows) return std::unexpected(rows.error());
  return rows->integer(0, 0);
}

}  // namespace

Result<std::int64_t> PgStore::observation_count(const std::string& site_id) {
  return impl_->read([&](PGconn* db) {
    return site_number(db, "SELECT COUNT(*) FROM observations WHERE site_id = $1", site_id,
                       "count observations");
  });
}

Status PgStore::record_audit(const std::string& site_id, std::int64_t sequence, int audit_count) {
  return impl_->write([&](PGconn* db) -> Status {
    auto updated = query(db,
                         "UPDATE observations SET audit_count = $3 WHERE site_id = $1 AND "
                         "sequence = $2",
                         "record audit", site_id, sequence, audit_count);
    if (!updated) return std::unexpected(updated.error());
    if (updated->affected() != 1) {
      return fail("record audit: site " + site_id + " has no observation " +
                  std::to_string(sequence));
    }
    return {};
  });
}

Result<std::int64_t> PgStore::heartbeat_count(const std::string& site_id) {
  return impl_->read([&](PGconn* db) {
    return site_number(db, "SELECT COUNT(*) FROM heartbeats WHERE site_id = $1", site_id,
                       "count heartbeats");
  });
}

Result<std::int64_t> PgStore::spool_dropped_total(const std::string& site_id) {
  return impl_->read([&](PGconn* db) {
    return site_number(db,
                       "SELECT COALESCE(SUM(spool_dropped), 0) FROM heartbeats WHERE site_id = $1",
                       site_id, "sum spool drops");
  });
}

Result<std::vector<std::string>> PgStore::expire_frames(std::int64_t before_ms, int limit) {
  std::vector<std::string> paths;
  auto written = impl_->write([&](PGconn* db) -> Status {
    paths.clear();  // filled again if this write is retried in a new transaction
    // SKIP LOCKED: a second process expiring at the same time takes other rows, not the same.
    auto rows = query(db,
                      "WITH old AS (SELECT id, frame_path, captured_at_ms FROM observations "
                      "WHERE captured_at_ms < $1 AND frame_path <> '' ORDER BY captured_at_ms "
                      "LIMIT $2 FOR UPDATE SKIP LOCKED) "
                      "UPDATE observations o SET frame_path = '' FROM old WHERE o.id = old.id "
                      "RETURNING old.frame_path, old.captured_at_ms",
                      "expire frames", before_ms, limit);
    if (!rows) return std::unexpected(rows.error());
    std::vector<std::pair<std::int64_t, std::string>> expired;
    for (int i = 0; i < rows->size(); ++i)
      expired.emplace_back(rows->integer(i, 1), rows->text(i, 0));
    std::ranges::stable_sort(expired, {}, &std::pair<std::int64_t, std::string>::first);
    for (auto& [at, path] : expired) paths.push_back(std::move(path));
    return {};
  });
  if (!written) return std::unexpected(written.error());
  return paths;
}

Result<std::int64_t> PgStore::expire_heartbeats(std::int64_t before_ms) {
  std::int64_t deleted = 0;
  auto written = impl_->write([&](PGconn* db) -> Status {
    auto rows = query(db, "DELETE FROM heartbeats WHERE captured_at_ms < $1 AND spool_dropped = 0",
                      "expire heartbeats", before_ms);
    if (!rows) return std::unexpected(rows.error());
    deleted = rows->affected();
    return {};
  });
  if (!written) return std::unexpected(written.error());
  return deleted;
}

Result<LedgerEntry> PgStore::append(Chain chain, LedgerEntry entry) {
  if (auto s = impl_->need_ledger(); !s) return std::unexpected(s.error());
  if (auto s = prepare_append(chain, entry); !s) return std::unexpected(s.error());
  auto written = impl_->write([&](PGconn* db) -> Status {
    // The chain's head row, locked until this transaction ends: appends of every process
    // queue here, so the chain has one line.
    auto heads = read_heads(db, true, chain);
    if (!heads) return std::unexpected(heads.error());
    auto end = chain_end(db, chain);
    if (!end) return std::unexpected(end.error());
    entry.seq = end->seq + 1;
    entry.prev_hash = end->hash;
    entry.hash = ledger_hash(entry);
    const std::string insert = std::string("INSERT INTO ") + chain_table(chain) + "(" +
                               columns::kLedgerEntry +
                               ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    auto inserted =
        query(db, insert.c_str(), std::string("append to the ") + chain_name(chain), entry.seq,
              entry.kind, entry.site_id, entry.subject, entry.at_ms, entry.recorded_at_ms,
              entry.actor, entry.body, entry.prev_hash, entry.hash);
    if (!inserted) return std::unexpected(inserted.error());
    // A head that no longer matches the table's end (rows deleted or replaced behind the
    // triggers) is left as it is, for verify to report.
    if (heads->of(chain) != *end) return {};
    auto moved = query(db, "UPDATE chain_heads SET seq = $2, hash = $3 WHERE chain = $1",
                       "move the chain's head", chain_table(chain), entry.seq, entry.hash);
    if (!moved) return std::unexpected(moved.error());
    return {};
  });
  if (!written) return std::unexpected(written.error());
  return entry;
}

Result<std::vector<LedgerEntry>> PgStore::entries(Chain chain, const LedgerQuery& q) {
  if (auto s = impl_->need_ledger(); !s) return std::unexpected(s.error());
  return impl_->read([&](PGconn* db) -> Result<std::vector<LedgerEntry>> {
    // Only fixed fragments are joined (the table from chain_table()); every value is bound. An
    // empty filter matches any: ($2 = '' OR kind = $2).
    const std::string sql = std::string("SELECT ") + columns::kLedgerEntry + " FROM " +
                            chain_table(chain) +
                            " WHERE seq >= $1 AND ($2 = '' OR kind = $2) AND "
                            "($3 = '' OR site_id = $3) AND ($4 = '' OR subject = $4) "
                            "ORDER BY seq LIMIT $5";
    auto rows =
        query(db, sql.c_str(), std::string("read ") + chain_name(chain), q.from_seq, q.kind,
              q.site_id, q.subject, q.limit > 0 ? static_cast<std::int64_t>(q.limit) : kNoLimit);
    if (!rows) return std::unexpected(rows.error());
    std::vector<LedgerEntry> out;
    for (int i = 0; i < rows->size(); ++i) {
      LedgerEntry e;
      e.seq = rows->integer(i, 0);
      e.kind = rows->text(i, 1);
      e.site_id = rows->text(i, 2);
      e.subject = rows->text(i, 3);
      e.at_ms = rows->integer(i, 4);
      e.recorded_at_ms = rows->integer(i, 5);
      e.actor = rows->text(i, 6);
      e.body = rows->text(i, 7);
      e.prev_hash = rows->text(i, 8);
      e.hash = rows->text(i, 9);
      out.push_back(std::move(e));
    }
    return out;
  });
}

namespace {

User read_user(const Rows& r, int i) {
  return User{r.text(i, 0), r.text(i, 1), r.text(i, 2), r.integer(i, 3), r.integer(i, 4) != 0};
}

}  // namespace

Status PgStore::add_user(const User& u) {
  return impl_->write([&](PGconn* db) -> Status {
    auto added =
        query(db,
              "INSERT INTO users(name, role, password_hash, created_ms, disabled) "
              "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
              "add user " + u.name, u.name, u.role, u.password_hash, u.created_ms, u.disabled);
    if (!added) return std::unexpected(added.error());
    if (added->affected() == 0) return fail("user '" + u.name + "' already exists");
    return {};
  });
}

Status PgStore::update_user(const User& u) {
  return impl_->write([&](PGconn* db) -> Status {
    auto updated = query(db,
                         "UPDATE users SET role = $2, password_hash = $3, disabled = $4 "
                         "WHERE name = $1",
                         "update user " + u.name, u.name, u.role, u.password_hash, u.disabled);
    if (!updated) return std::unexpected(updated.error());
    if (updated->affected() == 0) return fail("no user '" + u.name + "'");
    auto ended = query(db, "DELETE FROM sessions WHERE \"user\" = $1",
                       "end the sessions of " + u.name, u.name);
    if (!ended) return std::unexpected(ended.error());
    return {};
  });
}

Result<std::optional<User>> PgStore::find_user(const std::string& name) {
  return impl_->read([&](PGconn* db) -> Result<std::optional<User>> {
    const std::string sql = std::string("SELECT ") + columns::kUser + " FROM users WHERE name = $1";
    auto rows = query(db, sql.c_str(), "find user", name);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::optional<User>();
    return read_user(*rows, 0);
  });
}

Result<std::vector<User>> PgStore::users() {
  return impl_->read([&](PGconn* db) -> Result<std::vector<User>> {
    // COLLATE "C": by name byte for byte, as SQLite orders it.
    const std::string sql =
        std::string("SELECT ") + columns::kUser + " FROM users ORDER BY name COLLATE \"C\"";
    auto rows = query(db, sql.c_str(), "list users");
    if (!rows) return std::unexpected(rows.error());
    std::vector<User> out;
    for (int i = 0; i < rows->size(); ++i) out.push_back(read_user(*rows, i));
    return out;
  });
}

Status PgStore::add_session(const Session& s) {
  return impl_->write([&](PGconn* db) -> Status {
    // In one statement with the user's check: a user disabled meanwhile gets no session.
    auto added = query(db,
                       "INSERT INTO sessions(token_sha256, \"user\", csrf_token, created_ms, "
                       "expires_ms, last_seen_ms) SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS "
                       "(SELECT 1 FROM users WHERE name = $2 AND disabled = 0)",
                       "add session", s.token_sha256, s.user, s.csrf_token, s.created_ms,
                       s.expires_ms, s.last_seen_ms);
    if (!added) return std::unexpected(added.error());
    if (added->affected() == 0) return fail("no session for '" + s.user + "': unknown or disabled");
    return {};
  });
}

Result<std::optional<Session>> PgStore::find_session(const std::string& token_sha256) {
  return impl_->read([&](PGconn* db) -> Result<std::optional<Session>> {
    const std::string sql =
        std::string("SELECT ") + columns::kSession + " FROM sessions WHERE token_sha256 = $1";
    auto rows = query(db, sql.c_str(), "find session", token_sha256);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::optional<Session>();
    return Session{rows->text(0, 0),    rows->text(0, 1),    rows->text(0, 2),
                   rows->integer(0, 3), rows->integer(0, 4), rows->integer(0, 5)};
  });
}

Status PgStore::touch_session(const std::string& token_sha256, std::int64_t last_seen_ms) {
  return impl_->write([&](PGconn* db) -> Status {
    auto s = query(db,
                   "UPDATE sessions SET last_seen_ms = GREATEST(last_seen_ms, $2) "
                   "WHERE token_sha256 = $1",
                   "touch session", token_sha256, last_seen_ms);
    if (!s) return std::unexpected(s.error());
    return {};
  });
}

Status PgStore::delete_session(const std::string& token_sha256) {
  return impl_->write([&](PGconn* db) -> Status {
    auto s = query(db, "DELETE FROM sessions WHERE token_sha256 = $1", "end session", token_sha256);
    if (!s) return std::unexpected(s.error());
    return {};
  });
}

Result<std::int64_t> PgStore::delete_ended_sessions(std::int64_t now_ms,
                                                    std::int64_t idle_before_ms) {
  std::int64_t deleted = 0;
  auto written = impl_->write([&](PGconn* db) -> Status {
    auto rows = query(db, "DELETE FROM sessions WHERE expires_ms <= $1 OR last_seen_ms <= $2",
                      "delete ended sessions", now_ms, idle_before_ms);
    if (!rows) return std::unexpected(rows.error());
    deleted = rows->affected();
    return {};
  });
  if (!written) return std::unexpected(written.error());
  return deleted;
}

WriteStats PgStore::write_stats() const {
  return impl_->commits ? impl_->commits->stats() : WriteStats{};
}

}  // namespace att
