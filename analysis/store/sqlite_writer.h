// The one thread that writes to a SQLite database, with group commit: the writes that queue
// up while a transaction commits go into the next transaction together, so under load one
// disk flush serves many frames, and at rest each write still commits at once (no timer).
// Each write runs inside its own SAVEPOINT: one that fails is rolled back alone and its
// caller gets the error; the others in the batch commit. A caller's write() returns only
// after the transaction holding it has committed, so an acknowledgement sent after it is
// durable. The queue is bounded: when full, write() waits for room (counted in stats()).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "analysis/domain/store.h"
#include "common/error.h"
#include "common/sqlite_db.h"

namespace att {

struct SqliteWriterOptions {
  int queue_capacity = 1024;  // writes waiting for the writer thread
  int max_batch = 256;        // writes in one transaction at most; 1 = a transaction each
};

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
  struct Job;
  void run();
  void commit_batch(std::deque<Job*>& batch);

  sql::Db db_;  // used by the writer thread only
  const SqliteWriterOptions options_;
  mutable std::mutex mu_;
  std::condition_variable has_work_, has_room_;
  std::deque<Job*> queue_;  // guarded by mu_; jobs live on their callers' stacks
  bool stopping_ = false;   // guarded by mu_
  WriteStats stats_;        // guarded by mu_
  std::thread thread_;
};

}  // namespace att
