#include "tests/support/fake_detector.h"

#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace att::testing {

FakeDetector FakeDetector::painted_heads() {
  return FakeDetector(-1);
}

FakeDetector FakeDetector::fixed_people(int n) {
  return FakeDetector(n < 0 ? 0 : n);
}

std::string FakeDetector::name() const {
  return fixed_people_ < 0 ? "painted-heads" : "fixed-people-" + std::to_string(fixed_people_);
}

Result<std::vector<Box>> FakeDetector::detect(const cv::Mat& bgr) {
  std::vector<Box> boxes;
  if (fixed_people_ >= 0) {
    // Boxes a slot wide with two empty slots between them, in the second sixth of the height.
    const float w = static_cast<float>(bgr.cols) / static_cast<float>(3 * fixed_people_ + 1);
    const float h = static_cast<float>(bgr.rows) / 6;
    for (int k = 0; k < fixed_people_; ++k) {
      boxes.push_back({static_cast<float>(1 + 3 * k) * w, h, w, h, 0.9f});
    }
    return boxes;
  }
  // Outer contours, not connectedComponentsWithStats: its parallel form allocates on OpenCV's
  // TBB workers and frees on this thread, an ordering ThreadSanitizer cannot see.
  cv::Mat grey, bright;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::threshold(grey, bright, 160, 255, cv::THRESH_BINARY);
  std::vector<std::vector<cv::Point>> blobs;
  cv::findContours(bright, blobs, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  for (const auto& blob : blobs) {
    const cv::Rect r = cv::boundingRect(blob);
    boxes.push_back({static_cast<float>(r.x), static_cast<float>(r.y), static_cast<float>(r.width),
                     static_cast<float>(r.height), 0.9f});
  }
  return boxes;
}

DetectorChoice FakeDetector::choice() const {
  DetectorChoice choice;
  choice.name = name();
  choice.make = [copy = *this]() -> Result<std::unique_ptr<Detector>> {
    return std::make_unique<FakeDetector>(copy);
  };
  return choice;
}

std::string painted_frame(int people) {
  constexpr int kWidth = 320, kHeight = 180, kColumns = 12;
  cv::Mat frame(kHeight, kWidth, CV_8UC3, cv::Scalar(40, 40, 40));
  for (int k = 0; k < people; ++k) {
    const cv::Rect head(20 + (k % kColumns) * 20, 30 + (k / kColumns) * 18, 8, 8);
    cv::rectangle(frame, head, cv::Scalar(255, 255, 255), cv::FILLED);
  }
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", frame, jpeg, {cv::IMWRITE_JPEG_QUALITY, 90});
  return {jpeg.begin(), jpeg.end()};
}

}  // namespace att::testing
