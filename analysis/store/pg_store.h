// Store (analysis/domain/store.h: every aggregate's interface) on a PostgreSQL database, for a
// province whose service runs as several processes or on several machines. Every write of
// this process goes through one connection with group commit (group_commit.h); reads go
// through a pool of connections of their own. Several processes may share one database:
// what must be ordered between them is ordered by the database (ledger appends by their
// chain's row in chain_heads, setup versions by a lock per site, uniqueness by constraints).
// The schema is versioned (table schema_version) and migrated forward on open, each migration
// in its own transaction, under a lock so that processes starting together migrate once.
// A write returns once PostgreSQL has flushed its commit (synchronous_commit = on).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>

#include "analysis/domain/ledger.h"
#include "analysis/domain/store.h"
#include "analysis/store/group_commit.h"
#include "analysis/store/migrations.h"

namespace att {

struct PgStoreOptions {
  std::string conninfo;  // libpq: "host=... port=... dbname=... user=..." or postgresql://...
  int readers = 4;       // connections for reads (API requests read at once up to this many)
  GroupCommitOptions writer;
};

class PgStore final : public Store {
 public:
  // Connects, migrates and checks the chains' heads against their tables (a mismatch is
  // logged, and the head is then left as it is for `verify` to report). Fails with a clear
  // message when the server cannot be reached or its schema is newer than this build.
  static Result<std::unique_ptr<PgStore>> open(const PgStoreOptions& options);
  // The same with another migration list (tests of the migration mechanism).
  static Result<std::unique_ptr<PgStore>> open(const PgStoreOptions& options,
                                               std::span<const Migration> migrations);
  ~PgStore() override;

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
  Result<LedgerEntry> append(Chain chain, LedgerEntry entry) override;
  Result<std::vector<LedgerEntry>> entries(Chain chain, const LedgerQuery& query) override;
  // The chains' heads as recorded in table chain_heads.
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
  explicit PgStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace att
