#include "capture/spool.h"

#include <sqlite3.h>

#include <optional>
#include <system_error>

#include "common/log.h"
#include "common/sqlite_db.h"
#include "common/time_util.h"

namespace att {
namespace {

constexpr char kSchema[] = R"sql(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS items (
  sequence        INTEGER PRIMARY KEY,
  capture_time_ms INTEGER NOT NULL,
  kind            TEXT NOT NULL,
  roll_call       INTEGER NOT NULL,
  body            BLOB NOT NULL,
  meta            TEXT NOT NULL,
  bytes           INTEGER NOT NULL,  -- body + meta, what the bound counts
  live            INTEGER NOT NULL DEFAULT 0  -- taken only for a live view
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters VALUES ('dropped', 0), ('dropped_unreported', 0);
)sql";

constexpr char kDelete[] = "DELETE FROM items WHERE sequence = ?1";

// Opens and checks a spool file; any failure means the file is not a usable spool.
Result<sql::Db> open_checked(const std::filesystem::path& path) {
  auto db = sql::open(path, sql::read_write_create());
  if (!db) return db;
  if (auto ok = sql::exec(db->get(), kSchema); !ok) return std::unexpected(ok.error());
  // A spool made before items could be live-only has no `live` column: none of its items is.
  if (!sql::prepare(db->get(), "SELECT live FROM items LIMIT 0")) {
    auto added =
        sql::exec(db->get(), "ALTER TABLE items ADD COLUMN live INTEGER NOT NULL DEFAULT 0");
    if (!added) return std::unexpected(added.error());
  }
  auto check = sql::prepare(db->get(), "PRAGMA quick_check");
  if (!check) return std::unexpected(check.error());
  auto row = sql::step(db->get(), check->get(), "check spool");
  if (!row) return std::unexpected(row.error());
  const std::string verdict = *row ? sql::column_text(check->get(), 0) : "";
  if (verdict != "ok") return fail("integrity check says: " + verdict);
  return db;
}

// A PRAGMA's number (0 when it cannot be read).
std::int64_t pragma(sqlite3* db, const std::string& name) {
  auto stmt = sql::prepare(db, ("PRAGMA " + name).c_str());
  if (!stmt) return 0;
  auto row = sql::step(db, stmt->get(), name);
  return row && *row ? sql::column_int64(stmt->get(), 0) : 0;
}

}  // namespace

struct Spool::Impl {
  sql::Db db;
  std::filesystem::path dir;  // where the disk's free space is measured
  std::int64_t max_bytes = 0;
  std::int64_t keep_free = 0;
  std::int64_t sending = -1;  // the item being uploaded, dropped last
};

Spool::Spool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Spool::~Spool() = default;

void Spool::keep_free(std::int64_t bytes) {
  impl_->keep_free = bytes;
}

Result<std::unique_ptr<Spool>> Spool::open(const std::filesystem::path& path,
                                           std::int64_t max_bytes, std::string* recovered) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec)
    return fail("cannot create the spool directory " + path.parent_path().string() + ": " +
                ec.message());
  auto db = open_checked(path);
  if (!db && std::filesystem::exists(path, ec)) {
    // Not a usable spool: keep it for a technician to look at, and start afresh.
    const std::string aside = path.string() + ".corrupt-" + std::to_string(now_ms());
    std::filesystem::rename(path, aside, ec);
    if (ec)
      return fail("spool " + path.string() + " is unusable (" + db.error().message +
                  ") and cannot be moved aside: " + ec.message());
    for (const char* suffix : {"-wal", "-shm"}) {
      std::filesystem::rename(path.string() + suffix, aside + suffix, ec);  // absent is fine
    }
    const std::string why = "spool " + path.string() + " was unusable (" + db.error().message +
                            "); moved aside to " + aside + " and started a fresh one";
    log::get("spool")->error("{}", why);
    if (recovered) *recovered = why;
    db = open_checked(path);
  }
  if (!db) return fail("cannot open the spool " + path.string() + ": " + db.error().message);
  auto impl = std::make_unique<Impl>();
  impl->db = std::move(*db);
  impl->max_bytes = max_bytes;
  impl->dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  return std::unique_ptr<Spool>(new Spool(std::move(impl)));
}

Status Spool::put(const SpoolItem& item) {
  sqlite3* db = impl_->db.get();
  const auto size = static_cast<std::int64_t>(item.body.size() + item.meta.size());
  if (size > impl_->max_bytes) {
    return fail("item of " + std::to_string(size) + " bytes is larger than the whole spool (" +
                std::to_string(impl_->max_bytes) + " bytes)");
  }
  if (auto ok = sql::exec(db, "BEGIN IMMEDIATE"); !ok) return ok;
  auto work = [&]() -> Status {
    auto exists = sql::prepare(db, "SELECT 1 FROM items WHERE sequence = ?1");
    if (!exists) return std::unexpected(exists.error());
    sql::bind(exists->get(), 1, item.sequence);
    auto found = sql::step(db, exists->get(), "look up sequence");
    if (!found) return std::unexpected(found.error());
    if (*found)
      return fail("sequence " + std::to_string(item.sequence) + " is already in the spool");

    auto total = sql::prepare(db, "SELECT COALESCE(SUM(bytes), 0) FROM items");
    if (!total) return std::unexpected(total.error());
    if (auto row = sql::step(db, total->get(), "spool size"); !row)
      return std::unexpected(row.error());
    std::int64_t used = sql::column_int64(total->get(), 0);
    // Room on the disk: its free space and the spool's free pages (which a drop adds to, and
    // the insert reuses), less the floor. Unknown (an error) counts as no floor.
    std::optional<std::int64_t> disk_room;
    if (impl_->keep_free > 0) {
      std::error_code ec;
      const auto space = std::filesystem::space(impl_->dir, ec);
      if (!ec) {
        const auto free_pages = pragma(db, "freelist_count") * pragma(db, "page_size");
        disk_room = static_cast<std::int64_t>(space.available) + free_pages - impl_->keep_free;
      }
    }

    // Make room: the oldest live-only frames first, then the oldest ordinary items, roll calls
    // only when nothing else is left.
    std::int64_t dropped = 0, dropped_bytes = 0;
    while (used + size > impl_->max_bytes || (disk_room && size > *disk_room + dropped_bytes)) {
      // The item being sent goes last: dropping it would count as lost a frame that arrives.
      auto oldest = sql::prepare(db,
                                 "SELECT sequence, bytes FROM items "
                                 "ORDER BY sequence = ?1, roll_call, live DESC, sequence LIMIT 1");
      if (!oldest) return std::unexpected(oldest.error());
      sql::bind(oldest->get(), 1, impl_->sending);
      auto row = sql::step(db, oldest->get(), "oldest item");
      if (!row) return std::unexpected(row.error());
      if (!*row) {  // the spool is empty (size <= max_bytes): the disk has no room
        return fail("the disk is full: " + std::to_string(size) + " bytes do not fit while " +
                    std::to_string(impl_->keep_free >> 20) + " MiB are kept free on " +
                    impl_->dir.string());
      }
      const std::int64_t sequence = sql::column_int64(oldest->get(), 0);
      const std::int64_t bytes = sql::column_int64(oldest->get(), 1);
      used -= bytes;
      dropped_bytes += bytes;
      if (auto done = sql::run(db, kDelete, "drop item", sequence); !done) return done;
      ++dropped;
    }
    if (dropped > 0) {
      auto done = sql::run(
          db,
          "UPDATE counters SET value = value + ?1 WHERE name IN ('dropped', 'dropped_unreported')",
          "count drops", dropped);
      if (!done) return done;
      if (used + dropped_bytes + size > impl_->max_bytes) {
        log::get("spool")->warn("spool full: dropped the {} oldest item(s) to keep {} bytes",
                                dropped, impl_->max_bytes);
      } else {
        log::get("spool")->warn(
            "disk nearly full: dropped the {} oldest item(s) to keep {} MiB free", dropped,
            impl_->keep_free >> 20);
      }
    }

    auto insert = sql::prepare(db,
                               "INSERT INTO items(sequence, capture_time_ms, kind, roll_call, "
                               "body, meta, bytes, live) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!insert) return std::unexpected(insert.error());
    sqlite3_stmt* s = insert->get();
    sql::bind(s, 1, item.sequence);
    sql::bind(s, 2, item.capture_time_ms);
    sql::bind(s, 3, item.kind);
    sql::bind(s, 4, item.roll_call ? 1 : 0);
    sql::bind_blob(s, 5, item.body);
    sql::bind(s, 6, item.meta);
    sql::bind(s, 7, size);
    sql::bind(s, 8, item.live ? 1 : 0);
    if (auto done = sql::step(db, s, "spool item"); !done) return std::unexpected(done.error());
    return {};
  };
  if (auto ok = work(); !ok) {
    (void)sql::exec(db, "ROLLBACK");
    return ok;
  }
  return sql::exec(db, "COMMIT");
}

Result<std::vector<SpoolItem>> Spool::oldest(int limit) {
  sqlite3* db = impl_->db.get();
  auto stmt = sql::prepare(db,
                           "SELECT sequence, capture_time_ms, kind, roll_call, body, meta, live "
                           "FROM items ORDER BY sequence LIMIT ?1");
  if (!stmt) return std::unexpected(stmt.error());
  sql::bind(stmt->get(), 1, limit);
  std::vector<SpoolItem> items;
  for (;;) {
    auto row = sql::step(db, stmt->get(), "read spool");
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    sqlite3_stmt* s = stmt->get();
    items.push_back(SpoolItem{sql::column_int64(s, 0), sql::column_int64(s, 1),
                              sql::column_text(s, 2), sql::column_int64(s, 3) != 0,
                              sql::column_text(s, 4), sql::column_text(s, 5),
                              sql::column_int64(s, 6) != 0});
  }
  return items;
}

void Spool::set_sending(std::int64_t sequence) {
  impl_->sending = sequence;
}

Status Spool::acknowledge(std::int64_t sequence) {
  return sql::run(impl_->db.get(), kDelete, "acknowledge", sequence);
}

Result<std::int64_t> Spool::drop_live() {
  sqlite3* db = impl_->db.get();
  auto done = sql::run(db, "DELETE FROM items WHERE live = 1 AND sequence != ?1", "drop live",
                       impl_->sending);
  if (!done) return std::unexpected(done.error());
  return static_cast<std::int64_t>(sqlite3_changes(db));
}

Status Spool::dropped_reported(std::int64_t count) {
  return sql::run(
      impl_->db.get(),
      "UPDATE counters SET value = MAX(0, value - ?1) WHERE name = 'dropped_unreported'",
      "report drops", count);
}

Result<SpoolStats> Spool::stats() {
  sqlite3* db = impl_->db.get();
  auto stmt =
      sql::prepare(db,
                   "SELECT COUNT(*), COALESCE(SUM(bytes), 0), "
                   "(SELECT value FROM counters WHERE name = 'dropped'), "
                   "(SELECT value FROM counters WHERE name = 'dropped_unreported') FROM items");
  if (!stmt) return std::unexpected(stmt.error());
  auto row = sql::step(db, stmt->get(), "spool stats");
  if (!row) return std::unexpected(row.error());
  sqlite3_stmt* s = stmt->get();
  return SpoolStats{sql::column_int64(s, 0), sql::column_int64(s, 1), sql::column_int64(s, 2),
                    sql::column_int64(s, 3)};
}

}  // namespace att
