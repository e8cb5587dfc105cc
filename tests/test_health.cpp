// Camera health flags on generated pictures: a textured "room", then the same room dark,
// covered, blurred, frozen or moved.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "capture/health.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

using Flags = std::vector<std::string>;

// A lit room with edges everywhere: desks, windows, posters (random rectangles), and a little
// sensor noise that differs from frame to frame.
cv::Mat room(unsigned noise_seed = 1, cv::Size size = {1280, 720}) {
  cv::Mat img(size, CV_8UC3, cv::Scalar(150, 160, 170));
  std::mt19937 rng(7);  // the room itself is always the same
  std::uniform_int_distribution<int> x(0, size.width - 1), y(0, size.height - 1), c(20, 235);
  for (int i = 0; i < 120; ++i) {
    const cv::Point a(x(rng), y(rng));
    const cv::Point b(a.x + 20 + x(rng) % 160, a.y + 15 + y(rng) % 90);
    cv::rectangle(img, a, b, cv::Scalar(c(rng), c(rng), c(rng)), cv::FILLED);
  }
  cv::Mat noise(size, CV_8UC3);
  cv::theRNG().state = noise_seed;
  cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(3));
  cv::Mat out;
  cv::add(img, noise, out);  // saturating; the noise is non-negative half of the time
  return out;
}

cv::Mat shifted(const cv::Mat& img, double dx, double dy) {
  const cv::Mat m = (cv::Mat_<double>(2, 3) << 1, 0, dx, 0, 1, dy);
  cv::Mat out;
  cv::warpAffine(img, out, m, img.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return out;
}

cv::Mat turned(const cv::Mat& img, double degrees) {
  cv::Mat out;
  const cv::Point2f centre(img.cols / 2.0f, img.rows / 2.0f);
  cv::warpAffine(img, out, cv::getRotationMatrix2D(centre, degrees, 1.0), img.size(),
                 cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return out;
}

// For failure messages: how the view compared with the reference.
std::string view_of(const HealthReport& r) {
  return "shift " + std::to_string(r.shift) + ", rotation " + std::to_string(r.rotation) +
         ", matched " + std::to_string(r.matched);
}

TEST(Health, ANormalRoomRaisesNothing) {
  HealthMonitor monitor;
  for (unsigned i = 1; i <= 6; ++i) {
    const HealthReport r = monitor.assess(room(i));
    EXPECT_TRUE(r.ok()) << "sample " << i << ": " << ::testing::PrintToString(r.flags());
    EXPECT_GT(r.brightness, 100);
    EXPECT_GT(r.sharpness, 100);
  }
}

TEST(Health, ABlackPictureIsDarkOnly) {
  HealthMonitor monitor;
  const HealthReport r = monitor.assess(cv::Mat(720, 1280, CV_8UC3, cv::Scalar(3, 3, 3)));
  EXPECT_EQ(r.flags(), Flags{"dark"});
  EXPECT_LT(r.brightness, 5);
}

TEST(Health, ARoomWithTheLightsLowIsDark) {
  HealthMonitor monitor;
  cv::Mat dim;
  room().convertTo(dim, -1, 0.15);
  EXPECT_TRUE(monitor.assess(dim).dark);
}

TEST(Health, AUniformColourIsCovered) {
  HealthMonitor monitor;
  const HealthReport r = monitor.assess(cv::Mat(720, 1280, CV_8UC3, cv::Scalar(200, 120, 40)));
  EXPECT_EQ(r.flags(), Flags{"covered"});
  EXPECT_GT(r.uniform_share, 0.99);
}

TEST(Health, AJacketOverTheLensIsCovered) {
  // One colour with folds and noise: not a perfectly flat picture, still nothing to see.
  cv::Mat jacket(720, 1280, CV_8UC3, cv::Scalar(60, 70, 90));
  cv::Mat noise(jacket.size(), CV_8UC3);
  cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(4));
  jacket += noise;
  cv::line(jacket, {100, 0}, {400, 720}, cv::Scalar(75, 85, 105), 25);  // a fold
  HealthMonitor monitor;
  EXPECT_EQ(monitor.assess(jacket).flags(), Flags{"covered"});
}

TEST(Health, AnOutOfFocusRoomIsBlurred) {
  cv::Mat blurred;
  cv::GaussianBlur(room(), blurred, {0, 0}, 12);
  HealthMonitor monitor;
  const HealthReport r = monitor.assess(blurred);
  EXPECT_EQ(r.flags(), Flags{"blurred"});
}

TEST(Health, TheSamePictureThreeTimesIsFrozenAndAChangeEndsIt) {
  HealthMonitor monitor;  // frozen_samples = 3
  const cv::Mat still = room(1);
  EXPECT_FALSE(monitor.assess(still).frozen);
  EXPECT_FALSE(monitor.assess(still).frozen);
  const HealthReport third = monitor.assess(still);
  EXPECT_TRUE(third.frozen);
  EXPECT_EQ(third.change, 0.0);
  EXPECT_TRUE(monitor.assess(still).frozen);
  EXPECT_FALSE(monitor.assess(room(2)).frozen);  // sensor noise: a live camera again
}

TEST(Health, LiveNoiseAloneIsNotFrozen) {
  HealthMonitor monitor;
  for (unsigned i = 1; i <= 5; ++i) {
    const HealthReport r = monitor.assess(room(i));
    EXPECT_FALSE(r.frozen) << i;
    if (i > 1) {
      EXPECT_GT(r.change, 0.3) << i;
    }
  }
}

TEST(Health, ACameraKnockedSidewaysHasMoved) {
  HealthMonitor monitor;
  monitor.set_reference(room(1));
  EXPECT_FALSE(monitor.assess(room(2)).moved);
  const HealthReport r = monitor.assess(shifted(room(3), 0.10 * 1280, 0.04 * 720));
  EXPECT_TRUE(r.moved);
  EXPECT_NEAR(r.shift, std::hypot(0.10 * 1280, 0.04 * 720) / 1280, 0.01);
  EXPECT_EQ(r.flags(), Flags{"moved"});
}

TEST(Health, ACameraTurnedHasMoved) {
  HealthMonitor monitor;
  monitor.set_reference(room(1));
  const HealthReport r = monitor.assess(turned(room(2), 12));
  EXPECT_TRUE(r.moved) << view_of(r);
}

TEST(Health, PeopleFillingTheRoomIsNotAMove) {
  // The reference is the empty room before class; then 40 people sit down.
  HealthMonitor monitor;
  monitor.set_reference(room(1));
  cv::Mat full = room(2);
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> x(100, 1180), y(250, 650);
  for (int i = 0; i < 40; ++i) {
    const cv::Point c(x(rng), y(rng));
    cv::circle(full, c, 14, cv::Scalar(30, 40, 60), cv::FILLED);  // head
    cv::rectangle(full, c + cv::Point(-22, 14), c + cv::Point(22, 70), cv::Scalar(90, 60, 40),
                  cv::FILLED);  // body
  }
  const HealthReport r = monitor.assess(full);
  EXPECT_FALSE(r.moved) << view_of(r);
}

TEST(Health, ATurnOfAFewDegreesHasMoved) {
  HealthMonitor monitor;
  monitor.set_reference(room(1));
  const HealthReport r = monitor.assess(turned(room(2), 3));
  EXPECT_TRUE(r.moved);
  EXPECT_NEAR(r.rotation, -3.0, 0.5);  // image rows point down: a turn to the left is negative
}

TEST(Health, ARealClassroomFillingUpIsNotAMoveButItsShiftIs) {
  // The same lecture hall (1-401) empty before class and full: the view is unchanged. The
  // full one shifted by 5 % of the width is a knocked camera.
  ATT_REQUIRE_SHARED(empty, "data/classroom/PartA_00027.jpg");
  ATT_REQUIRE_SHARED(full_path, "data/classroom/PartA_00117.jpg");
  const cv::Mat reference = cv::imread(empty.string());
  cv::Mat full = cv::imread(full_path.string());
  cv::resize(full, full, reference.size());
  HealthMonitor monitor;
  monitor.set_reference(reference);
  const HealthReport same = monitor.assess(full);
  EXPECT_FALSE(same.moved) << view_of(same);
  const HealthReport knocked = monitor.assess(shifted(full, 0.05 * full.cols, 0));
  EXPECT_TRUE(knocked.moved);
  EXPECT_NEAR(knocked.shift, 0.05, 0.01);
}

TEST(Health, ASmallJitterIsNotAMove) {
  HealthMonitor monitor;
  monitor.set_reference(room(1));
  EXPECT_FALSE(monitor.assess(shifted(room(2), 6, 3)).moved);
}

TEST(Health, ThresholdsComeFromTheConfig) {
  HealthConfig strict;
  strict.dark_brightness = 200;  // even a lit room is "dark" to this config
  HealthMonitor monitor(strict);
  EXPECT_TRUE(monitor.assess(room()).dark);
}

TEST(Health, AnEmptyPictureIsNoReport) {
  HealthMonitor monitor;
  EXPECT_TRUE(monitor.assess(cv::Mat()).ok());
}

}  // namespace
}  // namespace att
