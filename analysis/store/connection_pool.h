// A fixed set of connections shared by reading threads: a caller takes an idle one for the
// length of a call, waiting when all are busy, and gives it back however the call ends.
#pragma once

#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

namespace att {

template <typename Conn>  // an owning handle, e.g. a std::unique_ptr with a deleter
class ConnectionPool {
 public:
  void add(Conn conn) {
    {
      std::lock_guard lock(mu_);
      idle_.push_back(std::move(conn));
    }
    free_.notify_one();
  }
  bool empty() const {
    std::lock_guard lock(mu_);
    return idle_.empty();
  }
  // The first connection added, for a look before the pool is in use (at open).
  auto front() const {
    std::lock_guard lock(mu_);
    return idle_.front().get();
  }

  // Runs `f` with an idle connection's raw handle.
  template <typename F>
  auto with(F&& f) {
    Conn conn;
    {
      std::unique_lock lock(mu_);
      free_.wait(lock, [&] { return !idle_.empty(); });
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
    struct GiveBack {
      ConnectionPool& pool;
      Conn& conn;
      ~GiveBack() { pool.add(std::move(conn)); }
    } give_back{*this, conn};
    return f(conn.get());
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable free_;
  std::vector<Conn> idle_;  // guarded by mu_
};

}  // namespace att
