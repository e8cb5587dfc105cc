// Store (analysis/domain/store.h: every aggregate's interface) on one SQLite file in WAL
// mode. Every write goes through one writer thread that batches what queues up into one
// transaction (SqliteWriter); reads go through a small pool of read-only connections of their
// own, so readers never wait on the writer.
// The schema is versioned (PRAGMA user_version) and migrated forward on open, in order,
// each migration in its own transaction.
// The ledger's head anchor (analysis/domain/ledger.h) is kept in `ledger.head` beside the
// database file: written after each append, checked against the database at open.
// Opened read-only (SqliteStoreOptions::read_only), it reads a database and changes nothing.
#pragma once

#include <filesystem>
#include <memory>
#include <span>

#include "analysis/domain/store.h"
#include "analysis/store/migrations.h"
#include "analysis/store/sqlite_writer.h"

namespace att {

struct SqliteStoreOptions {
  int readers = 4;  // read-only connections (API requests read at once up to this many)
  SqliteWriterOptions writer;
  // synchronous=FULL: a committed write survives a power cut, not only a crash.
  bool full_sync = true;
  // Opens an existing database for reading only, as an auditor's copy is checked: the file is
  // not created, migrated or written (byte for byte as it was, its -wal too; SQLite may add a
  // -shm and an empty -wal beside it), ledger.head is neither checked nor written, and there is
  // no writer thread: every write is refused. An older schema is read as it is (the ledger's
  // calls are refused on one without a ledger); a newer one is refused.
  bool read_only = false;
};

class SqliteStore final : public Store {
 public:
  // Opens or creates the database and migrates it (unless options.read_only: see there; a
  // missing file is then an error). Fails with a clear message on a file
  // that is not a database, or one whose schema is newer than this build.
  // Then checks ledger.head against the ledger's tables: missing, it is written from the
  // database's end; behind it (a crash between a commit and the head's write), brought up to
  // it; ahead of it or naming another hash (entries deleted or replaced), it is left as it is
  // and not written while this store is open, an error logged, so that `attendance-server
  // verify` still sees what happened (move the file aside once that has been looked into).
  static Result<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& path,
                                                   SqliteStoreOptions options = {});
  // The same with another migration list (tests of the migration mechanism).
  static Result<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& path,
                                                   std::span<const Migration> migrations,
                                                   SqliteStoreOptions options = {});
  ~SqliteStore() override;

  // The highest migration this build knows.
  static int latest_schema_version();
  Result<int> schema_version();

  Status sync_sites(const std::vector<Site>& sites) override;
  Result<std::optional<Setup>> latest_setup(const std::string& site_id) override;
  Result<std::vector<Setup>> setup_history(const std::string& site_id) override;
  Result<Setup> put_setup(const std::string& site_id, const std::string& body, std::int64_t at_ms,
                          const std::string& made_by) override;
  Result<InsertOutcome> insert_observation(const Observation& obs) override;
  Result<std::optional<Observation>> find_observation(const std::string& site_id,
                                                      std::int64_t sequence) override;
  Result<std::optional<Observation>> latest_observation(const std::string& site_id) override;
  Result<std::vector<Observation>> observations_since(const std::string& site_id,
                                                      std::int64_t from_ms, int limit) override;
  Result<std::vector<Observation>> observations_between(const std::string& site_id,
                                                        std::int64_t from_ms, std::int64_t to_ms,
                                                        int limit) override;
  Result<std::vector<Observation>> latest_per_site() override;
  Result<std::int64_t> observation_count(const std::string& site_id) override;
  Status record_audit(const std::string& site_id, std::int64_t sequence, int audit_count) override;
  Result<HeartbeatInsert> insert_heartbeat(const Heartbeat& heartbeat) override;
  Result<std::optional<Heartbeat>> find_heartbeat(const std::string& site_id,
                                                  std::int64_t sequence) override;
  Result<std::vector<Heartbeat>> latest_heartbeat_per_site() override;
  Result<std::int64_t> heartbeat_count(const std::string& site_id) override;
  Result<std::int64_t> spool_dropped_total(const std::string& site_id) override;
  Result<std::vector<std::string>> expire_frames(std::int64_t before_ms, int limit) override;
  Result<std::int64_t> expire_heartbeats(std::int64_t before_ms) override;
  // After the row commits, ledger.head is rewritten (fsync'd) before append() returns; if that
  // write fails, the entry stands (it is logged, and the next append's head covers it).
  Result<LedgerEntry> append(Chain chain, LedgerEntry entry) override;
  Result<std::vector<LedgerEntry>> entries(Chain chain, const LedgerQuery& query) override;
  // ledger.head beside the database file, as it is on disk.
  Result<std::optional<LedgerHead>> recorded_head() override;
  std::string head_name() const override;
  Status add_user(const User& user) override;
  Status update_user(const User& user) override;
  Result<std::optional<User>> find_user(const std::string& name) override;
  Result<std::vector<User>> users() override;
  Status add_session(const Session& session) override;
  Result<std::optional<Session>> find_session(const std::string& token_sha256) override;
  Status touch_session(const std::string& token_sha256, std::int64_t last_seen_ms) override;
  Status delete_session(const std::string& token_sha256) override;
  Result<std::int64_t> delete_ended_sessions(std::int64_t now_ms,
                                             std::int64_t idle_before_ms) override;
  WriteStats write_stats() const override;

  struct Impl;

 private:
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  static Result<std::unique_ptr<SqliteStore>> open_read_only(const std::filesystem::path& path,
                                                             std::span<const Migration> migrations,
                                                             const SqliteStoreOptions& options);
  std::unique_ptr<Impl> impl_;
};

}  // namespace att
