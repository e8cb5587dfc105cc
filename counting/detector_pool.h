// A fixed set of detectors shared by the threads that need one. detect() borrows a free
// detector, waiting while all are busy, so at most `size` detections run at once. Thread-safe.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "counting/detector.h"

namespace att {

class DetectorPool {
 public:
  // Builds `size` detectors (size 0 = one per hardware thread); fails if any cannot be built.
  static Result<std::unique_ptr<DetectorPool>> create(const DetectorFactory& make, int size);

  Result<std::vector<Box>> detect(const cv::Mat& bgr);
  size_t size() const { return all_.size(); }

 private:
  explicit DetectorPool(std::vector<std::unique_ptr<Detector>> detectors);

  std::vector<std::unique_ptr<Detector>> all_;  // owned; fixed after construction
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<Detector*> idle_;  // guarded by mu_
};

}  // namespace att
