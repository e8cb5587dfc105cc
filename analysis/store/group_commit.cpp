#include "analysis/store/group_commit.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "common/log.h"

namespace att {

struct GroupCommit::Job {
  const std::function<Status()>* work;
  Status result;
  bool done = false;  // guarded by the writer's mu_
};

GroupCommit::GroupCommit(Transactions& transactions, GroupCommitOptions options)
    : transactions_(transactions), options_(options) {
  stats_.capacity = options_.queue_capacity;
  thread_ = std::thread([this] { run(); });
}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  has_work_.notify_all();
  thread_.join();
}

Status GroupCommit::write(const std::function<Status()>& work) {
  Job job{&work, {}};
  // has_room_ also wakes callers when their batch is done: both follow a batch's end.
  std::unique_lock lock(mu_);
  if (static_cast<int>(queue_.size()) >= options_.queue_capacity) {
    ++stats_.waited_for_room;
    has_room_.wait(lock, [&] {
      return stopping_ || static_cast<int>(queue_.size()) < options_.queue_capacity;
    });
  }
  if (stopping_) return fail("the store is closing");
  queue_.push_back(&job);
  has_work_.notify_one();
  // The writer wakes every caller after each commit; each checks its own job.
  has_room_.wait(lock, [&] { return job.done; });
  return job.result;
}

void GroupCommit::run() {
  std::unique_lock lock(mu_);
  while (true) {
    has_work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything queued is written
    std::deque<Job*> batch;
    while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    has_room_.notify_all();
    lock.unlock();
    commit_batch(batch);
    lock.lock();
    for (Job* job : batch) job->done = true;
    has_room_.notify_all();
  }
}

// Runs the batch in one transaction, each write in its own savepoint. Called without mu_;
// stats_ and the jobs' results are written under it.
void GroupCommit::commit_batch(std::deque<Job*>& batch) {
  std::vector<Status> results(batch.size());
  Status begun = transactions_.begin();
  if (begun) {
    for (size_t i = 0; i < batch.size(); ++i) {
      if (auto s = transactions_.savepoint(); !s) {
        results[i] = s;
        continue;
      }
      results[i] = (*batch[i]->work)();
      if (!results[i]) transactions_.rollback_to_savepoint();
      transactions_.release_savepoint();
    }
  }
  const auto commit_start = std::chrono::steady_clock::now();
  Status committed = begun ? transactions_.commit() : begun;
  const double commit_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - commit_start).count();
  if (!committed) {
    if (begun) transactions_.rollback();
    log::get("store")->error("a transaction of {} write(s) failed: {}", batch.size(),
                             committed.error().message);
    for (Status& r : results) {
      if (r) r = fail(committed.error().code, "transaction failed: " + committed.error().message);
    }
  }

  std::lock_guard lock(mu_);
  std::int64_t ok = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i]->result = results[i];
    if (results[i]) ++ok;
  }
  stats_.writes += ok;
  stats_.failed += static_cast<std::int64_t>(batch.size()) - ok;
  if (committed) ++stats_.transactions;
  stats_.largest_batch = std::max<std::int64_t>(stats_.largest_batch, batch.size());
  stats_.commit_seconds += commit_s;
}

WriteStats GroupCommit::stats() const {
  std::lock_guard lock(mu_);
  WriteStats s = stats_;
  s.queued = static_cast<std::int64_t>(queue_.size());
  return s;
}

}  // namespace att
