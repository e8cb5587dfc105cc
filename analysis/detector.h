// Face/head detectors behind one interface. A Detector instance is used by one thread at a
// time (OpenCV's DNN nets keep per-call state); run several through DetectorPool.
#pragma once

#include <opencv2/core.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "analysis/box.h"
#include "analysis/server_config.h"
#include "common/error.h"

namespace att {

class Detector {
 public:
  virtual ~Detector() = default;
  virtual std::string name() const = 0;
  // Detections on a BGR frame, at the frame's own resolution.
  virtual Result<std::vector<Box>> detect(const cv::Mat& bgr) = 0;
};

// YuNet 2022mar through cv::FaceDetectorYN, run at the frame's native size (small faces in
// the back rows are what get lost when downscaling).
Result<std::unique_ptr<Detector>> make_yunet_detector(const std::filesystem::path& model,
                                                      float score_threshold, float nms_threshold);

// OpenCV's Haar frontal-face cascade (opencv-data): the fallback when no model can be had,
// and the baseline a tutorial would pick.
Result<std::unique_ptr<Detector>> make_haar_detector(const std::filesystem::path& cascade);

using DetectorFactory = std::function<Result<std::unique_ptr<Detector>>()>;

// What the service counts with, and whether it is the real thing.
struct DetectorChoice {
  std::string name;        // "yunet" or "haar"
  std::string model_path;  // file in use
  bool degraded = false;   // true unless the main model is in use
  std::string message;     // why degraded, for the log and the dashboard
  DetectorFactory make;    // builds one more detector (one per worker)
};

// YuNet if its model is found with the right sha256 in `model_dirs` (see
// model_search_dirs()); otherwise the Haar cascade, marked degraded with the reason. Fails
// only when neither can be loaded.
Result<DetectorChoice> choose_detector(const DetectorConfig& config,
                                       const std::vector<std::filesystem::path>& model_dirs);

}  // namespace att
