// Camera health at the edge, judged on each sampled frame: too dark, blurred, frozen (no
// change over several samples), covered (most of the picture one colour), moved (the view no
// longer matches the reference frame a technician confirmed). Pure computation on pixels, so
// it is tested with generated pictures; the node runs it on its own thread, never in a
// GStreamer streaming thread.
#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "protocol/node_report.h"

namespace att {

struct HealthConfig {
  double dark_brightness = 35;     // mean grey level (0..255) below this: dark
  double blur_sharpness = 20;      // variance of the Laplacian (at 640 px wide) below this: blurred
  int frozen_samples = 3;          // this many consecutive unchanged samples: frozen
  double frozen_difference = 0.3;  // mean absolute grey change below this: unchanged
  double covered_share = 0.85;     // this share of pixels within ±covered_spread of the
  int covered_spread = 12;         // most common grey level: covered
  // Moved: the view's centre shifted beyond this share of the width from the reference, or
  // turned beyond this many degrees, or fewer than this many features still match it.
  double moved_shift = 0.03;
  double moved_rotation_deg = 2.0;
  int moved_min_matches = 25;
};

struct HealthReport {
  double brightness = 0;     // mean grey level
  double sharpness = 0;      // variance of the Laplacian, at 640 px wide
  double change = -1;        // mean absolute grey change from the previous sample; -1: first
  double uniform_share = 0;  // share of pixels near the most common grey level
  double shift = 0;          // of the view's centre from the reference, share of the width
  double rotation = 0;       // degrees from the reference
  int matched = -1;          // features matching the reference; -1: no reference
  bool dark = false, blurred = false, frozen = false, covered = false, moved = false;

  // The raised flags in a fixed order ("dark", "covered", "blurred", "frozen", "moved").
  std::vector<std::string> flags() const;
  bool ok() const { return flags().empty(); }
  // The scores as the node sends them (protocol/node_report.h): rounded, the raised flags,
  // and the reference comparison only when there is a reference.
  HealthScores scores() const;
  // scores() as JSON, as sent in X-Health.
  std::string to_json() const { return scores().to_json(); }
};

class HealthMonitor {
 public:
  explicit HealthMonitor(HealthConfig config = {});

  // Judges one sampled frame (BGR or grey), in sampling order.
  HealthReport assess(const cv::Mat& frame);

  // The view a technician confirmed as right; later frames are compared with it.
  void set_reference(const cv::Mat& frame);
  bool has_reference() const { return reference_.valid(); }

 private:
  struct View {  // ORB features of one frame at 640 px wide
    int width = 0;
    std::vector<cv::KeyPoint> keypoints;
    cv::Mat descriptors;
    bool valid() const { return width > 0; }
  };
  struct ViewChange {
    int inliers = 0;
    double shift = 0, rotation_deg = 0;
  };
  static View describe(const cv::Mat& grey);
  static ViewChange compare_view(const View& reference, const cv::Mat& grey);

  HealthConfig config_;
  cv::Mat previous_;   // last sample, small grey
  int unchanged_ = 0;  // consecutive samples without change
  View reference_;     // empty without reference
};

}  // namespace att
