// `attendance-server migrate-store`: a province's SQLite database copied into PostgreSQL.
//
// The round trip runs a class day of the demo province through the real service on SQLite as
// test_demo_day does (164 sites, a frame every 5 minutes, the roll book ticking on the test's
// clock), with a heartbeat from every site every hour, users logged in over HTTP, their views
// and exports in the audit trail and a changed site setup; then copies it into a PostgreSQL
// database of its own and compares every table row for row, column for column as text, verifies
// both sides, and runs the service on the copy, which keeps appending to the chains and storing
// frames. Around it: a target that holds data, a tampered SQLite ledger, an older SQLite schema
// and a row PostgreSQL refuses half way are each refused with the target as it was (or empty),
// and the command itself prints both sides.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <optional>

#include "analysis/app/migrate_store.h"
#include "analysis/app/service.h"
#include "analysis/domain/ledger.h"
#include "analysis/store/ledger_file.h"
#include "analysis/store/migrations.h"
#include "analysis/store/pg_db.h"
#include "analysis/store/pg_store.h"
#include "analysis/store/sqlite_store.h"
#include "protocol/wire.h"
#include "tests/support/demo_day.h"
#include "tests/support/postgres.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::PostgresDatabase;
using testing::RawDb;
using testing::TempDir;

// ---- the tables, compared as text on both sides --------------------------------------------

// Every table of the schema with its columns and key (written out here, apart from
// migrate_store.cpp's list, so that a column it forgot shows up as a difference).
struct TableColumns {
  const char* name;
  const char* columns;
  const char* key;
};
constexpr TableColumns kTables[] = {
    {"sites", "id, name, district, school_level, address, expected_attendees, camera", "id"},
    {"observations",
     "id, site_id, sequence, captured_at_ms, received_at_ms, count, boxes, detector, width, "
     "height, frame_path, frame_sha256, frame_count, health, counted_by, audit_count",
     "id"},
    {"heartbeats", "id, site_id, sequence, captured_at_ms, received_at_ms, report, spool_dropped",
     "id"},
    {"site_setups", "site_id, version, body, created_ms, made_by", "site_id, version"},
    {"users", "name, role, password_hash, created_ms, disabled", "name"},
    {"sessions", "token_sha256, \"user\", csrf_token, created_ms, expires_ms, last_seen_ms",
     "token_sha256"},
    {"ledger", "seq, kind, site_id, subject, at_ms, recorded_at_ms, actor, body, prev_hash, hash",
     "seq"},
    {"audit_trail",
     "seq, kind, site_id, subject, at_ms, recorded_at_ms, actor, body, prev_hash, hash", "seq"},
};

using Row = std::vector<std::optional<std::string>>;  // nullopt: NULL
using TableRows = std::vector<Row>;

std::string select_all(const TableColumns& t) {
  return std::string("SELECT ") + t.columns + " FROM " + t.name + " ORDER BY " + t.key;
}

// Every row of every table of a SQLite file, each value as SQLite gives it as text.
std::map<std::string, TableRows> sqlite_tables(const fs::path& path) {
  std::map<std::string, TableRows> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "open " << path << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return out;
  }
  for (const TableColumns& t : kTables) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, select_all(t).c_str(), -1, &s, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << t.name << ": " << sqlite3_errmsg(db);
      continue;
    }
    TableRows& rows = out[t.name];
    while (sqlite3_step(s) == SQLITE_ROW) {
      Row row;
      for (int c = 0; c < sqlite3_column_count(s); ++c) {
        if (sqlite3_column_type(s, c) == SQLITE_NULL) {
          row.emplace_back();
        } else {
          row.emplace_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, c)),
                                       static_cast<size_t>(sqlite3_column_bytes(s, c))));
        }
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return out;
}

// The same of a PostgreSQL database, each value as PostgreSQL gives it as text. Tables that do
// not exist are left out.
std::map<std::string, TableRows> pg_tables(const std::string& conninfo) {
  std::map<std::string, TableRows> out;
  auto db = pg::connect(conninfo);
  if (!db) {
    ADD_FAILURE() << db.error().message;
    return out;
  }
  for (const TableColumns& t : kTables) {
    auto exists =
        pg::query(db->get(), "SELECT to_regclass($1) IS NOT NULL", "look", std::string(t.name));
    if (!exists || exists->text(0, 0) != "t") continue;
    auto rows = pg::query(db->get(), select_all(t).c_str(), t.name);
    if (!rows) {
      ADD_FAILURE() << rows.error().message;
      continue;
    }
    const int columns = static_cast<int>(std::ranges::count(std::string(t.columns), ',')) + 1;
    TableRows& table = out[t.name];
    for (int i = 0; i < rows->size(); ++i) {
      Row row;
      for (int c = 0; c < columns; ++c) {
        if (rows->null(i, c)) {
          row.emplace_back();
        } else {
          row.emplace_back(rows->text(i, c));
        }
      }
      table.push_back(std::move(row));
    }
  }
  return out;
}

// Every table's rows equal on both sides; the first difference of each table otherwise.
void expect_same_rows(const std::map<std::string, TableRows>& sqlite,
                      const std::map<std::string, TableRows>& postgres) {
  for (const TableColumns& t : kTables) {
    SCOPED_TRACE(t.name);
    ASSERT_TRUE(sqlite.contains(t.name));
    ASSERT_TRUE(postgres.contains(t.name));
    const TableRows& a = sqlite.at(t.name);
    const TableRows& b = postgres.at(t.name);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i].size(), b[i].size()) << "row " << i;
      for (size_t c = 0; c < a[i].size(); ++c) {
        ASSERT_EQ(a[i][c], b[i][c])
            << "row " << i << ", column " << c << " of (" << t.columns << ")";
      }
    }
  }
}

std::int64_t total_rows(const std::map<std::string, TableRows>& tables) {
  std::int64_t n = 0;
  for (const auto& [name, rows] : tables) n += static_cast<std::int64_t>(rows.size());
  return n;
}

// No table of the schema exists in `db`: nothing was created or written.
void expect_untouched(PostgresDatabase& db) {
  EXPECT_EQ(db.integer("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"), 0)
      << "tables were created";
}

// Every table of the schema exists and is empty, and the chains' heads are at their start.
void expect_migrated_and_empty(PostgresDatabase& db) {
  for (const TableColumns& t : kTables) {
    EXPECT_EQ(db.integer(std::string("SELECT count(*) FROM ") + t.name), 0) << t.name;
  }
  EXPECT_EQ(db.integer("SELECT count(*) FROM chain_heads WHERE seq = 0 AND hash = repeat('0', 64)"),
            2);
}

// ---- a small database with a row of each kind ------------------------------------------------

LedgerEntry entry(const std::string& kind, const std::string& subject, std::int64_t at_ms,
                  const std::string& body) {
  LedgerEntry e;
  e.kind = kind;
  e.site_id = "td-01";
  e.subject = subject;
  e.at_ms = at_ms;
  e.recorded_at_ms = at_ms + 2500;
  e.actor = "system";
  e.body = body;
  return e;
}

// attendance.db in `dir`, with ledger.head beside it: the small province's sites (one renamed
// with a tab, a line break and a backslash in its name, as COPY's text format must escape),
// observations (boxes, a node's count with its audit, a NULL audit_count), heartbeats (one
// report spread over lines), setups, users, a session, three ledger entries and two audit
// entries with Vietnamese text in their bodies.
fs::path small_database(const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path path = dir / "attendance.db";
  auto opened = SqliteStore::open(path);
  EXPECT_TRUE(opened) << opened.error().message;
  if (!opened) return path;
  SqliteStore& store = **opened;
  auto sites = testing::small_province();
  sites[1].name = "Trường\tTiểu học\nBình Lư \\ điểm 2";
  EXPECT_TRUE(store.sync_sites(sites));
  const std::int64_t t0 = 1815353100000;  // 12 July 2027 07:45 (UTC+7)
  for (int i = 0; i < 3; ++i) {
    Observation o;
    o.site_id = "td-01";
    o.sequence = i + 1;
    o.captured_at_ms = t0 + i * 5000;
    o.received_at_ms = o.captured_at_ms + 300;
    o.count = 2 + i;
    o.frame_count = 2 + i;
    o.boxes = {{10.5f, 20, 30, 40, 0.91f}, {50, 60, 30, 40, 0.75f}};
    o.detector = "yunet";
    o.width = 640;
    o.height = 480;
    o.frame_path = "frames/td-01/" + std::to_string(i + 1) + ".jpg";
    o.frame_sha256 = std::string(64, 'a' + static_cast<char>(i));
    o.health = i == 0 ? "" : R"({"dark":0.1})";
    o.counted_by = i == 2 ? CountedBy::kNode : CountedBy::kService;
    EXPECT_TRUE(store.insert_observation(o));
  }
  EXPECT_TRUE(store.record_audit("td-01", 3, 4));
  for (int i = 0; i < 2; ++i) {
    Heartbeat h{"td-02",
                100 + i,
                t0 + i * 30000,
                t0 + i * 30000 + 200,
                "{\n\t\"state\": \"ok\",\n\t\"note\": \"a\\\\b\"\n}",
                i};
    EXPECT_TRUE(store.insert_heartbeat(h));
  }
  EXPECT_TRUE(store.put_setup("td-01", R"({"count":[],"exclude":[]})", t0, "config"));
  EXPECT_TRUE(store.put_setup("td-01", R"({"count":[],"exclude":[],"min_score":0.3})", t0 + 1,
                              "technician"));
  testing::add_user(store, "auditor", Role::kAuditor);
  testing::add_user(store, "technician", Role::kTechnician);
  EXPECT_TRUE(
      store.add_session(Session{std::string(64, 'f'), "auditor", "csrf", t0, t0 + 3600000, t0}));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(store.append(
        Chain::kLedger,
        entry("roll_call", "roll_call/td-01/2027-07-12/morning/074" + std::to_string(5 + i),
              t0 + i * 60000,
              R"({"counted":)" + std::to_string(50 + i) + R"(,"note":"Trường THCS Bản Giang"})")));
  }
  for (int i = 0; i < 2; ++i) {
    auto view = entry("view", "/api/v1/roll-calls?site=td-01", t0 + i, "{}");
    view.actor = "auditor@127.0.0.1";
    EXPECT_TRUE(store.append(Chain::kAudit, view));
  }
  return path;
}

// ---- the demo province's day on SQLite ---------------------------------------------------------

using testing::day_minute;

// test_demo_day's day (tests/support/demo_day.h) with each site's heartbeat once an hour, and
// what people do after it, so that every table holds rows to copy.
class MigrateDemoDay : public testing::DemoDayTest {
 protected:
  void SetUp() override {
    DemoDayTest::SetUp();
    heartbeats_ = true;
  }

  // After the day: an auditor and an admin log in (users and sessions), the auditor reads the
  // roll calls and exports them (the audit trail), a technician's setup change for tp-01.
  void after_the_day() {
    httplib::Client auditor("127.0.0.1", port_);
    // The whole province's roll calls of the day take seconds under the sanitizers.
    auditor.set_read_timeout(std::chrono::seconds(60));
    testing::log_in_as(auditor, service_->store(), Role::kAuditor);
    for (const char* path : {"/api/v1/roll-calls?site=td-01", "/api/v1/roll-calls",
                             "/api/v1/exports/roll-calls.csv"}) {
      auto res = auditor.Get(path);
      ASSERT_TRUE(res) << path;
      ASSERT_EQ(res->status, 200) << path << ": " << res->body;
    }
    httplib::Client admin("127.0.0.1", port_);
    testing::log_in_as(admin, service_->store(), Role::kAdmin);
    SiteZones zones;
    zones.min_score = 0.4f;
    ASSERT_TRUE(service_->set_site_setup("tp-01", zones, {}, cv::Size2f(640, 480)));
  }

  std::int64_t sqlite_count(const std::string& sql) {
    RawDb raw(database_path(config_));
    return std::stoll(raw.scalar(sql));
  }
};

TEST_F(MigrateDemoDay, TheDemoDayCopiesRowForRowVerifiesOnBothSidesAndTheServiceGoesOnOnIt) {
  PostgresDatabase target;
  ASSERT_TRUE(target.ok()) << target.error();
  ASSERT_NO_FATAL_FAILURE(start(config_));
  ASSERT_NO_FATAL_FAILURE(run_day());
  ASSERT_NO_FATAL_FAILURE(after_the_day());
  service_.reset();  // the service stops before its database moves
  const fs::path db = database_path(config_);

  // The day left a row of every kind to copy.
  EXPECT_EQ(sqlite_count("SELECT count(DISTINCT kind) FROM ledger WHERE kind IN "
                         "('roll_call', 'alert_opened', 'alert_closed', 'period_summary', "
                         "'final_report')"),
            5);
  EXPECT_EQ(sqlite_count("SELECT count(*) FROM ledger WHERE kind = 'alert_opened'"), 6);
  EXPECT_GE(sqlite_count("SELECT count(*) FROM audit_trail"), 3);
  EXPECT_GE(sqlite_count("SELECT count(*) FROM users"), 2);
  EXPECT_GE(sqlite_count("SELECT count(*) FROM sessions"), 2);
  EXPECT_GT(sqlite_count("SELECT count(*) FROM observations WHERE boxes <> '[]'"), 10000);
  EXPECT_GE(sqlite_count("SELECT count(*) FROM heartbeats"), 164 * 8);
  EXPECT_GE(sqlite_count("SELECT count(*) FROM site_setups"), 2);
  const auto before = testing::files_in(config_.data_dir);

  auto report = migrate_store(db, target.conninfo());
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->ok()) << format_migrate_report(*report);
  const auto sqlite = sqlite_tables(db);
  std::printf(
      "[ migrate ] the demo day's database, %lld rows in %zu tables: copied in %.2f s "
      "(%.2f s with the checks)\n%s",
      static_cast<long long>(total_rows(sqlite)), sqlite.size(), report->copy_seconds,
      report->total_seconds, format_migrate_report(*report).c_str());

  // The SQLite side is as it was (the read-only open adds SQLite's own -shm at most).
  EXPECT_TRUE(testing::changed_files(before, testing::files_in(config_.data_dir)).empty());

  // Row for row, column for column.
  ASSERT_NO_FATAL_FAILURE(expect_same_rows(sqlite, pg_tables(target.conninfo())));
  for (const MigratedTable& t : report->tables) {
    EXPECT_EQ(t.source_rows, static_cast<std::int64_t>(sqlite.at(t.name).size())) << t.name;
    EXPECT_EQ(t.target_rows, t.source_rows) << t.name;
  }

  // verify on both sides, and the heads where the chains end.
  auto sqlite_verify = verify_database(db);
  ASSERT_TRUE(sqlite_verify) << sqlite_verify.error().message;
  EXPECT_TRUE(sqlite_verify->intact());
  EXPECT_TRUE(report->source_ledger.intact());
  EXPECT_TRUE(report->target_ledger.intact());
  EXPECT_EQ(report->target_ledger.ledger_entries, sqlite_verify->ledger_entries);
  EXPECT_EQ(report->target_ledger.audit_entries, sqlite_verify->audit_entries);
  auto head = read_ledger_head(ledger_head_path(db));
  ASSERT_TRUE(head && head->has_value());
  EXPECT_EQ(report->target_heads, **head);
  EXPECT_EQ(report->source_ends, **head);
  const auto ledger_end = report->source_ends.ledger;

  // The service on the copy: its frames and heartbeats take new ids, its appends continue
  // the chains, which still verify.
  ServerConfig on_postgres = config_;
  on_postgres.storage.backend = "postgres";
  on_postgres.storage.postgres = target.conninfo();
  now_ = at(day_minute(17, 10));
  ASSERT_NO_FATAL_FAILURE(start(on_postgres));
  httplib::Client node("127.0.0.1", port_);
  auto frame = testing::post_signed(node, wire::kFramesPath, "td-01", "5000",
                                    std::to_string(now_.load()), jpeg(7), "image/jpeg");
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->status, 201) << frame->body;
  auto heartbeat =
      testing::post_signed(node, wire::kHealthPath, "td-01", "5001", std::to_string(now_.load()),
                           R"({"state":"ok"})", wire::kJsonContentType, "0");
  ASSERT_TRUE(heartbeat);
  EXPECT_EQ(heartbeat->status, 201) << heartbeat->body;
  EXPECT_GT(target.integer("SELECT id FROM observations WHERE site_id = 'td-01' AND "
                           "sequence = 5000"),
            target.integer("SELECT max(id) FROM observations WHERE sequence < 5000"));
  EXPECT_GT(target.integer("SELECT id FROM heartbeats WHERE sequence = 5001"),
            target.integer("SELECT max(id) FROM heartbeats WHERE sequence <> 5001"));

  auto appended = service_->store().append(
      Chain::kLedger, entry("correction", "correction/after-the-move", now_.load(), "{}"));
  ASSERT_TRUE(appended) << appended.error().message;
  EXPECT_EQ(appended->seq, ledger_end.seq + 1);
  EXPECT_EQ(appended->prev_hash, ledger_end.hash);
  httplib::Client auditor("127.0.0.1", port_);
  testing::log_in_as(auditor, service_->store(), Role::kAuditor);  // the copied user logs in
  auto read = auditor.Get("/api/v1/roll-calls?site=tp-01");
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200);
  auto after = verify_stored_ledger(service_->store());
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_TRUE(after->intact());
  EXPECT_EQ(after->ledger_entries, ledger_end.seq + 1);
  EXPECT_EQ(after->audit_entries, report->source_ends.audit.seq + 1);
  service_.reset();
}

// ---- refusals ----------------------------------------------------------------------------------

TEST(MigrateStore, ASmallDatabaseCopiesWholeWithItsEscapesNullsAndIds) {
  TempDir dir;
  PostgresDatabase target;
  ASSERT_TRUE(target.ok()) << target.error();
  const fs::path db = small_database(dir / "data");
  auto report = migrate_store(db, target.conninfo());
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->ok()) << format_migrate_report(*report);
  ASSERT_NO_FATAL_FAILURE(expect_same_rows(sqlite_tables(db), pg_tables(target.conninfo())));
  EXPECT_EQ(target.scalar("SELECT name FROM sites WHERE id = 'td-02'"),
            "Trường\tTiểu học\nBình Lư \\ điểm 2");
  EXPECT_EQ(target.integer("SELECT count(*) FROM observations WHERE audit_count IS NULL"), 2);

  // A store on the copy inserts after the copied ids.
  PgStoreOptions options;
  options.conninfo = target.conninfo();
  auto store = PgStore::open(options);
  ASSERT_TRUE(store) << store.error().message;
  Observation o;
  o.site_id = "td-02";
  o.sequence = 1;
  o.captured_at_ms = 1815353100000;
  o.received_at_ms = o.captured_at_ms;
  o.detector = "yunet";
  auto inserted = (*store)->insert_observation(o);
  ASSERT_TRUE(inserted) << inserted.error().message;
  EXPECT_EQ(*inserted, InsertOutcome::kInserted);
  EXPECT_EQ(target.integer("SELECT id FROM observations WHERE site_id = 'td-02'"), 4);
  auto appended = (*store)->append(Chain::kAudit, entry("view", "/x", 1815353100000, "{}"));
  ASSERT_TRUE(appended) << appended.error().message;
  EXPECT_EQ(appended->seq, 3);
  auto verified = verify_stored_ledger(**store);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->intact());
}

TEST(MigrateStore, ATargetThatHoldsDataIsRefusedAndLeftAsItWas) {
  TempDir dir;
  PostgresDatabase target;
  ASSERT_TRUE(target.ok()) << target.error();
  {
    PgStoreOptions options;
    options.conninfo = target.conninfo();
    auto store = PgStore::open(options);
    ASSERT_TRUE(store) << store.error().message;
    testing::add_user(**store, "admin", Role::kAdmin);
  }
  const auto before = pg_tables(target.conninfo());
  const std::string heads_before =
      target.scalar("SELECT string_agg(chain || seq, ',') FROM chain_heads");

  auto report = migrate_store(small_database(dir / "data"), target.conninfo());
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, ErrorCode::kConflict);
  EXPECT_THAT(report.error().message, HasSubstr("not empty: table users holds rows"));
  EXPECT_EQ(pg_tables(target.conninfo()), before);
  EXPECT_EQ(target.scalar("SELECT string_agg(chain || seq, ',') FROM chain_heads"), heads_before);
}

TEST(MigrateStore, ATamperedSqliteLedgerIsRefusedAndTheTargetIsNotTouched) {
  TempDir dir;
  PostgresDatabase target;
  ASSERT_TRUE(target.ok()) << target.error();
  const fs::path db = small_database(dir / "data");
  {
    RawDb raw(db);
    for (const char* table : {"ledger", "audit_trail"}) {
      for (const char* what : {"update", "delete", "replace"}) {
        raw.exec(std::string("DROP TRIGGER ") + table + "_no_" + what);
      }
    }
    raw.exec(
        "UPDATE ledger SET body = replace(body, '\"counted\":51', '\"counted\":60') "
        "WHERE seq = 2");
    ASSERT_EQ(raw.scalar("SELECT changes()"), "1");
  }
  auto report = migrate_store(db, target.conninfo());
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(report.error().message, HasSubstr("the SQLite ledger does not verify"));
  EXPECT_THAT(report.error().message,
              HasSubstr("ledger entry 2: edited: its hash does not match its content"));
  EXPECT_THAT(report.error().message,
              HasSubstr("verify: ledger 3 entries, audit trail 2 entries, 1 problem"));
  expect_untouched(target);
}

TEST(MigrateStore, AnOlderSqliteSchemaIsRefused) {
  TempDir dir;
  PostgresDatabase target;
  ASSERT_TRUE(target.ok()) << target.error();
  fs::create_directories(dir / "data");
  const fs::path db = dir / "data" / "attendance.db";
  ASSERT_TRUE(SqliteStore::open(db, builtin_migrations().first(9)));
  auto report = migrate_store(db, target.conninfo());
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, ErrorCode::kInvalid);
  EXPECT_THAT(report.error().message, HasSubstr("has schema version 9, not this build's 10"));
  EXPECT_THAT(report.error().message, HasSubstr("start attendance-server on it once"));
  expect_untouched(target);
}

TEST(MigrateStore, ARowPostgresRefusesHalfWayRollsTheWholeCopyBack) {
  TempDir dir;
  PostgresDatabase target;
  ASSERT_TRUE(target.ok()) << target.error();
  const fs::path db = small_database(dir / "data");
  {
    // An observation of a site the list lacks: SQLite takes it without foreign keys on;
    // PostgreSQL refuses it after the sites are copied.
    RawDb raw(db);
    raw.exec(
        "INSERT INTO observations(site_id, sequence, captured_at_ms, received_at_ms, count, "
        "boxes, detector, width, height, frame_path, frame_sha256) VALUES "
        "('zz-99', 1, 0, 0, 0, '[]', 'x', 1, 1, '', '')");
  }
  auto report = migrate_store(db, target.conninfo());
  ASSERT_FALSE(report);
  EXPECT_THAT(report.error().message, HasSubstr("copy observations"));
  EXPECT_THAT(report.error().message, HasSubstr("zz-99"));
  EXPECT_THAT(report.error().message, HasSubstr("the copy was rolled back"));
  expect_migrated_and_empty(target);
}

TEST(MigrateStore, TheCommandCopiesTheConfiguredDatabaseAndPrintsBothSides) {
  TempDir dir;
  PostgresDatabase target;
  ASSERT_TRUE(target.ok()) << target.error();
  const fs::path yaml = testing::write_small_server_yaml(dir.path());
  small_database(dir / "data");
  {
    PgStoreOptions options;  // a freshly migrated schema is an empty target too
    options.conninfo = target.conninfo();
    ASSERT_TRUE(PgStore::open(options));
  }
  auto run = testing::run_command({ATTENDANCE_SERVER_BIN, "--config", yaml.string(),
                                   "migrate-store", "--to", target.conninfo()},
                                  dir.path());
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("sites                3 rows       3 rows"));
  EXPECT_THAT(run.out, HasSubstr("observations         3 rows       3 rows"));
  EXPECT_THAT(run.out, HasSubstr("audit_trail          2 rows       2 rows"));
  EXPECT_THAT(
      run.out,
      HasSubstr("SQLite:     verify: ledger 3 entries, audit trail 2 entries, chains intact"));
  EXPECT_THAT(
      run.out,
      HasSubstr("PostgreSQL: verify: ledger 3 entries, audit trail 2 entries, chains intact"));
  EXPECT_THAT(run.out, HasSubstr("were not moved"));
  EXPECT_EQ(target.integer("SELECT seq FROM chain_heads WHERE chain = 'ledger'"), 3);

  // Again, from the file named: the target now holds data.
  auto again =
      testing::run_command({ATTENDANCE_SERVER_BIN, "migrate-store", "--from",
                            (dir / "data" / "attendance.db").string(), "--to", target.conninfo()},
                           dir.path());
  EXPECT_EQ(again.exit_code, 2) << again.out << again.err;
  EXPECT_THAT(again.err, HasSubstr("the PostgreSQL database is not empty: table sites holds rows"));
}

}  // namespace
}  // namespace att
