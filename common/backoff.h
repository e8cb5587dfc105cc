// Jittered exponential backoff for retries that go on forever (camera, server): 0.5 s, 1 s,
// 2 s, ... up to a ceiling, each scaled by a random factor in [0.5, 1] so that 164 nodes
// that lost the same link do not come back in step. Not thread-safe; one per retry loop.
#pragma once

#include <algorithm>
#include <chrono>
#include <random>

namespace att {

class Backoff {
 public:
  explicit Backoff(std::chrono::milliseconds ceiling,
                   std::chrono::milliseconds first = std::chrono::milliseconds(500))
      : first_(first), ceiling_(ceiling), rng_(std::random_device{}()) {}

  std::chrono::milliseconds next() {
    const double base = std::min<double>(
        double(ceiling_.count()), double(first_.count()) * double(1LL << std::min(attempt_, 30)));
    ++attempt_;
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return std::chrono::milliseconds(static_cast<long long>(base * jitter(rng_)));
  }
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  std::chrono::milliseconds first_, ceiling_;
  int attempt_ = 0;
  std::mt19937 rng_;
};

}  // namespace att
