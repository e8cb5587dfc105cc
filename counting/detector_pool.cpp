#include "counting/detector_pool.h"

#include <thread>

namespace att {

Result<std::unique_ptr<DetectorPool>> DetectorPool::create(const DetectorFactory& make, int size) {
  if (size <= 0) size = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::unique_ptr<Detector>> detectors;
  for (int i = 0; i < size; ++i) {
    auto d = make();
    if (!d) return std::unexpected(d.error());
    detectors.push_back(std::move(*d));
  }
  return std::unique_ptr<DetectorPool>(new DetectorPool(std::move(detectors)));
}

DetectorPool::DetectorPool(std::vector<std::unique_ptr<Detector>> detectors)
    : all_(std::move(detectors)) {
  for (auto& d : all_) idle_.push_back(d.get());
}

Result<std::vector<Box>> DetectorPool::detect(const cv::Mat& bgr) {
  Detector* detector = nullptr;
  {
    std::unique_lock lock(mu_);
    freed_.wait(lock, [&] { return !idle_.empty(); });
    detector = idle_.back();
    idle_.pop_back();
  }
  auto result = detector->detect(bgr);
  {
    std::lock_guard lock(mu_);
    idle_.push_back(detector);
  }
  freed_.notify_one();
  return result;
}

}  // namespace att
