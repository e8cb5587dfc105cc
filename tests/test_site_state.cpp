// A site's state and its camera's problems as the service computes them for every screen
// (analysis/domain/site_state.h): each rule on its own, at its boundary.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analysis/domain/site_state.h"

namespace att {
namespace {

constexpr std::int64_t kNow = 1'783'830'000'000;
using Problems = std::vector<std::string>;

SiteFacts in_class() {
  SiteFacts f;
  f.expected = 10;
  f.in_class = true;
  return f;
}

SiteFacts::Frame frame(std::int64_t age_ms, int count, std::vector<std::string> flags = {}) {
  return {kNow - age_ms, kNow - age_ms + 500, count, std::move(flags)};
}

SiteFacts::Node node(std::int64_t age_ms, bool gives_nothing = false,
                     std::vector<std::string> flags = {}) {
  return {kNow - age_ms, gives_nothing, std::move(flags)};
}

TEST(SiteState, NamesAsTheApiSendsThem) {
  EXPECT_EQ(to_string(SiteState::kOk), "ok");
  EXPECT_EQ(to_string(SiteState::kShort), "short");
  EXPECT_EQ(to_string(SiteState::kOffline), "offline");
  EXPECT_EQ(to_string(SiteState::kCameraFault), "camera_fault");
  EXPECT_EQ(to_string(SiteState::kNoData), "no_data");
  EXPECT_EQ(to_string(SiteState::kNoClass), "no_class");
}

TEST(SiteState, ACurrentFrameInClassIsOkAtTheShareAndShortBelowIt) {
  SiteFacts f = in_class();
  f.frame = frame(1000, 8);
  auto a = assess_site(f, kNow, 0.8);
  EXPECT_EQ(a.state, SiteState::kOk);
  EXPECT_TRUE(a.frame_current);
  EXPECT_EQ(a.problems, Problems{"ok"});
  f.frame = frame(1000, 7);
  EXPECT_EQ(assess_site(f, kNow, 0.8).state, SiteState::kShort);
  EXPECT_EQ(assess_site(f, kNow, 0.7).state, SiteState::kOk) << "the configured share decides";
}

TEST(SiteState, AFrameIsCurrentForSixtySecondsThenTheSiteIsOfflineInClass) {
  SiteFacts f = in_class();
  f.frame = frame(kFrameCurrentMs, 9);
  EXPECT_EQ(assess_site(f, kNow, 0.8).state, SiteState::kOk);
  f.frame = frame(kFrameCurrentMs + 1, 9);
  f.frame->received_at_ms = kNow - kFrameCurrentMs - 1;
  const auto a = assess_site(f, kNow, 0.8);
  EXPECT_EQ(a.state, SiteState::kOffline);
  EXPECT_FALSE(a.frame_current);
  EXPECT_EQ(a.problems, Problems{"offline"});
}

TEST(SiteState, OutsideAClassASiteHasNoClassUnlessItsCameraIsAtFault) {
  SiteFacts f = in_class();
  f.in_class = false;
  f.frame = frame(1000, 2);
  EXPECT_EQ(assess_site(f, kNow, 0.8).state, SiteState::kNoClass);
  f.frame = frame(3'600'000, 2);  // an hour old: not offline, there is no class
  EXPECT_EQ(assess_site(f, kNow, 0.8).state, SiteState::kNoClass);
  f.frame = frame(1000, 2, {"dark"});
  EXPECT_EQ(assess_site(f, kNow, 0.8).state, SiteState::kCameraFault);
}

TEST(SiteState, AHealthFlagOrANodeWhoseCameraGivesNothingIsACameraFault) {
  SiteFacts f = in_class();
  f.frame = frame(1000, 9, {"covered"});
  auto a = assess_site(f, kNow, 0.8);
  EXPECT_EQ(a.state, SiteState::kCameraFault);
  EXPECT_EQ(a.problems, Problems{"covered"});

  f.frame = frame(120'000, 9);  // no current frame
  f.node = node(10'000, /*gives_nothing=*/true);
  a = assess_site(f, kNow, 0.8);
  EXPECT_EQ(a.state, SiteState::kCameraFault);
  EXPECT_EQ(a.problems, Problems{"no_frames"});

  f.node = node(kNodeCurrentMs + 1, /*gives_nothing=*/true);  // its report is not current
  EXPECT_EQ(assess_site(f, kNow, 0.8).state, SiteState::kOffline);
}

TEST(SiteState, NothingReceivedIsNoDataUntilTheRollBookOpensAnOfflineAlert) {
  SiteFacts f = in_class();
  auto a = assess_site(f, kNow, 0.8);
  EXPECT_EQ(a.state, SiteState::kNoData);
  EXPECT_EQ(a.problems, Problems{"never"});
  f.offline_alert_open = true;
  EXPECT_EQ(assess_site(f, kNow, 0.8).state, SiteState::kOffline);

  // A node that reports but has sent no frame yet.
  f.offline_alert_open = false;
  f.node = node(5000);
  a = assess_site(f, kNow, 0.8);
  EXPECT_EQ(a.state, SiteState::kNoData);
  EXPECT_EQ(a.problems, Problems{"no_frames"});
  f.offline_alert_open = true;
  EXPECT_EQ(assess_site(f, kNow, 0.8).state, SiteState::kOffline);
}

TEST(SiteState, ANodeRefusedSinceItsNewestObservationIsRefusedUntilOneIsAccepted) {
  SiteFacts f = in_class();
  f.refused_at_ms = kNow - 3000;  // heard of only through a refusal: not "never"
  EXPECT_EQ(assess_site(f, kNow, 0.8).problems, (Problems{"refused", "no_frames"}));
  f.node = node(2000);
  f.frame = frame(10'000, 9);
  f.frame->received_at_ms = kNow - 4000;  // accepted before the refusal
  EXPECT_EQ(assess_site(f, kNow, 0.8).problems, (Problems{"refused"}));
  f.frame->received_at_ms = kNow - 2000;  // and after it
  EXPECT_EQ(assess_site(f, kNow, 0.8).problems, (Problems{"ok"}));
  // A node silent since its last refusal is offline, as any silent node.
  f = in_class();
  f.refused_at_ms = kNow - 90'000;
  EXPECT_EQ(assess_site(f, kNow, 0.8).problems, (Problems{"offline"}));
}

TEST(SiteState, ProblemsComeWorstFirstEachOnceAndUnknownFlagsAreLeftOut) {
  SiteFacts f = in_class();
  f.frame = frame(1000, 9, {"moved", "sparkly", "dark", "moved"});
  EXPECT_EQ(assess_site(f, kNow, 0.8).problems, (Problems{"dark", "moved"}));
  // Without a current frame, the node's report's flags, after no_frames.
  f.frame = frame(90'000, 9);
  f.frame->received_at_ms = kNow - 90'000;
  f.node = node(2000, false, {"frozen", "blurred"});
  EXPECT_EQ(assess_site(f, kNow, 0.8).problems, (Problems{"no_frames", "blurred", "frozen"}));
}

}  // namespace
}  // namespace att
