#include "analysis/ingest/metrics.h"

#include <fmt/format.h>

namespace att {

void Metrics::answered(const std::string& endpoint, int status, const std::string& code) {
  std::lock_guard lock(mu_);
  ++answers_[{endpoint, status}];
  if (!code.empty()) ++refusals_[code];
}

void Metrics::detected(double seconds) {
  std::lock_guard lock(mu_);
  ++detect_count_;
  detect_sum_ += seconds;
  for (size_t i = 0; i < kDetectBuckets.size(); ++i) {
    if (seconds <= kDetectBuckets[i]) {
      ++detect_buckets_[i];
      break;
    }
  }
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP attendance_uploads_total Uploads from capture nodes, by endpoint and answer.\n";
  out += "# TYPE attendance_uploads_total counter\n";
  for (const auto& [key, n] : answers_) {
    out += fmt::format("attendance_uploads_total{{endpoint=\"{}\",status=\"{}\"}} {}\n", key.first,
                       key.second, n);
  }
  out += "# HELP attendance_refusals_total Uploads refused or pushed back, by reason.\n";
  out += "# TYPE attendance_refusals_total counter\n";
  for (const auto& [code, n] : refusals_) {
    out += fmt::format("attendance_refusals_total{{reason=\"{}\"}} {}\n", code, n);
  }
  out += "# HELP attendance_detect_seconds Time to detect people in one frame.\n";
  out += "# TYPE attendance_detect_seconds histogram\n";
  std::int64_t cumulative = 0;
  for (size_t i = 0; i < kDetectBuckets.size(); ++i) {
    cumulative += detect_buckets_[i];
    out += fmt::format("attendance_detect_seconds_bucket{{le=\"{}\"}} {}\n", kDetectBuckets[i],
                       cumulative);
  }
  out += fmt::format("attendance_detect_seconds_bucket{{le=\"+Inf\"}} {}\n", detect_count_);
  out += fmt::format("attendance_detect_seconds_sum {:.6f}\n", detect_sum_);
  out += fmt::format("attendance_detect_seconds_count {}\n", detect_count_);
  return out;
}

}  // namespace att
