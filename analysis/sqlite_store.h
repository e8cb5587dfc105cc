// Store on one SQLite file in WAL mode. Writes go through one connection, reads through
// another, each guarded by its own mutex, so readers never wait on a writer's transaction.
// The schema is versioned (PRAGMA user_version) and migrated forward on open, in order,
// each migration in its own transaction.
#pragma once

#include <filesystem>
#include <memory>
#include <span>

#include "analysis/migrations.h"
#include "analysis/store.h"

namespace att {

class SqliteStore final : public Store {
 public:
  // Opens or creates the database and migrates it. Fails with a clear message on a file
  // that is not a database, or one whose schema is newer than this build.
  static Result<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& path);
  // The same with another migration list (tests of the migration mechanism).
  static Result<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& path,
                                                   std::span<const Migration> migrations);
  ~SqliteStore() override;

  // The highest migration this build knows.
  static int latest_schema_version();
  Result<int> schema_version();

  Status sync_sites(const std::vector<Site>& sites) override;
  Result<InsertOutcome> insert_observation(const Observation& obs) override;
  Result<std::optional<Observation>> find_observation(const std::string& site_id,
                                                      std::int64_t sequence) override;
  Result<std::optional<Observation>> latest_observation(const std::string& site_id) override;
  Result<std::vector<Observation>> observations_since(const std::string& site_id,
                                                      std::int64_t from_ms, int limit) override;
  Result<std::vector<Observation>> latest_per_site() override;
  Result<std::int64_t> observation_count(const std::string& site_id) override;
  Result<HeartbeatInsert> insert_heartbeat(const Heartbeat& heartbeat) override;
  Result<std::vector<Heartbeat>> latest_heartbeat_per_site() override;
  Result<std::int64_t> heartbeat_count(const std::string& site_id) override;
  Result<std::int64_t> spool_dropped_total(const std::string& site_id) override;

  struct Impl;

 private:
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace att
