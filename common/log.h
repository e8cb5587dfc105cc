// Per-component loggers over spdlog. Components: "capture", "upload", "server", "ingest",
// "store", "detector", "http". Thread-safe; call log::setup() once from main().
//
// Two line formats, both on stderr:
//   text (default): 2026-11-22T08:15:02.123+07:00 warning [ingest] site td-01: ...
//   json, one object per line, for journald and log shippers (Loki, Vector):
//     {"ts":"2026-11-22T08:15:02.123+07:00","level":"warn","component":"ingest",
//      "msg":"site td-01: ...","thread":1234}
//   "level" is one of trace, debug, info, warn, error, critical. "msg" is escaped per
//   RFC 8259 (UTF-8 kept as is; bytes that are not valid UTF-8 become U+FFFD), so every
//   line parses, whatever the message holds.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace att::log {

enum class Format { kText, kJson };

// "text" or "json" (as a config or command line names them); nullopt for anything else.
std::optional<Format> parse_format(std::string_view name);

// Sets the level for every component ("trace".."off"; unknown names keep "info") and the
// line format. Lines go to `sink` when given (tests: an ostream sink), else to stderr.
// Applies to the loggers that exist and to those created later. Call it before other
// threads log: it swaps the sinks of existing loggers without a lock.
void setup(const std::string& level, Format format = Format::kText,
           spdlog::sink_ptr sink = nullptr);

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
