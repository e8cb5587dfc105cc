// Group commit for one database connection, whatever the database: one thread runs the writes
// that queue up while a transaction commits in the next transaction together, so under load
// one disk flush serves many writes, and at rest each write still commits at once (no timer).
// Each write runs inside its own savepoint: one that fails is rolled back alone and its caller
// gets the error; the others in the batch commit. A caller's write() returns only after the
// transaction holding it has committed, so an acknowledgement sent after it is durable. The
// queue is bounded: when full, write() waits for room (counted in stats()).
// SqliteWriter (sqlite_writer.h) and the PostgreSQL store's writer run on it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "analysis/domain/store.h"
#include "common/error.h"

namespace att {

struct GroupCommitOptions {
  int queue_capacity = 1024;  // writes waiting for the writer thread
  int max_batch = 256;        // writes in one transaction at most; 1 = a transaction each
};

// What group commit asks of a connection. Called from the writer thread only.
class Transactions {
 public:
  virtual ~Transactions() = default;
  virtual Status begin() = 0;  // a write transaction
  virtual Status savepoint() = 0;
  virtual void rollback_to_savepoint() = 0;  // undoes one write's changes
  virtual void release_savepoint() = 0;
  virtual Status commit() = 0;
  virtual void rollback() = 0;  // after a failed commit
};

class GroupCommit {
 public:
  // Starts the thread; `transactions` must outlive this object.
  GroupCommit(Transactions& transactions, GroupCommitOptions options);
  ~GroupCommit();  // finishes every queued write, then joins
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Runs `work` on the writer thread inside the current transaction and returns once that
  // transaction committed (or failed). `work` must not begin or commit a transaction itself.
  // Its error rolls back only its own changes.
  Status write(const std::function<Status()>& work);

  WriteStats stats() const;

 private:
  struct Job;
  void run();
  void commit_batch(std::deque<Job*>& batch);

  Transactions& transactions_;  // used by the writer thread only
  const GroupCommitOptions options_;
  mutable std::mutex mu_;
  std::condition_variable has_work_, has_room_;
  std::deque<Job*> queue_;  // guarded by mu_; jobs live on their callers' stacks
  bool stopping_ = false;   // guarded by mu_
  WriteStats stats_;        // guarded by mu_
  std::thread thread_;
};

}  // namespace att
