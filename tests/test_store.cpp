// The SQLite store: schema versioning and migrations, refusal of files it must not touch
// (not a database, a newer schema), and the observation rules (retry vs. reused sequence).
// The database file is inspected with the sqlite3 C API directly, beside the store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "analysis/app/retention.h"
#include "analysis/domain/ledger.h"
#include "analysis/domain/store.h"
#include "analysis/store/migrations.h"
#include "analysis/store/pg_db.h"
#include "analysis/store/pg_store.h"
#include "analysis/store/sqlite_store.h"
#include "analysis/store/sqlite_writer.h"
#include "common/sqlite_db.h"
#include "tests/support/store_backends.h"
#include "tests/support/test_support.h"

namespace {

namespace fs = std::filesystem;
using att::CountedBy;
using att::Heartbeat;
using att::InsertOutcome;
using att::Migration;
using att::Observation;
using att::PgStore;
using att::SqliteStore;
using att::testing::Backend;
using att::testing::RawDb;
using att::testing::TempDir;
using att::testing::TestStore;
using ::testing::HasSubstr;

std::unique_ptr<SqliteStore> open_ok(const fs::path& path) {
  auto s = SqliteStore::open(path);
  EXPECT_TRUE(s) << s.error().message;
  return s ? std::move(*s) : nullptr;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

Observation make_obs(const std::string& site, std::int64_t seq, std::int64_t captured_at_ms,
                     const std::string& sha = "aa11") {
  Observation o;
  o.site_id = site;
  o.sequence = seq;
  o.captured_at_ms = captured_at_ms;
  o.received_at_ms = captured_at_ms + 250;
  o.count = static_cast<int>(seq % 50);
  o.frame_count = static_cast<int>(seq % 7);
  o.detector = "yunet";
  o.width = 1920;
  o.height = 1080;
  o.frame_path = "frames/" + site + "/" + std::to_string(seq) + ".jpg";
  o.frame_sha256 = sha;
  return o;
}

// ----------------------------------------------------------------------------------------
// Schema and migrations

TEST(SqliteStoreSchema, FreshDatabaseIsAtTheLatestVersion) {
  TempDir dir;
  auto store = open_ok(dir / "att.db");
  ASSERT_TRUE(store);
  EXPECT_EQ(SqliteStore::latest_schema_version(), 10);
  EXPECT_EQ(SqliteStore::latest_schema_version(), att::builtin_migrations().back().version);
  auto v = store->schema_version();
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, SqliteStore::latest_schema_version());

  RawDb raw(dir / "att.db");
  EXPECT_EQ(raw.integer("PRAGMA user_version"), 10);
  EXPECT_TRUE(raw.has_table("sites"));
  EXPECT_TRUE(raw.has_table("observations"));
  EXPECT_TRUE(raw.has_table("heartbeats"));
  EXPECT_TRUE(raw.has_table("users"));
  EXPECT_TRUE(raw.has_table("sessions"));
}

TEST(SqliteStoreSchema, BuiltinMigrationsAreNumberedFromOne) {
  const auto m = att::builtin_migrations();
  ASSERT_FALSE(m.empty());
  for (size_t i = 0; i < m.size(); ++i) {
    EXPECT_EQ(m[i].version, static_cast<int>(i) + 1);
    EXPECT_NE(m[i].name, nullptr);
    EXPECT_NE(m[i].sql, nullptr);
  }
}

TEST(SqliteStoreSchema, JournalModeIsWal) {
  TempDir dir;
  auto store = open_ok(dir / "att.db");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->sync_sites(att::testing::small_province()));
  RawDb raw(dir / "att.db");
  EXPECT_EQ(raw.scalar("PRAGMA journal_mode"), "wal");
  EXPECT_TRUE(fs::exists(dir / "att.db-wal"));
}

TEST(SqliteStoreSchema, TheDatabaseAndItsWalAreReadableByTheirOwnerOnly) {
  TempDir dir;
  {
    auto store = open_ok(dir / "att.db");
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->sync_sites(att::testing::small_province()));
    for (const char* f : {"att.db", "att.db-wal", "att.db-shm"}) {
      ASSERT_TRUE(fs::exists(dir / f)) << f;
      EXPECT_EQ(fs::status(dir / f).permissions() & fs::perms::all,
                fs::perms::owner_read | fs::perms::owner_write)
          << f;
    }
  }
  // One made readable by others (by hand, or before this rule) is closed on the next open.
  fs::permissions(dir / "att.db", fs::perms::group_read | fs::perms::others_read,
                  fs::perm_options::add);
  auto again = open_ok(dir / "att.db");
  ASSERT_TRUE(again);
  EXPECT_EQ(fs::status(dir / "att.db").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST(SqliteStoreSchema, ReopenKeepsDataAndDoesNotMigrateAgain) {
  TempDir dir;
  const fs::path path = dir / "att.db";
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->sync_sites(att::testing::small_province()));
    ASSERT_EQ(store->insert_observation(make_obs("td-01", 1, 1000)), InsertOutcome::kInserted);
  }
  auto store = open_ok(path);  // CREATE TABLE again would fail: the tables exist
  ASSERT_TRUE(store);
  EXPECT_EQ(store->schema_version(), 10);
  EXPECT_EQ(store->observation_count("td-01"), 1);
  auto o = store->find_observation("td-01", 1);
  ASSERT_TRUE(o && *o);
  EXPECT_EQ((*o)->frame_path, "frames/td-01/1.jpg");
}

TEST(SqliteStoreSchema, AppliedMigrationRunsOnlyOnce) {
  // A migration with a side effect that would show a second run: one more row.
  static constexpr Migration kOnce[] = {
      {1, "counter", "CREATE TABLE runs(n INTEGER); INSERT INTO runs VALUES (1);"},
  };
  TempDir dir;
  const fs::path path = dir / "m.db";
  for (int i = 0; i < 3; ++i) {
    auto s = SqliteStore::open(path, kOnce);
    ASSERT_TRUE(s) << s.error().message;
  }
  RawDb raw(path);
  EXPECT_EQ(raw.integer("SELECT COUNT(*) FROM runs"), 1);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), 1);
}

TEST(SqliteStoreSchema, NewerSchemaIsRefused) {
  TempDir dir;
  const fs::path path = dir / "att.db";
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store);
  }
  {
    RawDb raw(path);
    raw.exec("PRAGMA user_version = 99");
  }
  auto s = SqliteStore::open(path);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, path.string() +
                                   ": database schema version 99 is newer than this build knows (" +
                                   std::to_string(SqliteStore::latest_schema_version()) +
                                   "); run a newer attendance-server");
  RawDb raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), 99);  // left as it was
}

TEST(SqliteStoreSchema, VersionOneRowsKeepTheirCountAsTheirFrameCount) {
  TempDir dir;
  const fs::path path = dir / "att.db";
  {  // a database written by the first release
    auto v1 = SqliteStore::open(path, att::builtin_migrations().first(1));
    ASSERT_TRUE(v1) << v1.error().message;
    ASSERT_TRUE((*v1)->sync_sites(att::testing::small_province()));
    RawDb raw(path);
    raw.exec(
        "INSERT INTO observations(site_id, sequence, captured_at_ms, received_at_ms, count, "
        "boxes, detector, width, height, frame_path, frame_sha256) VALUES "
        "('td-01', 1, 1000, 1200, 17, '[]', 'yunet', 640, 480, 'f.jpg', 'ab')");
  }
  auto store = open_ok(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->schema_version(), 10);
  auto o = store->find_observation("td-01", 1);
  ASSERT_TRUE(o && *o);
  EXPECT_EQ((*o)->count, 17);
  EXPECT_EQ((*o)->frame_count, 17);
  EXPECT_EQ((*o)->counted_by, CountedBy::kService);  // every row from before: the service's
}

TEST(SqliteStoreSchema, DatabaseFromALaterListIsRefusedByTheBuiltinList) {
  // One migration more than this build has.
  const int known = SqliteStore::latest_schema_version();
  std::vector<std::string> sql;
  for (int v = 1; v <= known + 1; ++v) sql.push_back("CREATE TABLE t" + std::to_string(v) + "(x);");
  std::vector<Migration> later;
  for (int v = 1; v <= known + 1; ++v) later.push_back({v, "table", sql[v - 1].c_str()});
  TempDir dir;
  const fs::path path = dir / "att.db";
  ASSERT_TRUE(SqliteStore::open(path, later));
  auto s = SqliteStore::open(path);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message,
              HasSubstr("database schema version " + std::to_string(known + 1) +
                        " is newer than this build knows (" + std::to_string(known) + ")"));
}

TEST(SqliteStoreMigrations, TwoGoodMigrationsApplyInOrder) {
  static constexpr Migration kTwo[] = {
      {1, "create a", "CREATE TABLE a(x INTEGER); INSERT INTO a VALUES (1);"},
      // Depends on migration 1 having run first.
      {2, "fill b from a", "CREATE TABLE b(y INTEGER); INSERT INTO b SELECT x + 1 FROM a;"},
  };
  TempDir dir;
  const fs::path path = dir / "m.db";
  auto s = SqliteStore::open(path, kTwo);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ((*s)->schema_version(), 2);
  RawDb raw(path);
  EXPECT_EQ(raw.integer("SELECT y FROM b"), 2);
}

TEST(SqliteStoreMigrations, OneAtATimeAcrossOpens) {
  static constexpr Migration kTwo[] = {
      {1, "create a", "CREATE TABLE a(x INTEGER);"},
      {2, "create b", "CREATE TABLE b(y INTEGER);"},
  };
  TempDir dir;
  const fs::path path = dir / "m.db";
  ASSERT_TRUE(SqliteStore::open(path, std::span(kTwo, 1)));
  {
    RawDb raw(path);
    EXPECT_EQ(raw.integer("PRAGMA user_version"), 1);
    EXPECT_FALSE(raw.has_table("b"));
  }
  auto s = SqliteStore::open(path, kTwo);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ((*s)->schema_version(), 2);
  RawDb raw(path);
  EXPECT_TRUE(raw.has_table("b"));
}

TEST(SqliteStoreMigrations, FailedMigrationIsRolledBackAndStopsTheRun) {
  static constexpr Migration kBroken[] = {
      {1, "create a", "CREATE TABLE a(x INTEGER);"},
      // The first statement succeeds; the second fails, so the first must be undone.
      {2, "broken", "CREATE TABLE b(y INTEGER); INSERT INTO no_such_table VALUES (1);"},
      {3, "never reached", "CREATE TABLE c(z INTEGER);"},
  };
  TempDir dir;
  const fs::path path = dir / "m.db";
  auto s = SqliteStore::open(path, kBroken);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            path.string() +
                ": migration 2 (broken) failed and was rolled back: no such table: "
                "no_such_table");
  RawDb raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), 1);
  EXPECT_TRUE(raw.has_table("a"));
  EXPECT_FALSE(raw.has_table("b"));
  EXPECT_FALSE(raw.has_table("c"));
}

TEST(SqliteStoreMigrations, FixedMigrationAppliesAfterAFailedOne) {
  static constexpr Migration kBroken[] = {
      {1, "create a", "CREATE TABLE a(x INTEGER);"},
      {2, "broken", "CREATE TABLE b(y INTEGER); SELECT nonsense FROM;"},
  };
  static constexpr Migration kFixed[] = {
      {1, "create a", "CREATE TABLE a(x INTEGER);"},
      {2, "fixed", "CREATE TABLE b(y INTEGER);"},
  };
  TempDir dir;
  const fs::path path = dir / "m.db";
  auto broken = SqliteStore::open(path, kBroken);
  ASSERT_FALSE(broken);
  EXPECT_THAT(broken.error().message,
              HasSubstr("migration 2 (broken) failed and was rolled back: "));
  auto fixed = SqliteStore::open(path, kFixed);
  ASSERT_TRUE(fixed) << fixed.error().message;
  EXPECT_EQ((*fixed)->schema_version(), 2);
}

TEST(SqliteStoreMigrations, OutOfOrderNumberingIsRefused) {
  static constexpr Migration kSwapped[] = {
      {2, "two", "CREATE TABLE two(y INTEGER);"},
      {1, "one", "CREATE TABLE one(x INTEGER);"},
  };
  TempDir dir;
  const fs::path path = dir / "m.db";
  auto s = SqliteStore::open(path, kSwapped);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            path.string() + ": migrations must be numbered 1, 2, 3, ... in order");
  RawDb raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), 0);
  EXPECT_FALSE(raw.has_table("one"));
  EXPECT_FALSE(raw.has_table("two"));
}

TEST(SqliteStoreMigrations, GapsAndRepeatsAreRefused) {
  static constexpr Migration kGap[] = {
      {1, "one", "CREATE TABLE one(x INTEGER);"},
      {3, "three", "CREATE TABLE three(y INTEGER);"},
  };
  static constexpr Migration kRepeat[] = {
      {1, "one", "CREATE TABLE one(x INTEGER);"},
      {1, "one again", "CREATE TABLE again(y INTEGER);"},
  };
  TempDir dir;
  auto gap = SqliteStore::open(dir / "gap.db", kGap);
  ASSERT_FALSE(gap);
  EXPECT_THAT(gap.error().message, HasSubstr("migrations must be numbered 1, 2, 3, ... in order"));
  auto repeat = SqliteStore::open(dir / "repeat.db", kRepeat);
  ASSERT_FALSE(repeat);
  EXPECT_THAT(repeat.error().message,
              HasSubstr("migrations must be numbered 1, 2, 3, ... in order"));
  // Refused before anything is applied: not even migration 1.
  RawDb raw(dir / "gap.db");
  EXPECT_EQ(raw.integer("PRAGMA user_version"), 0);
  EXPECT_FALSE(raw.has_table("one"));
  EXPECT_FALSE(raw.has_table("three"));
}

// ----------------------------------------------------------------------------------------
// Files that must not be used

TEST(SqliteStoreOpen, GarbageFileIsRefusedAndLeftUnchanged) {
  TempDir dir;
  const fs::path path = dir / "attendance.db";
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 131 + 7) % 256);
  att::testing::write_file(path, garbage);

  auto s = SqliteStore::open(path);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            path.string() + " is not a usable SQLite database: file is not a database");
  EXPECT_EQ(s.error().code, att::ErrorCode::kCorrupt);
  EXPECT_EQ(att::testing::read_file(path), garbage);
}

TEST(SqliteStoreOpen, TextFileIsRefused) {
  TempDir dir;
  const fs::path path = dir / "notes.db";
  const std::string text = "id,name\ntd-01,Trường THCS Bản Giang\n";
  att::testing::write_file(path, text);
  auto s = SqliteStore::open(path);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr(path.string()));
  EXPECT_THAT(s.error().message, HasSubstr("not a usable SQLite database"));
  EXPECT_EQ(att::testing::read_file(path), text);
}

TEST(SqliteStoreOpen, MissingDirectoryIsAClearError) {
  TempDir dir;
  const fs::path path = dir / "no" / "such" / "dir" / "att.db";
  auto s = SqliteStore::open(path);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            "cannot open database " + path.string() + ": unable to open database file");
  EXPECT_FALSE(fs::exists(dir / "no"));
}

// ----------------------------------------------------------------------------------------
// Read-only open: what verification of an auditor's copy relies on

att::SqliteStoreOptions read_only() {
  att::SqliteStoreOptions options;
  options.read_only = true;
  return options;
}

TEST(SqliteStoreReadOnly, AMissingFileIsAnErrorAndNothingIsCreated) {
  TempDir dir;
  const fs::path path = dir / "attendance.db";
  auto s = SqliteStore::open(path, read_only());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "cannot open database " + path.string() + ": no such file");
  EXPECT_EQ(s.error().code, att::ErrorCode::kNotFound);
  EXPECT_TRUE(fs::is_empty(dir.path()));  // no database, no -wal or -shm, no ledger.head
}

TEST(SqliteStoreReadOnly, ReadsEverythingRefusesEveryWriteAndLeavesTheFilesByteForByte) {
  TempDir dir;
  const fs::path path = dir / "attendance.db";
  att::LedgerEntry entry;
  entry.kind = "alert";
  entry.subject = "alert/td-01/1";
  entry.actor = "system";
  entry.body = "{}";
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->sync_sites(att::testing::small_province()));
    ASSERT_EQ(store->insert_observation(make_obs("td-01", 1, 1000)), InsertOutcome::kInserted);
    ASSERT_TRUE(store->append(att::Chain::kLedger, entry));
    ASSERT_TRUE(store->add_user({"an", "auditor", "hash", 1, false}));
  }
  const auto before = att::testing::files_in(dir.path());
  ASSERT_TRUE(before.contains("attendance.db"));
  ASSERT_TRUE(before.contains("ledger.head"));
  {
    auto opened = SqliteStore::open(path, read_only());
    ASSERT_TRUE(opened) << opened.error().message;
    SqliteStore& store = **opened;
    EXPECT_EQ(store.schema_version(), SqliteStore::latest_schema_version());
    auto o = store.find_observation("td-01", 1);
    ASSERT_TRUE(o && *o);
    EXPECT_EQ((*o)->frame_sha256, "aa11");
    auto entries = store.entries(att::Chain::kLedger, {});
    ASSERT_TRUE(entries);
    ASSERT_EQ(entries->size(), 1u);
    EXPECT_EQ((*entries)[0].subject, "alert/td-01/1");
    auto user = store.find_user("an");
    ASSERT_TRUE(user && *user);

    const std::string refused = path.string() + " is open read-only: nothing is written to it";
    auto obs = store.insert_observation(make_obs("td-01", 2, 2000));
    ASSERT_FALSE(obs);
    EXPECT_EQ(obs.error().message, refused);
    auto appended = store.append(att::Chain::kLedger, entry);
    ASSERT_FALSE(appended);
    EXPECT_EQ(appended.error().message, refused);
    EXPECT_FALSE(store.sync_sites(att::testing::small_province()));
    EXPECT_FALSE(store.insert_heartbeat(Heartbeat{"td-01", 3, 3000, 3100, "{}", 0}));
    EXPECT_FALSE(store.add_user({"other", "auditor", "hash", 1, false}));
    EXPECT_FALSE(store.expire_frames(1'000'000, 10));
    EXPECT_EQ(store.write_stats().writes, 0);
  }
  EXPECT_EQ(att::testing::changed_files(before, att::testing::files_in(dir.path())),
            std::vector<std::string>{});
}

TEST(SqliteStoreReadOnly, AnOlderSchemaIsReadAsItIsAndANewerOneIsRefused) {
  TempDir dir;
  const fs::path old_path = dir / "old.db";
  {
    auto v1 = SqliteStore::open(old_path, att::builtin_migrations().first(1));
    ASSERT_TRUE(v1) << v1.error().message;
    ASSERT_TRUE((*v1)->sync_sites(att::testing::small_province()));
  }
  const std::string old_bytes = att::testing::read_file(old_path);
  {
    auto old = SqliteStore::open(old_path, read_only());
    ASSERT_TRUE(old) << old.error().message;
    EXPECT_EQ((*old)->schema_version(), 1);  // not migrated
    auto entries = (*old)->entries(att::Chain::kLedger, {});
    ASSERT_FALSE(entries);
    EXPECT_EQ(entries.error().message,
              old_path.string() +
                  " has no ledger (it came with schema version 5; start attendance-server on "
                  "it once to migrate)");
  }
  EXPECT_EQ(att::testing::read_file(old_path), old_bytes);

  const fs::path new_path = dir / "new.db";
  {
    ASSERT_TRUE(open_ok(new_path));
    RawDb raw(new_path);
    raw.exec("PRAGMA user_version = 99");
  }
  auto newer = SqliteStore::open(new_path, read_only());
  ASSERT_FALSE(newer);
  EXPECT_EQ(newer.error().message, new_path.string() +
                                       ": database schema version 99 is newer than this build "
                                       "knows (" +
                                       std::to_string(SqliteStore::latest_schema_version()) +
                                       "); run a newer attendance-server");
}

TEST(SqliteStoreReadOnly, AFileThatIsNotADatabaseIsRefusedAndLeftUnchanged) {
  TempDir dir;
  const fs::path path = dir / "attendance.db";
  const std::string text = "id,name\ntd-01,Trường THCS Bản Giang\n";
  att::testing::write_file(path, text);
  auto s = SqliteStore::open(path, read_only());
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr(path.string() + " is not a usable SQLite database: "));
  EXPECT_EQ(s.error().code, att::ErrorCode::kCorrupt);
  EXPECT_EQ(att::testing::read_file(path), text);
}

// ----------------------------------------------------------------------------------------
// Sites and observations

// On both backends (tests/support/store_backends.h).
class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_EQ(store_.error(), "");
    ASSERT_TRUE(store_->sync_sites(att::testing::small_province()));
  }
  TempDir dir_;  // files beside the store (pictures)
  TestStore store_{GetParam()};
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, att::testing::all_backends(),
                         att::testing::backend_name);

TEST_P(StoreTest, WhoCountedIsKept) {
  Observation node = make_obs("td-01", 1, 1000);
  node.counted_by = CountedBy::kNode;
  node.frame_path = "";  // a node's count comes without a picture
  ASSERT_EQ(store_->insert_observation(node), InsertOutcome::kInserted);
  ASSERT_EQ(store_->insert_observation(make_obs("td-01", 2, 2000)), InsertOutcome::kInserted);
  EXPECT_EQ(store_->find_observation("td-01", 1).value()->counted_by, CountedBy::kNode);
  EXPECT_EQ(store_->find_observation("td-01", 2).value()->counted_by, CountedBy::kService);
  EXPECT_EQ(store_.integer("SELECT COUNT(*) FROM observations WHERE counted_by = 'node'"), 1);
}

TEST_P(StoreTest, EachChangeOfASitesSetupIsANewVersionAndTheSameSetupIsNot) {
  EXPECT_FALSE(store_->latest_setup("td-01").value());  // none before the first
  auto first = store_->put_setup("td-01", R"({"a":1})", 1000, "config");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->version, 1);
  EXPECT_EQ(store_->put_setup("td-01", R"({"a":1})", 2000, "hung").value().version,
            1);  // unchanged
  EXPECT_EQ(store_->put_setup("td-01", R"({"a":2})", 3000, "hung").value().version, 2);
  EXPECT_EQ(store_->put_setup("td-02", R"({"a":2})", 3000, "config").value().version,
            1);  // its own
  const auto latest = store_->latest_setup("td-01").value();
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->version, 2);
  EXPECT_EQ(latest->body, R"({"a":2})");
  EXPECT_EQ(latest->created_ms, 3000);
  EXPECT_EQ(latest->made_by, "hung");
  const auto history = store_->setup_history("td-01").value();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].version, 1);
  EXPECT_EQ(history[0].made_by, "config");
  EXPECT_EQ(history[1].version, 2);
  EXPECT_EQ(store_.integer("SELECT COUNT(*) FROM site_setups"), 3);
}

TEST_P(StoreTest, AnAuditsCountIsKeptOnItsObservation) {
  Observation evidence = make_obs("td-01", 1, 1000);
  evidence.counted_by = CountedBy::kNode;
  ASSERT_EQ(store_->insert_observation(evidence), InsertOutcome::kInserted);
  EXPECT_FALSE(store_->find_observation("td-01", 1).value()->audit_count);  // not audited yet
  ASSERT_TRUE(store_->record_audit("td-01", 1, 13));
  EXPECT_EQ(store_->find_observation("td-01", 1).value()->audit_count, 13);
  EXPECT_EQ(store_->latest_per_site().value().at(0).audit_count, 13);
  const att::Status unknown = store_->record_audit("td-01", 99, 13);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "record audit: site td-01 has no observation 99");
}

TEST_P(StoreTest, SyncSitesInsertsAndUpdatesById) {
  EXPECT_EQ(store_.integer("SELECT COUNT(*) FROM sites"), 3);
  EXPECT_EQ(store_.scalar("SELECT name FROM sites WHERE id = 'td-01'"), "Trường THCS Bản Giang");
  EXPECT_EQ(store_.scalar("SELECT school_level FROM sites WHERE id = 'mt-01'"), "preschool");
  EXPECT_EQ(store_.integer("SELECT expected_attendees FROM sites WHERE id = 'td-02'"), 45);

  auto sites = att::testing::small_province();
  sites[0].name = "Trường PTDTBT THCS Bản Giang";
  sites[0].expected_attendees = 64;
  sites.push_back({"sh-01", "Trường Tiểu học Nậm Tăm", "Sìn Hồ", att::SchoolLevel::kPrimary,
                   "Xã Nậm Tăm", 50, "USB"});
  ASSERT_TRUE(store_->sync_sites(sites));
  EXPECT_EQ(store_.integer("SELECT COUNT(*) FROM sites"), 4);
  EXPECT_EQ(store_.scalar("SELECT name FROM sites WHERE id = 'td-01'"),
            "Trường PTDTBT THCS Bản Giang");
  EXPECT_EQ(store_.integer("SELECT expected_attendees FROM sites WHERE id = 'td-01'"), 64);
  EXPECT_EQ(store_.scalar("SELECT district FROM sites WHERE id = 'sh-01'"), "Sìn Hồ");
}

TEST_P(StoreTest, InsertDuplicateConflict) {
  const Observation first = make_obs("td-01", 7, 1'700'000'000'000, "sha-one");
  EXPECT_EQ(store_->insert_observation(first), InsertOutcome::kInserted);
  EXPECT_EQ(store_->insert_observation(first), InsertOutcome::kDuplicate);  // a retry

  Observation reused = make_obs("td-01", 7, 1'700'000'999'000, "sha-two");
  reused.count = 42;
  EXPECT_EQ(store_->insert_observation(reused), InsertOutcome::kConflict);

  // Neither the retry nor the conflict changed what was stored.
  EXPECT_EQ(store_->observation_count("td-01"), 1);
  auto stored = store_->find_observation("td-01", 7);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->frame_sha256, "sha-one");
  EXPECT_EQ((*stored)->captured_at_ms, first.captured_at_ms);
  EXPECT_EQ((*stored)->count, first.count);
  EXPECT_EQ((*stored)->frame_count, first.frame_count);

  // The same sequence at another site is a different observation.
  EXPECT_EQ(store_->insert_observation(make_obs("td-02", 7, 1000, "sha-two")),
            InsertOutcome::kInserted);
}

TEST_P(StoreTest, FindObservationRoundTripsEveryField) {
  Observation o;
  o.site_id = "mt-01";
  o.sequence = 123456789012LL;
  o.captured_at_ms = 1'815'000'000'123LL;
  o.received_at_ms = 1'815'000'001'456LL;
  o.count = 3;
  o.boxes = {{12.34f, 56.78f, 90.06f, 100.0f, 0.87654f},
             {0.0f, 0.0f, 1.0f, 1.0f, 1.0f},
             {1919.96f, 1079.04f, 0.44f, 7.25f, 0.0004f}};
  o.detector = "haar";
  o.width = 1920;
  o.height = 1080;
  o.frame_path = "frames/mt-01/2027-07-12/000123456789012.jpg";
  o.frame_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  o.health = R"({"brightness":12.5,"flags":["dark"]})";
  ASSERT_EQ(store_->insert_observation(o), InsertOutcome::kInserted);

  auto found = store_->find_observation("mt-01", 123456789012LL);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(*found);
  const Observation& f = **found;
  EXPECT_EQ(f.site_id, o.site_id);
  EXPECT_EQ(f.sequence, o.sequence);
  EXPECT_EQ(f.captured_at_ms, o.captured_at_ms);
  EXPECT_EQ(f.received_at_ms, o.received_at_ms);
  EXPECT_EQ(f.count, o.count);
  EXPECT_EQ(f.detector, o.detector);
  EXPECT_EQ(f.width, o.width);
  EXPECT_EQ(f.height, o.height);
  EXPECT_EQ(f.frame_path, o.frame_path);
  EXPECT_EQ(f.frame_sha256, o.frame_sha256);
  EXPECT_EQ(f.health, o.health);
  ASSERT_EQ(f.boxes.size(), 3u);
  // Coordinates are kept to 0.1 px, scores to 0.001.
  EXPECT_FLOAT_EQ(f.boxes[0].x, 12.3f);
  EXPECT_FLOAT_EQ(f.boxes[0].y, 56.8f);
  EXPECT_FLOAT_EQ(f.boxes[0].w, 90.1f);
  EXPECT_FLOAT_EQ(f.boxes[0].h, 100.0f);
  EXPECT_FLOAT_EQ(f.boxes[0].score, 0.877f);
  EXPECT_FLOAT_EQ(f.boxes[1].x, 0.0f);
  EXPECT_FLOAT_EQ(f.boxes[1].w, 1.0f);
  EXPECT_FLOAT_EQ(f.boxes[1].score, 1.0f);
  EXPECT_FLOAT_EQ(f.boxes[2].x, 1920.0f);
  EXPECT_FLOAT_EQ(f.boxes[2].y, 1079.0f);
  EXPECT_FLOAT_EQ(f.boxes[2].w, 0.4f);
  EXPECT_FLOAT_EQ(f.boxes[2].h, 7.3f);
  EXPECT_FLOAT_EQ(f.boxes[2].score, 0.0f);
}

TEST_P(StoreTest, NoBoxesRoundTrip) {
  Observation o = make_obs("td-01", 1, 1000);
  o.count = 0;
  ASSERT_EQ(store_->insert_observation(o), InsertOutcome::kInserted);
  auto f = store_->find_observation("td-01", 1);
  ASSERT_TRUE(f && *f);
  EXPECT_TRUE((*f)->boxes.empty());
  EXPECT_EQ((*f)->count, 0);
}

TEST_P(StoreTest, FindMissingIsEmpty) {
  ASSERT_EQ(store_->insert_observation(make_obs("td-01", 1, 1000)), InsertOutcome::kInserted);
  auto wrong_seq = store_->find_observation("td-01", 2);
  ASSERT_TRUE(wrong_seq);
  EXPECT_FALSE(*wrong_seq);
  auto wrong_site = store_->find_observation("td-02", 1);
  ASSERT_TRUE(wrong_site);
  EXPECT_FALSE(*wrong_site);
}

TEST_P(StoreTest, LatestObservationIsByCaptureTimeNotArrival) {
  // Arrival order 1, 2, 3; capture times 1000, 3000, 2000: a late upload is not the latest.
  ASSERT_EQ(store_->insert_observation(make_obs("td-01", 1, 1000)), InsertOutcome::kInserted);
  ASSERT_EQ(store_->insert_observation(make_obs("td-01", 2, 3000)), InsertOutcome::kInserted);
  ASSERT_EQ(store_->insert_observation(make_obs("td-01", 3, 2000)), InsertOutcome::kInserted);
  auto latest = store_->latest_observation("td-01");
  ASSERT_TRUE(latest) << latest.error().message;
  ASSERT_TRUE(*latest);
  EXPECT_EQ((*latest)->sequence, 2);
  EXPECT_EQ((*latest)->captured_at_ms, 3000);

  // The same capture time: the higher sequence wins.
  ASSERT_EQ(store_->insert_observation(make_obs("td-01", 9, 3000)), InsertOutcome::kInserted);
  EXPECT_EQ((*store_->latest_observation("td-01"))->sequence, 9);

  auto none = store_->latest_observation("td-02");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST_P(StoreTest, LatestPerSiteOnePerSiteWithObservations) {
  ASSERT_EQ(store_->insert_observation(make_obs("td-01", 1, 5000)), InsertOutcome::kInserted);
  ASSERT_EQ(store_->insert_observation(make_obs("td-01", 2, 4000)), InsertOutcome::kInserted);
  ASSERT_EQ(store_->insert_observation(make_obs("mt-01", 10, 100)), InsertOutcome::kInserted);
  ASSERT_EQ(store_->insert_observation(make_obs("mt-01", 11, 200)), InsertOutcome::kInserted);
  ASSERT_EQ(store_->insert_observation(make_obs("mt-01", 12, 150)), InsertOutcome::kInserted);
  // td-02 has none.

  auto all = store_->latest_per_site();
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].site_id, "mt-01");  // ordered by site id
  EXPECT_EQ((*all)[0].sequence, 11);
  EXPECT_EQ((*all)[0].captured_at_ms, 200);
  EXPECT_EQ((*all)[0].frame_path, "frames/mt-01/11.jpg");
  EXPECT_EQ((*all)[1].site_id, "td-01");
  EXPECT_EQ((*all)[1].sequence, 1);
  EXPECT_EQ((*all)[1].captured_at_ms, 5000);
}

TEST_P(StoreTest, LatestPerSiteEmptyStore) {
  auto all = store_->latest_per_site();
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_TRUE(all->empty());
}

TEST_P(StoreTest, ObservationCount) {
  EXPECT_EQ(store_->observation_count("td-01"), 0);
  for (int seq = 1; seq <= 5; ++seq) {
    ASSERT_EQ(store_->insert_observation(make_obs("td-01", seq, seq * 1000)),
              InsertOutcome::kInserted);
  }
  ASSERT_EQ(store_->insert_observation(make_obs("td-02", 1, 1000)), InsertOutcome::kInserted);
  ASSERT_EQ(store_->insert_observation(make_obs("td-01", 3, 3000)), InsertOutcome::kDuplicate);
  EXPECT_EQ(store_->observation_count("td-01"), 5);
  EXPECT_EQ(store_->observation_count("td-02"), 1);
  EXPECT_EQ(store_->observation_count("mt-01"), 0);
  EXPECT_EQ(store_->observation_count("nowhere"), 0);
}

TEST_P(StoreTest, UnknownSiteIsRefusedAndNothingStored) {
  auto r = store_->insert_observation(make_obs("zz-99", 1, 1000));
  ASSERT_FALSE(r);
  // SQLite: "FOREIGN KEY constraint failed"; PostgreSQL: "... violates foreign key constraint".
  EXPECT_THAT(r.error().message, ::testing::StartsWith("store observation: "));
  EXPECT_THAT(lower(r.error().message), HasSubstr("foreign key constraint"));
  EXPECT_EQ(store_->observation_count("zz-99"), 0);
  auto f = store_->find_observation("zz-99", 1);
  ASSERT_TRUE(f);
  EXPECT_FALSE(*f);
  EXPECT_EQ(store_.integer("SELECT COUNT(*) FROM observations"), 0);

  // The store is still usable afterwards.
  EXPECT_EQ(store_->insert_observation(make_obs("td-01", 1, 1000)), InsertOutcome::kInserted);
}

TEST_P(StoreTest, WritesSurviveReopen) {
  ASSERT_EQ(store_->insert_observation(make_obs("td-01", 1, 1000)), InsertOutcome::kInserted);
  ASSERT_EQ(store_->insert_observation(make_obs("mt-01", 1, 2000)), InsertOutcome::kInserted);
  store_.reopen();
  ASSERT_EQ(store_.error(), "");
  EXPECT_EQ(store_->observation_count("td-01"), 1);
  auto all = store_->latest_per_site();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 2u);
  // A retry after the restart is still recognised as one.
  EXPECT_EQ(store_->insert_observation(make_obs("td-01", 1, 1000)), InsertOutcome::kDuplicate);
}

// ----------------------------------------------------------------------------------------
// Heartbeats

Heartbeat make_heartbeat(const std::string& site, std::int64_t seq, std::int64_t t,
                         std::int64_t dropped = 0) {
  return Heartbeat{
      site,   seq, t, t + 300, R"({"camera":{"state":"ok"},"seq":)" + std::to_string(seq) + "}",
      dropped};
}

TEST_P(StoreTest, AHeartbeatIsStoredOnceAndARetryGetsTheFirstDropCount) {
  auto first = store_->insert_heartbeat(make_heartbeat("td-01", 5, 1000, 7));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->outcome, InsertOutcome::kInserted);
  EXPECT_EQ(first->spool_dropped, 7);
  // The node retries after a lost answer, meanwhile having dropped more: the stored row and
  // its count stand, and the answer says what was counted, so the node subtracts just that.
  auto retry = store_->insert_heartbeat(make_heartbeat("td-01", 5, 1000, 9));
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->outcome, InsertOutcome::kDuplicate);
  EXPECT_EQ(retry->spool_dropped, 7);
  auto found = store_->find_heartbeat("td-01", 5);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->report, make_heartbeat("td-01", 5, 1000).report);
  EXPECT_EQ((*found)->captured_at_ms, 1000);
  EXPECT_EQ((*found)->received_at_ms, 1300);
  EXPECT_EQ((*found)->spool_dropped, 7);
  EXPECT_FALSE(store_->find_heartbeat("td-01", 6).value());
  EXPECT_EQ(store_->heartbeat_count("td-01"), 1);
  EXPECT_EQ(store_->spool_dropped_total("td-01"), 7);

  Heartbeat other = make_heartbeat("td-01", 5, 1000);
  other.report = R"({"camera":{"state":"no_frames"}})";
  auto conflict = store_->insert_heartbeat(other);
  ASSERT_TRUE(conflict);
  EXPECT_EQ(conflict->outcome, InsertOutcome::kConflict);
  EXPECT_EQ(store_->heartbeat_count("td-01"), 1);
}

TEST_P(StoreTest, LatestHeartbeatPerSiteIsByReportTimeAndDropsAddUp) {
  ASSERT_TRUE(store_->insert_heartbeat(make_heartbeat("td-01", 1, 1000, 2)));
  ASSERT_TRUE(store_->insert_heartbeat(make_heartbeat("td-01", 3, 3000, 1)));
  ASSERT_TRUE(store_->insert_heartbeat(make_heartbeat("td-01", 2, 2000)));  // arrived late
  ASSERT_TRUE(store_->insert_heartbeat(make_heartbeat("mt-01", 1, 500)));
  auto latest = store_->latest_heartbeat_per_site();
  ASSERT_TRUE(latest) << latest.error().message;
  ASSERT_EQ(latest->size(), 2u);  // td-02 has sent none
  EXPECT_EQ((*latest)[0].site_id, "mt-01");
  EXPECT_EQ((*latest)[1].site_id, "td-01");
  EXPECT_EQ((*latest)[1].sequence, 3);
  EXPECT_EQ((*latest)[1].received_at_ms, 3300);
  EXPECT_EQ((*latest)[1].report, make_heartbeat("td-01", 3, 3000).report);
  EXPECT_EQ(store_->spool_dropped_total("td-01"), 3);
  EXPECT_EQ(store_->spool_dropped_total("td-02"), 0);
}

TEST_P(StoreTest, AHeartbeatOfAnUnknownSiteIsRefused) {
  auto r = store_->insert_heartbeat(make_heartbeat("xx-01", 1, 1000));
  EXPECT_FALSE(r);
  EXPECT_EQ(store_->heartbeat_count("xx-01"), 0);
}

TEST_P(StoreTest, ObservationsBetweenAreTheSpanOldestFirstCutAtTheLimit) {
  for (std::int64_t seq = 1; seq <= 6; ++seq) {
    ASSERT_EQ(store_->insert_observation(make_obs("td-01", seq, seq * 1000)),
              InsertOutcome::kInserted);
  }
  ASSERT_EQ(store_->insert_observation(make_obs("td-02", 1, 3000)), InsertOutcome::kInserted);
  const auto sequences = [](const std::vector<Observation>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& o : rows) out.push_back(o.sequence);
    return out;
  };
  EXPECT_EQ(sequences(store_->observations_between("td-01", 2000, 5000, 100).value()),
            (std::vector<std::int64_t>{2, 3, 4}));
  EXPECT_EQ(sequences(store_->observations_between("td-01", 2000, 5000, 2).value()),
            (std::vector<std::int64_t>{2, 3}));
  EXPECT_TRUE(store_->observations_between("td-01", 7000, 9000, 100).value().empty());
}

// ----------------------------------------------------------------------------------------
// Users and sessions (analysis/web/auth.h and passwords.h check what goes in; the store keeps it
// whole)

att::User make_user(const std::string& name, const std::string& role = "auditor") {
  return att::User{name, role, "scrypt$15$8$1$c2FsdA==$aGFzaA==", 1000, false};
}

att::Session make_session(const std::string& key, const std::string& user) {
  return att::Session{key, user, "csrf-" + key, 1000, 1000 + 3600'000, 1000};
}

TEST_P(StoreTest, UsersAreUniqueByNameAndAnUpdateEndsTheirSessions) {
  ASSERT_TRUE(store_->add_user(make_user("an")));
  auto again = store_->add_user(make_user("an", "admin"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message, "user 'an' already exists");
  EXPECT_FALSE(store_->add_user(make_user("binh", "boss"))) << "roles are checked too";
  ASSERT_TRUE(store_->add_user(make_user("binh", "organizer")));
  const auto users = store_->users().value();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].name, "an");
  EXPECT_EQ(users[0].role, "auditor");
  EXPECT_EQ(users[1].name, "binh");

  ASSERT_TRUE(store_->add_session(make_session("k1", "an")));
  ASSERT_TRUE(store_->add_session(make_session("k2", "an")));
  ASSERT_TRUE(store_->add_session(make_session("k3", "binh")));
  EXPECT_FALSE(store_->add_session(make_session("k4", "chi"))) << "no such user";
  const auto k1 = store_->find_session("k1").value();
  ASSERT_TRUE(k1);
  EXPECT_EQ(k1->user, "an");
  EXPECT_EQ(k1->csrf_token, "csrf-k1");
  EXPECT_EQ(k1->expires_ms, 1000 + 3600'000);

  att::User disabled = make_user("an");
  disabled.disabled = true;
  ASSERT_TRUE(store_->update_user(disabled));
  EXPECT_FALSE(store_->find_session("k1").value());
  EXPECT_FALSE(store_->find_session("k2").value());
  EXPECT_TRUE(store_->find_session("k3").value()) << "another user's session stays";
  EXPECT_TRUE(store_->find_user("an").value()->disabled);
  EXPECT_FALSE(store_->add_session(make_session("k5", "an"))) << "a disabled user gets none";
  auto unknown = store_->update_user(make_user("chi"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "no user 'chi'");
}

TEST_P(StoreTest, EndedSessionsAreDeletedByExpiryOrIdleness) {
  ASSERT_TRUE(store_->add_user(make_user("an")));
  att::Session expired = make_session("old", "an");
  expired.expires_ms = 5000;
  expired.last_seen_ms = 4900;
  att::Session idle = make_session("idle", "an");
  idle.last_seen_ms = 2000;
  att::Session live = make_session("live", "an");
  live.last_seen_ms = 2000;
  for (const auto& s : {expired, idle, live}) ASSERT_TRUE(store_->add_session(s));
  ASSERT_TRUE(store_->touch_session("live", 4000));
  ASSERT_TRUE(store_->touch_session("live", 3000)) << "never moves back";
  EXPECT_EQ(store_->find_session("live").value()->last_seen_ms, 4000);
  EXPECT_EQ(store_->delete_ended_sessions(5000, 2000), 2);
  EXPECT_FALSE(store_->find_session("old").value());
  EXPECT_FALSE(store_->find_session("idle").value());
  EXPECT_TRUE(store_->find_session("live").value());
  ASSERT_TRUE(store_->delete_session("live"));
  EXPECT_FALSE(store_->find_session("live").value());
}

// ----------------------------------------------------------------------------------------
// Retention

TEST_P(StoreTest, ExpiredFramesLoseTheirPictureOldestFirstAndKeepTheirCounts) {
  for (int seq = 1; seq <= 5; ++seq) {
    ASSERT_EQ(store_->insert_observation(make_obs("td-01", seq, seq * 1000)),
              InsertOutcome::kInserted);
  }
  ASSERT_EQ(store_->insert_observation(make_obs("td-02", 1, 2500)), InsertOutcome::kInserted);

  auto first = store_->expire_frames(/*before_ms=*/3500, /*limit=*/2);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_THAT(*first, ::testing::ElementsAre("frames/td-01/1.jpg", "frames/td-01/2.jpg"));
  auto second = store_->expire_frames(3500, 10);
  ASSERT_TRUE(second);
  EXPECT_THAT(*second, ::testing::ElementsAre("frames/td-02/1.jpg", "frames/td-01/3.jpg"));
  auto none = store_->expire_frames(3500, 10);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());

  auto expired = store_->find_observation("td-01", 2);
  ASSERT_TRUE(expired && *expired);
  EXPECT_EQ((*expired)->frame_path, "");
  EXPECT_EQ((*expired)->count, make_obs("td-01", 2, 2000).count);
  EXPECT_EQ((*expired)->frame_sha256, "aa11");  // a late retry is still told apart
  EXPECT_EQ(store_->insert_observation(make_obs("td-01", 2, 2000)), InsertOutcome::kDuplicate);
  auto kept = store_->find_observation("td-01", 4);
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->frame_path, "frames/td-01/4.jpg");
  EXPECT_EQ(store_->observation_count("td-01"), 5);
}

TEST_P(StoreTest, ExpiredHeartbeatsAreDeletedExceptThoseThatReportedDrops) {
  ASSERT_TRUE(store_->insert_heartbeat(make_heartbeat("td-01", 1, 1000)));
  ASSERT_TRUE(store_->insert_heartbeat(make_heartbeat("td-01", 2, 2000, 4)));
  ASSERT_TRUE(store_->insert_heartbeat(make_heartbeat("td-01", 3, 3000)));
  ASSERT_TRUE(store_->insert_heartbeat(make_heartbeat("td-01", 4, 9000)));
  EXPECT_EQ(store_->expire_heartbeats(5000), 2);
  EXPECT_EQ(store_->heartbeat_count("td-01"), 2);
  EXPECT_EQ(store_->spool_dropped_total("td-01"), 4);
  EXPECT_EQ(store_->expire_heartbeats(5000), 0);
}

TEST_P(StoreTest, RetentionDeletesOldPicturesAndKeepsRowsNewPicturesAndEvidence) {
  constexpr std::int64_t kDay = 86'400'000;
  const std::int64_t now = 100 * kDay;
  const fs::path data = dir_ / "data";
  for (int seq = 1; seq <= 4; ++seq) {  // captured 40, 35, 30 and 2 days ago
    const std::int64_t age_days = seq == 4 ? 2 : 45 - 5 * seq;
    Observation o = make_obs("td-01", seq, now - age_days * kDay);
    if (seq != 2) att::testing::write_file(data / o.frame_path, "jpeg");  // 2: gone already
    ASSERT_EQ(store_->insert_observation(o), InsertOutcome::kInserted);
  }
  att::testing::write_file(data / "evidence" / "td-01" / "roll-call-1.jpg", "evidence");
  ASSERT_TRUE(store_->insert_heartbeat(make_heartbeat("td-01", 10, now - 100 * kDay)));
  ASSERT_TRUE(store_->insert_heartbeat(make_heartbeat("td-01", 11, now - 1 * kDay)));

  att::StorageConfig config;
  config.frame_days = 31;
  config.heartbeat_days = 90;
  att::RetentionTotals totals;
  ASSERT_TRUE(att::run_retention(*store_, *store_, data, config, now, totals));
  EXPECT_EQ(totals.frames_deleted, 1);  // 40 days old
  EXPECT_EQ(totals.frames_missing, 1);  // 35 days old, its file already gone
  EXPECT_EQ(totals.delete_failed, 0);
  EXPECT_EQ(totals.heartbeats_deleted, 1);
  EXPECT_FALSE(fs::exists(data / "frames/td-01/1.jpg"));
  EXPECT_TRUE(fs::exists(data / "frames/td-01/3.jpg"));
  EXPECT_TRUE(fs::exists(data / "frames/td-01/4.jpg"));
  EXPECT_TRUE(fs::exists(data / "evidence" / "td-01" / "roll-call-1.jpg"));
  EXPECT_EQ(store_->observation_count("td-01"), 4);
  EXPECT_EQ(store_->heartbeat_count("td-01"), 1);

  // A second pass finds nothing more; a pass with retention off deletes nothing.
  ASSERT_TRUE(att::run_retention(*store_, *store_, data, config, now, totals));
  EXPECT_EQ(totals.frames_deleted, 1);
  EXPECT_EQ(totals.runs, 2);
  config.frame_days = 0;
  config.heartbeat_days = 0;
  ASSERT_TRUE(att::run_retention(*store_, *store_, data, config, now + 1000 * kDay, totals));
  EXPECT_TRUE(fs::exists(data / "frames/td-01/4.jpg"));
  EXPECT_EQ(store_->heartbeat_count("td-01"), 1);
}

// ----------------------------------------------------------------------------------------
// The writer thread: group commit, one write's failure, the bounded queue

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = att::sql::open(dir_ / "w.db", att::sql::read_write_create());
    ASSERT_TRUE(db);
    ASSERT_TRUE(att::sql::exec(db->get(), "PRAGMA journal_mode = WAL"));
    ASSERT_TRUE(att::sql::exec(db->get(), "CREATE TABLE t (v INTEGER UNIQUE)"));
    db_ = std::move(*db);
  }
  std::unique_ptr<att::SqliteWriter> start(att::SqliteWriterOptions options) {
    return std::make_unique<att::SqliteWriter>(std::move(db_), options);
  }
  static att::Status insert(sqlite3* db, int v) {
    return att::sql::run(db, "INSERT INTO t(v) VALUES (?1)", "insert", v);
  }
  // Starts a write of `v` whose transaction stays open until release_ is set; returns once
  // that transaction runs, so that what is written next queues behind it.
  std::thread hold(att::SqliteWriter* w, int v) {
    std::atomic<bool> started{false};
    std::thread holder([this, w, v, &started] {
      EXPECT_TRUE(w->write([&](sqlite3* db) {
        started = true;
        while (!release_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return insert(db, v);
      }));
    });
    while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return holder;
  }
  int rows() {
    RawDb raw(dir_ / "w.db");
    return raw.integer("SELECT COUNT(*) FROM t");
  }

  TempDir dir_;
  att::sql::Db db_;
  std::atomic<bool> release_{false};
};

TEST_F(WriterTest, WritesThatQueueDuringACommitShareTheNextTransaction) {
  auto writer = start({});
  att::SqliteWriter* w = writer.get();
  std::vector<std::thread> callers;
  // The first write holds its transaction open until nine more are queued behind it.
  std::atomic<bool> started{false};
  callers.emplace_back([w, &started] {
    EXPECT_TRUE(w->write([w, &started](sqlite3* db) {
      started = true;
      while (w->stats().queued < 9) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      return insert(db, 0);
    }));
  });
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (int i = 1; i <= 9; ++i) {
    callers.emplace_back(
        [w, i] { EXPECT_TRUE(w->write([i](sqlite3* db) { return insert(db, i); })); });
  }
  for (auto& t : callers) t.join();
  const att::WriteStats s = w->stats();
  EXPECT_EQ(s.writes, 10);
  EXPECT_EQ(s.transactions, 2);
  EXPECT_EQ(s.largest_batch, 9);
  EXPECT_EQ(s.failed, 0);
  EXPECT_EQ(s.queued, 0);
  writer.reset();
  EXPECT_EQ(rows(), 10);
}

TEST_F(WriterTest, AFailedWriteIsRolledBackAloneAndItsCallerGetsTheError) {
  auto writer = start({});
  att::SqliteWriter* w = writer.get();
  std::thread holder = hold(w, 1);
  att::Status good_a, bad, good_b;
  std::thread a([&] { good_a = w->write([](sqlite3* db) { return insert(db, 2); }); });
  std::thread b([&] {
    bad = w->write([](sqlite3* db) -> att::Status {
      if (auto s = insert(db, 3); !s) return s;  // inserted, then the write fails
      return insert(db, 2);                      // UNIQUE: v = 2 is taken
    });
  });
  std::thread c([&] { good_b = w->write([](sqlite3* db) { return insert(db, 4); }); });
  while (w->stats().queued < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  release_ = true;
  for (std::thread* t : {&holder, &a, &b, &c}) t->join();
  // a and b race for v = 2; whichever came second failed, with its own changes undone.
  EXPECT_TRUE(good_b);
  EXPECT_NE(static_cast<bool>(good_a), static_cast<bool>(bad));
  const att::Status& failed = good_a ? bad : good_a;
  ASSERT_FALSE(failed);
  EXPECT_THAT(failed.error().message, HasSubstr("UNIQUE constraint failed"));
  EXPECT_EQ(w->stats().failed, 1);
  EXPECT_EQ(w->stats().transactions, 2);
  writer.reset();
  RawDb raw(dir_ / "w.db");
  EXPECT_EQ(raw.integer("SELECT COUNT(*) FROM t WHERE v IN (1, 2, 4)"), 3);
  EXPECT_EQ(raw.integer("SELECT COUNT(*) FROM t WHERE v = 3"), good_a ? 0 : 1);
}

TEST_F(WriterTest, MaxBatchOneCommitsEachWriteAlone) {
  auto writer = start({.queue_capacity = 64, .max_batch = 1});
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&writer, i] {
      for (int k = 0; k < 5; ++k)
        EXPECT_TRUE(writer->write([=](sqlite3* db) { return insert(db, i * 10 + k); }));
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(writer->stats().writes, 40);
  EXPECT_EQ(writer->stats().transactions, 40);
  EXPECT_EQ(writer->stats().largest_batch, 1);
}

TEST_F(WriterTest, AFullQueueMakesCallersWaitAndLosesNothing) {
  auto writer = start({.queue_capacity = 2, .max_batch = 256});
  att::SqliteWriter* w = writer.get();
  std::thread holder = hold(w, 0);
  std::vector<std::thread> callers;
  for (int i = 1; i <= 5; ++i) {
    callers.emplace_back(
        [w, i] { EXPECT_TRUE(w->write([i](sqlite3* db) { return insert(db, i); })); });
  }
  while (w->stats().waited_for_room < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(w->stats().queued, 2);  // the bound held
  release_ = true;
  holder.join();
  for (auto& t : callers) t.join();
  EXPECT_EQ(w->stats().writes, 6);
  EXPECT_EQ(w->stats().waited_for_room, 3);
  writer.reset();
  EXPECT_EQ(rows(), 6);
}

}  // namespace

// ----------------------------------------------------------------------------------------
// PostgreSQL: its schema, its migrations, several processes on one database, group commit

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(db_.ok()) << db_.error(); }
  att::PgStoreOptions options() {
    att::PgStoreOptions o;
    o.conninfo = db_.conninfo();
    o.readers = 1;
    return o;
  }
  std::unique_ptr<PgStore> open_pg(std::span<const Migration> migrations) {
    auto s = PgStore::open(options(), migrations);
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }
  std::unique_ptr<PgStore> open_pg() { return open_pg(att::postgres_migrations()); }
  att::testing::PostgresDatabase db_;
};

TEST_F(PgStoreTest, ItsMigrationsAreSqlitesNumberForNumberAndNameForName) {
  const auto sqlite = att::builtin_migrations();
  const auto postgres = att::postgres_migrations();
  ASSERT_EQ(postgres.size(), sqlite.size());
  for (size_t i = 0; i < sqlite.size(); ++i) {
    EXPECT_EQ(postgres[i].version, sqlite[i].version);
    EXPECT_STREQ(postgres[i].name, sqlite[i].name);
  }
  auto store = open_pg();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->schema_version(), SqliteStore::latest_schema_version());
  EXPECT_EQ(db_.integer("SELECT version FROM schema_version"), 10);
  // The same tables and columns as SQLite's, for migrate-store to copy one to one.
  TempDir dir;
  auto lite = open_ok(dir / "att.db");
  ASSERT_TRUE(lite);
  RawDb raw(dir / "att.db");
  for (const char* table : {"sites", "observations", "heartbeats", "ledger", "audit_trail", "users",
                            "sessions", "site_setups"}) {
    const std::string sqlite_columns = raw.scalar(
        std::string("SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info('") +
        table + "') ORDER BY name)");
    const std::string pg_columns = db_.scalar(
        std::string("SELECT string_agg(column_name, ',' ORDER BY column_name COLLATE \"C\") "
                    "FROM information_schema.columns WHERE table_name = '") +
        table + "'");
    EXPECT_EQ(pg_columns, sqlite_columns) << table;
  }
}

TEST_F(PgStoreTest, ANewerSchemaIsRefused) {
  const int known = SqliteStore::latest_schema_version();
  std::vector<std::string> sql;
  for (int v = 1; v <= known + 1; ++v)
    sql.push_back("CREATE TABLE t" + std::to_string(v) + "(x int);");
  std::vector<Migration> later;
  for (int v = 1; v <= known + 1; ++v) later.push_back({v, "table", sql[v - 1].c_str()});
  ASSERT_TRUE(open_pg(later));
  auto s = PgStore::open(options());
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message,
              HasSubstr("database schema version " + std::to_string(known + 1) +
                        " is newer than this build knows (" + std::to_string(known) + ")"));
}

TEST_F(PgStoreTest, AFailedMigrationIsRolledBackAndStopsTheRun) {
  const Migration broken[] = {
      {1, "one", "CREATE TABLE a (x int);"},
      {2, "broken", "CREATE TABLE b (x int); SELECT * FROM no_such_table;"},
      {3, "three", "CREATE TABLE c (x int);"},
  };
  auto s = PgStore::open(options(), broken);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("migration 2 (broken) failed and was rolled back"));
  EXPECT_THAT(s.error().message, HasSubstr("no_such_table"));
  EXPECT_EQ(db_.integer("SELECT version FROM schema_version"), 1);
  EXPECT_EQ(db_.scalar("SELECT to_regclass('a') IS NOT NULL"), "t");
  EXPECT_EQ(db_.scalar("SELECT to_regclass('b') IS NOT NULL"), "f");
  EXPECT_EQ(db_.scalar("SELECT to_regclass('c') IS NOT NULL"), "f");
}

TEST_F(PgStoreTest, ProcessesStartingTogetherMigrateOnce) {
  // Four stores opened at once on an empty database, as service processes starting together.
  std::vector<std::thread> starts;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    starts.emplace_back([&] {
      auto s = PgStore::open(options());
      EXPECT_TRUE(s) << s.error().message;
      if (s) ++opened;
    });
  }
  for (auto& t : starts) t.join();
  EXPECT_EQ(opened, 4);
  EXPECT_EQ(db_.integer("SELECT version FROM schema_version"), 10);
  EXPECT_EQ(db_.integer("SELECT COUNT(*) FROM schema_version"), 1);
}

TEST_F(PgStoreTest, AnUnreachableServerIsAClearError) {
  att::PgStoreOptions o;
  o.conninfo = "host=127.0.0.1 port=" + std::to_string(att::testing::unused_port()) +
               " dbname=province user=attendance password=secret connect_timeout=5";
  auto s = PgStore::open(o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, att::ErrorCode::kUnavailable);
  EXPECT_THAT(s.error().message, HasSubstr("cannot connect to PostgreSQL at 127.0.0.1:"));
  EXPECT_THAT(s.error().message, HasSubstr("(database province)"));
  EXPECT_THAT(s.error().message, ::testing::Not(HasSubstr("secret")));
}

TEST_F(PgStoreTest, AnotherDatabaseOnTheSameServerIsTheSameConnectionStringWithItsName) {
  // The test database's string, moved to the server's "postgres" database, connects there.
  auto other = att::pg::with_dbname(db_.conninfo(), "postgres");
  ASSERT_TRUE(other) << other.error().message;
  auto conn = att::pg::connect(*other);
  ASSERT_TRUE(conn) << conn.error().message;
  auto name = att::pg::query(conn->get(), "SELECT current_database()", "which database");
  ASSERT_TRUE(name) << name.error().message;
  EXPECT_EQ(name->text(0, 0), "postgres");

  // Every other value is kept, quoted as libpq reads it; a URL reads as its values do.
  auto kept = att::pg::with_dbname(
      R"(host=db.example port=5433 dbname=province user=att password='it\'s\\x')", "country");
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_THAT(*kept, HasSubstr("dbname='country'"));
  EXPECT_THAT(*kept, HasSubstr("host='db.example'"));
  EXPECT_THAT(*kept, HasSubstr("port='5433'"));
  EXPECT_THAT(*kept, HasSubstr(R"(password='it\'s\\x')"));
  EXPECT_THAT(*kept, ::testing::Not(HasSubstr("province")));
  auto url = att::pg::with_dbname("postgresql://att@db.example:5433/province", "country");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_THAT(*url, HasSubstr("dbname='country'"));
  EXPECT_THAT(*url, HasSubstr("user='att'"));

  auto bad = att::pg::with_dbname("host=db.example port", "country");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, att::ErrorCode::kInvalid);
  EXPECT_THAT(bad.error().message, HasSubstr("not a PostgreSQL connection string"));
}

TEST_F(PgStoreTest, WritesThatQueueShareATransactionAndAFailedOneIsRolledBackAlone) {
  auto store = open_pg();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->sync_sites(att::testing::small_province()));
  const att::WriteStats before = store->write_stats();
  // Another session holds the observations table, so the writer's first insert waits and the
  // writes after it queue up; one of them is refused (no such site).
  ASSERT_TRUE(db_.exec("BEGIN; LOCK TABLE observations IN EXCLUSIVE MODE"));
  std::vector<std::thread> callers;
  std::atomic<int> stored{0}, refused{0};
  callers.emplace_back([&] {
    if (store->insert_observation(make_obs("td-01", 1, 1000))) ++stored;
  });
  // The writer's first insert now waits for the lock.
  const std::string waiting =
      "SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND database = "
      "(SELECT oid FROM pg_database WHERE datname = current_database())";
  while (db_.integer(waiting) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  for (int seq = 2; seq <= 9; ++seq) {
    callers.emplace_back([&, seq] {
      const std::string site = seq == 5 ? "zz-99" : "td-01";
      auto r = store->insert_observation(make_obs(site, seq, seq * 1000));
      if (r)
        ++stored;
      else
        ++refused;
    });
  }
  while (store->write_stats().queued < 8) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(db_.exec("COMMIT"));
  for (auto& t : callers) t.join();
  EXPECT_EQ(stored, 8);
  EXPECT_EQ(refused, 1);
  const att::WriteStats after = store->write_stats();
  EXPECT_EQ(after.transactions - before.transactions, 2);  // the first write, then the eight
  EXPECT_EQ(after.largest_batch, 8);
  EXPECT_EQ(after.failed - before.failed, 1);
  EXPECT_EQ(db_.integer("SELECT COUNT(*) FROM observations"), 8);
  EXPECT_EQ(db_.integer("SELECT COUNT(*) FROM observations WHERE sequence = 5"), 0);
}

TEST_F(PgStoreTest, ConnectionsTheServerDropsAreOpenedAgainAndNothingIsLost) {
  auto store = open_pg();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->sync_sites(att::testing::small_province()));
  ASSERT_EQ(store->insert_observation(make_obs("td-01", 1, 1000)), InsertOutcome::kInserted);
  // Every session of the store ended by the server, as a restart of PostgreSQL does.
  EXPECT_EQ(db_.integer("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                        "datname = current_database() AND pid <> pg_backend_pid()"),
            2);  // the writer and the reader
  EXPECT_EQ(store->insert_observation(make_obs("td-01", 2, 2000)), InsertOutcome::kInserted);
  EXPECT_EQ(store->observation_count("td-01"), 2);
  EXPECT_EQ(db_.integer("SELECT COUNT(*) FROM observations"), 2);
  EXPECT_EQ(store->write_stats().failed, 0);
}

TEST_F(PgStoreTest, TwoProcessesAppendingToOneLedgerMakeOneChain) {
  auto a = open_pg();
  auto b = open_pg();
  ASSERT_TRUE(a && b);
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      PgStore& store = w % 2 ? *a : *b;
      for (int i = 0; i < 25; ++i) {
        att::LedgerEntry e;
        e.kind = "alert";
        e.subject = "alert/" + std::to_string(w) + "/" + std::to_string(i);
        e.actor = "system";
        e.body = "{}";
        EXPECT_TRUE(store.append(att::Chain::kLedger, e));
      }
    });
  }
  for (auto& t : writers) t.join();
  att::LedgerQuery all;
  all.limit = 0;
  auto rows = a->entries(att::Chain::kLedger, all);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 100u);
  EXPECT_TRUE(att::verify_chain(*rows).empty());
  EXPECT_EQ(rows->back().seq, 100);
  auto head = b->recorded_head();
  ASSERT_TRUE(head && *head);
  EXPECT_EQ((*head)->ledger.seq, 100);
  EXPECT_EQ((*head)->ledger.hash, rows->back().hash);
  EXPECT_EQ((*head)->audit.seq, 0);
}

TEST_F(PgStoreTest, TheLedgerIsAppendOnlyAndItsHeadOnlyMovesForward) {
  auto store = open_pg();
  ASSERT_TRUE(store);
  att::LedgerEntry e;
  e.kind = "alert";
  e.subject = "alert/1";
  e.actor = "system";
  e.body = "{}";
  ASSERT_TRUE(store->append(att::Chain::kLedger, e));
  for (const char* edit :
       {"UPDATE ledger SET body = '{\"x\":1}'", "DELETE FROM ledger", "TRUNCATE ledger",
        "TRUNCATE audit_trail", "DELETE FROM chain_heads", "UPDATE chain_heads SET seq = 0"}) {
    auto s = db_.exec(edit);
    ASSERT_FALSE(s) << edit;
    EXPECT_THAT(s.error().message,
                ::testing::AnyOf(HasSubstr("append-only"), HasSubstr("only moves forward")))
        << edit;
  }
  EXPECT_EQ(db_.integer("SELECT COUNT(*) FROM ledger"), 1);
}
