// The one stand-in for the people detector, for suites where detection is not under test
// (real detection on real frames is tested in test_detector, test_eval and test_end_to_end).
// It is either of two kinds:
//   painted heads  one box per bright blob, so that a frame from painted_frame(n) counts n
//                  exactly: a script of counts goes through the real service unchanged
//   fixed people   the same n boxes wherever it looks, whatever the picture
// Like every Detector, one instance is used by one thread at a time; choice() makes one per
// worker.
#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "common/box.h"
#include "common/error.h"
#include "counting/detector.h"

namespace att::testing {

class FakeDetector final : public Detector {
 public:
  static FakeDetector painted_heads();
  static FakeDetector fixed_people(int n);

  std::string name() const override;
  Result<std::vector<Box>> detect(const cv::Mat& bgr) override;

  // What ServiceHooks::detector takes: this detector under its name, a copy per worker.
  DetectorChoice choice() const;

 private:
  explicit FakeDetector(int fixed_people) : fixed_people_(fixed_people) {}
  int fixed_people_;  // < 0: painted heads
};

// A 320x180 JPEG (quality 90) of a dark room with `people` white 8x8 squares on a grid of
// 12 columns from (20, 30), 20 px apart across and 18 down: what painted_heads() counts.
std::string painted_frame(int people);

}  // namespace att::testing
