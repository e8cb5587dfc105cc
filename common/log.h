// Per-component loggers over spdlog. Components: "capture", "upload", "server", "ingest",
// "store", "detector", "http". Thread-safe; call log::setup() once from main().
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

namespace att::log {

// Sets the level for every component ("trace".."off"); unknown names keep "info".
void setup(const std::string& level);

// True for the levels a config may name: trace, debug, info, warn, error.
bool valid_level(const std::string& level);

// Returns the logger named `component`, creating it on first use.
std::shared_ptr<spdlog::logger> get(const std::string& component);

// Lets through at most one message per `period`, and says how many were held back.
// For logging inside per-frame loops. Thread-safe.
class RateLimit {
 public:
  explicit RateLimit(std::chrono::milliseconds period) : period_(period) {}
  // Returns true when a message may be logged now; `suppressed` gets the number held back
  // since the last one that was let through.
  bool allow(long long& suppressed);

 private:
  std::chrono::milliseconds period_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_;  // guarded by mu_
  long long held_ = 0;                          // guarded by mu_
  bool first_ = true;                           // guarded by mu_
};

}  // namespace att::log
