// The one thread that writes to a SQLite database, with group commit (group_commit.h): the
// writes that queue up while a transaction commits go into the next transaction together, each
// in its own SAVEPOINT, and a caller's write() returns only after its transaction committed.
#pragma once

#include <functional>
#include <memory>

#include "analysis/domain/store.h"
#include "analysis/store/group_commit.h"
#include "common/error.h"
#include "common/sqlite_db.h"

namespace att {

using SqliteWriterOptions = GroupCommitOptions;

class SqliteWriter {
 public:
  // Takes the connection (already configured and migrated) and starts the thread.
  SqliteWriter(sql::Db db, SqliteWriterOptions options);
  ~SqliteWriter();  // finishes every queued write, then joins
  SqliteWriter(const SqliteWriter&) = delete;
  SqliteWriter& operator=(const SqliteWriter&) = delete;

  // Runs `work` on the writer's connection inside the current transaction and returns once
  // that transaction committed (or failed). `work` must not BEGIN or COMMIT itself. Its
  // error rolls back only its own changes.
  Status write(const std::function<Status(sqlite3*)>& work);

  WriteStats stats() const;

 private:
  class Connection;
  std::unique_ptr<Connection> connection_;  // used by the writer thread only
  std::unique_ptr<GroupCommit> commits_;
};

}  // namespace att
