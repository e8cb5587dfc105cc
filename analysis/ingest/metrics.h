// The service's counters for /metrics (Prometheus text format 0.0.4): uploads answered by
// endpoint and status code, refusals by reason, and the time detection takes. Thread-safe;
// cheap enough for the ingest path (one short lock per upload).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace att {

class Metrics {
 public:
  // An upload answered: endpoint "frames", "health", "counts" or "evidence", the HTTP status,
  // and the error code for a refusal ("" for a success).
  void answered(const std::string& endpoint, int status, const std::string& code);
  // One detection's duration.
  void detected(double seconds);

  // The counters and the histogram, in Prometheus text format.
  std::string render() const;

  static constexpr std::array<double, 9> kDetectBuckets = {0.025, 0.05, 0.1, 0.25, 0.5,
                                                           1,     2.5,  5,   10};

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::int64_t> answers_;       // (endpoint, status)
  std::map<std::string, std::int64_t> refusals_;                      // code
  std::array<std::int64_t, kDetectBuckets.size()> detect_buckets_{};  // cumulative on render
  std::int64_t detect_count_ = 0;
  double detect_sum_ = 0;
};

}  // namespace att
