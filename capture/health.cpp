#include "capture/health.h"

#include <algorithm>
#include <cmath>
#include <opencv2/calib3d.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

namespace att {
namespace {

// Grey at a fixed width, so that thresholds mean the same at 640x480 and at 1080p.
cv::Mat small_grey(const cv::Mat& frame, int width) {
  cv::Mat grey;
  if (frame.channels() == 3) {
    cv::cvtColor(frame, grey, cv::COLOR_BGR2GRAY);
  } else {
    grey = frame;
  }
  if (grey.cols == width) return grey.clone();
  cv::Mat out;
  const double scale = static_cast<double>(width) / grey.cols;
  cv::resize(grey, out, cv::Size(width, std::max(1, cvRound(grey.rows * scale))), 0, 0,
             cv::INTER_AREA);
  return out;
}

double laplacian_variance(const cv::Mat& grey) {
  cv::Mat lap;
  cv::Laplacian(grey, lap, CV_32F);
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev);
  return stddev[0] * stddev[0];
}

// Share of pixels within ±spread of the most common grey level.
double uniform_share(const cv::Mat& grey, int spread) {
  int histogram[256] = {};
  for (int r = 0; r < grey.rows; ++r) {
    const uchar* p = grey.ptr<uchar>(r);
    for (int c = 0; c < grey.cols; ++c) ++histogram[p[c]];
  }
  const int mode = static_cast<int>(std::max_element(histogram, histogram + 256) - histogram);
  long near = 0;
  for (int v = std::max(0, mode - spread); v <= std::min(255, mode + spread); ++v)
    near += histogram[v];
  return static_cast<double>(near) / static_cast<double>(grey.total());
}

constexpr int kSharpnessWidth = 640;
constexpr int kCompareWidth = 320;

}  // namespace

HealthMonitor::View HealthMonitor::describe(const cv::Mat& grey) {
  View v;
  v.width = grey.cols;
  auto orb = cv::ORB::create(800);
  orb->detectAndCompute(grey, cv::noArray(), v.keypoints, v.descriptors);
  return v;
}

// How the camera's view moved from the reference: a similarity transform (shift, turn,
// zoom) fitted by RANSAC to matched ORB features. People sitting down hide some features,
// but the walls, windows and desks that remain agree on one transform; a burned-in clock
// overlay does not move with the camera, but it is outvoted by the room.
HealthMonitor::ViewChange HealthMonitor::compare_view(const View& reference, const cv::Mat& grey) {
  ViewChange change;
  const View now = describe(grey);
  if (reference.descriptors.empty() || now.descriptors.empty()) return change;
  cv::BFMatcher matcher(cv::NORM_HAMMING, /*crossCheck=*/true);
  std::vector<cv::DMatch> matches;
  matcher.match(reference.descriptors, now.descriptors, matches);
  if (matches.size() < 3) return change;
  std::vector<cv::Point2f> from, to;
  for (const auto& m : matches) {
    from.push_back(reference.keypoints[static_cast<size_t>(m.queryIdx)].pt);
    to.push_back(now.keypoints[static_cast<size_t>(m.trainIdx)].pt);
  }
  std::vector<uchar> inlier;
  const cv::Mat t = cv::estimateAffinePartial2D(from, to, inlier, cv::RANSAC, 3.0);
  if (t.empty()) return change;
  change.inliers = static_cast<int>(std::count(inlier.begin(), inlier.end(), 1));
  const double a = t.at<double>(0, 0), b = t.at<double>(1, 0);
  change.rotation_deg = std::atan2(b, a) * 180.0 / CV_PI;
  // The shift of the frame's centre, as a share of the width.
  const cv::Point2d c(grey.cols / 2.0, grey.rows / 2.0);
  const cv::Point2d moved(t.at<double>(0, 0) * c.x + t.at<double>(0, 1) * c.y + t.at<double>(0, 2),
                          t.at<double>(1, 0) * c.x + t.at<double>(1, 1) * c.y + t.at<double>(1, 2));
  change.shift = std::hypot(moved.x - c.x, moved.y - c.y) / grey.cols;
  return change;
}

std::vector<std::string> HealthReport::flags() const {
  std::vector<std::string> out;
  if (dark) out.push_back("dark");
  if (covered) out.push_back("covered");
  if (blurred) out.push_back("blurred");
  if (frozen) out.push_back("frozen");
  if (moved) out.push_back("moved");
  return out;
}

HealthScores HealthReport::scores() const {
  auto round2 = [](double v) { return std::round(v * 100.0) / 100.0; };
  HealthScores s;
  s.brightness = round2(brightness);
  s.sharpness = round2(sharpness);
  s.change = round2(change);
  s.uniform_share = round2(uniform_share);
  s.flags = flags();
  if (matched >= 0) {
    s.shift = std::round(shift * 1000.0) / 1000.0;
    s.rotation = round2(rotation);
    s.matched = matched;
  }
  return s;
}

HealthMonitor::HealthMonitor(HealthConfig config) : config_(config) {}

void HealthMonitor::set_reference(const cv::Mat& frame) {
  reference_ = frame.empty() ? View{} : describe(small_grey(frame, kSharpnessWidth));
}

HealthReport HealthMonitor::assess(const cv::Mat& frame) {
  HealthReport r;
  if (frame.empty()) return r;
  const cv::Mat sharp_grey = small_grey(frame, kSharpnessWidth);
  const cv::Mat grey = small_grey(sharp_grey, kCompareWidth);

  r.brightness = cv::mean(sharp_grey)[0];
  r.sharpness = laplacian_variance(sharp_grey);
  r.uniform_share = uniform_share(grey, config_.covered_spread);
  // A dark room is uniform too: dark says more, so covered is kept for a lit, blank view.
  r.dark = r.brightness < config_.dark_brightness;
  r.covered = !r.dark && r.uniform_share >= config_.covered_share;
  r.blurred = !r.dark && !r.covered && r.sharpness < config_.blur_sharpness;

  if (!previous_.empty() && previous_.size() == grey.size()) {
    cv::Mat diff;
    cv::absdiff(previous_, grey, diff);
    r.change = cv::mean(diff)[0];
    unchanged_ = r.change < config_.frozen_difference ? unchanged_ + 1 : 0;
  } else {
    unchanged_ = 0;
  }
  previous_ = grey;
  r.frozen = unchanged_ >= std::max(1, config_.frozen_samples - 1);

  if (reference_.valid() && !r.dark && !r.covered) {
    const ViewChange v = compare_view(reference_, sharp_grey);
    r.shift = v.shift;
    r.rotation = v.rotation_deg;
    r.matched = v.inliers;
    r.moved = v.inliers < config_.moved_min_matches || v.shift > config_.moved_shift ||
              std::abs(v.rotation_deg) > config_.moved_rotation_deg;
  }
  return r;
}

}  // namespace att
