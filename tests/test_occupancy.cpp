// Occupancy counting: from noisy per-frame face detections to the number of occupied places
// that goes into the attendance record. Every scenario is synthetic and deterministic: time
// is injected (a frame every 5 s, the default 300 s window), and the detector's misses and
// the people's small movements come from fixed-seed generators.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <vector>

#include "counting/counting.h"
#include "counting/occupancy.h"
#include "counting/sampler.h"

namespace {

using att::Box;
using att::OccupancyConfig;
using att::OccupancyResult;
using att::OccupancyWindow;
using att::PerspectiveModel;
using att::SiteZones;
using att::Zone;

// ----------------------------------------------------------------------------------------
// Scenario helpers

const cv::Size kFrame{1280, 720};
constexpr std::int64_t kStepMs = 5'000;      // the capture node sends a frame every 5 s
constexpr std::int64_t kWindowMs = 300'000;  // OccupancyConfig's default window
constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kForever = std::numeric_limits<std::int64_t>::max();
constexpr float kHead = 24;           // head width in pixels
constexpr float kPersonScore = 0.9f;  // a confident detection (teaches the perspective model)
constexpr float kNoiseScore = 0.5f;   // a doubtful one (false positives, furniture)

// A square box of side `size` centred on `centre`.
Box head_at(cv::Point2f centre, float size = kHead, float score = kPersonScore) {
  return Box{centre.x - size / 2, centre.y - size / 2, size, size, score};
}

cv::Point2f centre_of(const Box& b) {
  return {b.x + b.w / 2, b.y + b.h / 2};
}

// A deterministic 1.5 px sway for person `who` in frame `frame`, for scenarios that want
// exact numbers: a person's head is never at exactly the same pixels twice running.
cv::Point2f sway(int frame, int who = 0) {
  return {(frame + who) % 2 == 0 ? 1.5f : -1.5f, (frame / 2 + who) % 2 == 0 ? 1.5f : -1.5f};
}

// `n` seats in rows of five, 110 px apart, in the right-hand part of the frame (the left fifth
// is the stage in the zone tests).
std::vector<cv::Point2f> seat_grid(int n) {
  std::vector<cv::Point2f> seats;
  for (int i = 0; i < n; ++i) {
    seats.emplace_back(400.0f + 110.0f * static_cast<float>(i % 5),
                       200.0f + 120.0f * static_cast<float>(i / 5));
  }
  return seats;
}

// Someone in a seat: present from `arrives_ms` until `leaves_ms`, and found by the detector
// in `seen_share` of the frames (heads bent over desks are missed).
struct Person {
  cv::Point2f seat;
  double seen_share = 0.5;
  std::int64_t arrives_ms = 0;
  std::int64_t leaves_ms = kForever;
};

std::vector<Person> seated(const std::vector<cv::Point2f>& seats, double seen_share = 0.5) {
  std::vector<Person> people;
  for (const auto& s : seats) people.push_back(Person{s, seen_share});
  return people;
}

// The detector's view of an audience: each present person is detected with their own
// probability per frame (independently, so different people are missed in different frames),
// at their seat moved by 1-2 px in each direction: real people are never perfectly still.
class Audience {
 public:
  explicit Audience(std::vector<Person> people, unsigned seed = 7)
      : people_(std::move(people)), rng_(seed) {}

  std::vector<Box> detections(std::int64_t t_ms) {
    std::vector<Box> boxes;
    for (const auto& p : people_) {
      // Draw every time, present or not, so the others' draws do not depend on who is there.
      const bool seen = std::bernoulli_distribution(p.seen_share)(rng_);
      const float dx = wobble();  // one draw per statement: the order is fixed
      const cv::Point2f jitter(dx, wobble());
      if (t_ms >= p.arrives_ms && t_ms < p.leaves_ms && seen) {
        boxes.push_back(head_at(p.seat + jitter));
      }
    }
    return boxes;
  }

 private:
  float wobble() {
    const float magnitude = std::uniform_real_distribution<float>(1.0f, 2.0f)(rng_);
    return std::bernoulli_distribution(0.5)(rng_) ? magnitude : -magnitude;
  }

  std::vector<Person> people_;
  std::mt19937 rng_;
};

// One frame's time and the window's answer for it.
struct Step {
  std::int64_t t_ms;
  OccupancyResult result;
};

// Feeds frames every 5 s from 0 to `duration_ms` (exclusive); `frame(t)` gives the detections.
template <typename FrameFn>
std::vector<Step> run(OccupancyWindow& window, std::int64_t duration_ms, FrameFn frame) {
  std::vector<Step> steps;
  for (std::int64_t t = 0; t < duration_ms; t += kStepMs) {
    steps.push_back(Step{t, window.add(t, kFrame, frame(t))});
  }
  return steps;
}

std::vector<int> window_counts(const std::vector<Step>& steps) {
  std::vector<int> counts;
  for (const auto& s : steps) counts.push_back(s.result.window_count);
  return counts;
}

// A rectangle in normalised coordinates as a zone.
Zone rect_zone(const char* name, float x0, float y0, float x1, float y1) {
  return Zone{name, {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}};
}

// The stage: the left fifth of the frame, where the lecturer walks.
Zone stage_zone() {
  return rect_zone("stage", 0.0f, 0.0f, 0.2f, 1.0f);
}

// The lecturer walking to and fro across the stage at 15 px a frame, pausing at each end.
Box lecturer_at(std::int64_t t_ms) {
  const int phase = static_cast<int>((t_ms / kStepMs) % 36);  // 14 steps each way, 4 paused
  const int along = phase < 14 ? phase : phase < 18 ? 14 : phase < 32 ? 32 - phase : 0;
  return head_at({30.0f + 15.0f * static_cast<float>(along), 260.0f}, 30.0f, 0.95f);
}

// ----------------------------------------------------------------------------------------
// SiteZones::counts

TEST(SiteZones, EmptyCountListMeansTheWholeFrame) {
  const SiteZones zones;
  EXPECT_TRUE(zones.counts(0, 0, 1280, 720));
  EXPECT_TRUE(zones.counts(640, 360, 1280, 720));
  EXPECT_TRUE(zones.counts(1279, 719, 1280, 720));
}

TEST(SiteZones, PointInsideAndOutsideTheAudiencePolygon) {
  SiteZones zones;
  zones.count.push_back(rect_zone("audience", 0.25f, 0.2f, 1.0f, 1.0f));
  EXPECT_TRUE(zones.counts(800, 400, 1280, 720));   // (0.625, 0.56): in the audience
  EXPECT_FALSE(zones.counts(100, 400, 1280, 720));  // (0.08, 0.56): left of it
  EXPECT_FALSE(zones.counts(800, 50, 1280, 720));   // (0.625, 0.07): above it
}

TEST(SiteZones, AnyOfSeveralAudiencePolygonsCounts) {
  SiteZones zones;
  zones.count.push_back(rect_zone("left block", 0.0f, 0.0f, 0.4f, 1.0f));
  zones.count.push_back(rect_zone("right block", 0.6f, 0.0f, 1.0f, 1.0f));
  EXPECT_TRUE(zones.counts(200, 360, 1280, 720));
  EXPECT_TRUE(zones.counts(1000, 360, 1280, 720));
  EXPECT_FALSE(zones.counts(640, 360, 1280, 720));  // the aisle between them
}

TEST(SiteZones, ExcludedPolygonWinsOverTheAudience) {
  SiteZones zones;
  zones.count.push_back(rect_zone("room", 0.0f, 0.0f, 1.0f, 1.0f));
  zones.exclude.push_back(Zone{"tv", {{0.7f, 0.1f}, {0.9f, 0.1f}, {0.8f, 0.3f}}});  // triangle
  EXPECT_FALSE(zones.counts(1024, 108, 1280, 720));  // (0.8, 0.15): on the TV
  EXPECT_TRUE(zones.counts(1024, 360, 1280, 720));   // (0.8, 0.5): below it
  EXPECT_TRUE(zones.counts(900, 200, 1280, 720));    // (0.70, 0.28): beside the triangle

  SiteZones stage_only;  // an exclude zone with no audience zone: everything else counts
  stage_only.exclude.push_back(stage_zone());
  EXPECT_FALSE(stage_only.counts(100, 360, 1280, 720));
  EXPECT_TRUE(stage_only.counts(600, 360, 1280, 720));
}

TEST(SiteZones, DegeneratePolygonsAreIgnored) {
  // A zone with fewer than three points encloses nothing: as an exclude zone it removes
  // nothing; beside a real audience zone it adds nothing.
  SiteZones zones;
  zones.count.push_back(rect_zone("audience", 0.5f, 0.0f, 1.0f, 1.0f));
  zones.count.push_back(Zone{"line", {{0.0f, 0.0f}, {1.0f, 1.0f}}});
  zones.exclude.push_back(Zone{"point", {{0.75f, 0.5f}}});
  zones.exclude.push_back(Zone{"segment", {{0.5f, 0.5f}, {1.0f, 0.5f}}});
  zones.exclude.push_back(Zone{"empty", {}});
  EXPECT_TRUE(zones.counts(960, 360, 1280, 720));   // exactly on the "point"
  EXPECT_TRUE(zones.counts(800, 360, 1280, 720));   // on the "segment"
  EXPECT_FALSE(zones.counts(360, 360, 1280, 720));  // on the "line", outside the audience
}

TEST(SiteZones, NormalisedZonesSurviveAResolutionChange) {
  SiteZones zones;
  zones.exclude.push_back(stage_zone());
  EXPECT_FALSE(zones.counts(100, 300, 1280, 720));
  EXPECT_FALSE(zones.counts(50, 150, 640, 360));  // the same spot on a 640x360 stream
  EXPECT_TRUE(zones.counts(300, 300, 1280, 720));
  EXPECT_TRUE(zones.counts(150, 150, 640, 360));
}

TEST(SiteZones, AnEmptyFrameCountsNothing) {
  const SiteZones zones;
  EXPECT_FALSE(zones.counts(0, 0, 0, 0));
  EXPECT_FALSE(zones.counts(10, 10, -1, 720));
}

// ----------------------------------------------------------------------------------------
// PerspectiveModel

// The head size the tests' camera sees: heads grow by 3 px per 100 rows towards the camera.
double true_size(double row) {
  return 10.0 + 0.03 * row;
}

// A confident detection at (x, row) of the right size for its row.
Box head_on_row(float x, float row, double scale = 1.0) {
  return head_at({x, row}, static_cast<float>(true_size(row) * scale), kPersonScore);
}

TEST(PerspectiveModel, NotReadyBeforeMinSamplesAndThenEverythingIsPlausible) {
  PerspectiveModel model(20);
  for (int i = 0; i < 19; ++i) model.add(head_on_row(640, 100.0f + 30.0f * static_cast<float>(i)));
  EXPECT_FALSE(model.ready());
  EXPECT_EQ(model.samples(), 19);
  // Without a model there is no ground to reject anything on.
  EXPECT_TRUE(model.plausible(head_on_row(640, 400, 10.0), 2.0));
  EXPECT_TRUE(model.plausible(head_on_row(640, 400, 0.1), 2.0));
  model.add(head_on_row(640, 700));
  EXPECT_TRUE(model.ready());
  EXPECT_EQ(model.samples(), 20);
}

TEST(PerspectiveModel, LearnsHeadSizeAsALineOfTheRow) {
  PerspectiveModel model(20);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> row(80, 700), column(0, 1280), noise(0.97f, 1.03f);
  for (int i = 0; i < 40; ++i) {
    const float x = column(rng), y = row(rng);
    model.add(head_on_row(x, y, noise(rng)));
  }
  ASSERT_TRUE(model.ready());
  for (double y : {100.0, 250.0, 400.0, 550.0, 700.0}) {
    EXPECT_NEAR(model.expected_size(y), true_size(y), 0.03 * true_size(y)) << "row " << y;
  }
}

TEST(PerspectiveModel, RejectsBoxesThreeTimesOffForTheirRow) {
  PerspectiveModel model(20);
  for (int i = 0; i < 30; ++i) model.add(head_on_row(640, 80.0f + 20.0f * static_cast<float>(i)));
  ASSERT_TRUE(model.ready());
  for (float row : {150.0f, 400.0f, 650.0f}) {
    EXPECT_TRUE(model.plausible(head_on_row(300, row), 2.0)) << "row " << row;
    EXPECT_TRUE(model.plausible(head_on_row(300, row, 1.8), 2.0)) << "row " << row;
    EXPECT_TRUE(model.plausible(head_on_row(300, row, 0.6), 2.0)) << "row " << row;
    EXPECT_FALSE(model.plausible(head_on_row(300, row, 3.0), 2.0)) << "row " << row;
    EXPECT_FALSE(model.plausible(head_on_row(300, row, 1.0 / 3.0), 2.0)) << "row " << row;
  }
  // A back-row-sized head in the front row is not a head (a fist, a bag).
  EXPECT_FALSE(model.plausible(head_at({640, 700}, 10.0f), 2.0));
}

TEST(PerspectiveModel, AFewWildSamplesDoNotBendTheLine) {
  // 4 of 34 confident detections are three times too big (someone leaning into the camera):
  // the refit drops them.
  PerspectiveModel model(20);
  for (int i = 0; i < 30; ++i) {
    model.add(head_on_row(640, 80.0f + 20.0f * static_cast<float>(i)));
    if (i % 8 == 3) model.add(head_on_row(200, 80.0f + 20.0f * static_cast<float>(i), 3.0));
  }
  ASSERT_TRUE(model.ready());
  EXPECT_EQ(model.samples(), 34);
  for (double y : {100.0, 400.0, 650.0}) {
    EXPECT_NEAR(model.expected_size(y), true_size(y), 0.03 * true_size(y)) << "row " << y;
  }
}

TEST(PerspectiveModel, OneRowOfHeadsGivesOneSize) {
  // Every confident head on the same row (one row of seats, camera at head height): the
  // model cannot see a slope, so it stays unready and drops nothing.
  PerspectiveModel model(20);
  for (int i = 0; i < 20; ++i) {
    model.add(head_at({100.0f + 50.0f * static_cast<float>(i), 357.3f},
                      22.0f + static_cast<float>(i % 5), kPersonScore));
  }
  EXPECT_FALSE(model.ready());
  EXPECT_TRUE(model.plausible(head_at({640, 100}, 8, 0.5f), 2.0));
  EXPECT_TRUE(model.plausible(head_at({640, 700}, 90, 0.5f), 2.0));
}

TEST(PerspectiveModel, KeepsOnlyTheNewestSamples) {
  // The camera was moved: the old geometry is forgotten once max_samples new ones are in.
  PerspectiveModel model(20, 100);
  for (int i = 0; i < 100; ++i) {
    model.add(head_on_row(640, 100.0f + 6.0f * static_cast<float>(i), 2.0));  // old framing
  }
  for (int i = 0; i < 100; ++i) model.add(head_on_row(640, 100.0f + 6.0f * static_cast<float>(i)));
  EXPECT_EQ(model.samples(), 100);
  EXPECT_NEAR(model.expected_size(400), true_size(400), 0.03 * true_size(400));
}

// Twenty confident heads from one row of seats: their rows differ only by the detector's
// pixel or two, and their sizes by its noise, so they say nothing about how head size
// changes with the row. A line fitted to them once predicted 2 px on row 250 and 61 px on
// row 700 and ruled ordinary heads out; now no model is made until the rows spread.
TEST(PerspectiveModel, HeadsFromOneRowOfSeatsDoNotMakeUpASlope) {
  int bad_fits = 0;
  for (unsigned seed = 1; seed <= 10; ++seed) {  // ten different draws of the same scene
    PerspectiveModel model(20);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> wobble(-1.5f, 1.5f), size(26, 30);
    for (int i = 0; i < 20; ++i) {
      const float x = 300.0f + 100.0f * static_cast<float>(i % 4) + wobble(rng);
      const float y = 600.0f + wobble(rng);
      model.add(head_at({x, y}, size(rng)));
    }
    EXPECT_FALSE(model.ready()) << "seed " << seed;
    bool ok = true;
    for (float row : {250.0f, 400.0f, 700.0f})
      ok = ok && model.plausible(head_on_row(640, row), 2.0);
    if (!ok) ++bad_fits;
  }
  EXPECT_EQ(bad_fits, 0) << "of 10 fits rule out an ordinary head on row 250, 400 or 700";
}

// ----------------------------------------------------------------------------------------
// OccupancyWindow: the attendance scenarios

// Ten people in a class, each missed by the detector in about half of the frames (different
// frames for each): the record must say 10 all session, although no single frame does.
TEST(OccupancyWindow, FlickeringDetectionsGiveASteadyCount) {
  std::vector<Person> people = seated(seat_grid(10));
  for (size_t i = 0; i < people.size(); ++i) {
    people[i].seen_share = 0.4 + 0.2 * static_cast<double>(i) / 9.0;  // 40 % .. 60 %
  }
  Audience audience(people);
  OccupancyWindow window;
  const auto steps =
      run(window, 30 * kMinuteMs, [&](std::int64_t t) { return audience.detections(t); });

  int min_frame = 99, max_frame = 0;
  for (const auto& s : steps) {
    if (s.t_ms < kWindowMs) continue;
    EXPECT_EQ(s.result.window_count, 10) << "at " << s.t_ms / 1000 << " s";
    EXPECT_EQ(s.result.frame_count, static_cast<int>(s.result.counted.size()));
    min_frame = std::min(min_frame, s.result.frame_count);
    max_frame = std::max(max_frame, s.result.frame_count);
  }
  // Single frames are far off and vary; that is why the window exists.
  EXPECT_LE(max_frame, 10);
  EXPECT_LT(min_frame, 5);
  EXPECT_GE(max_frame - min_frame, 4);
  EXPECT_EQ(window.count(), 10);
  EXPECT_EQ(window.places().size(), 10u);
  for (const auto& place : window.places()) {
    EXPECT_TRUE(place.occupied);
    EXPECT_FALSE(place.still);
    EXPECT_GE(place.fraction, OccupancyConfig{}.leave_fraction);
  }
}

// Someone arrives late: the count must go up within one window and by one only.
TEST(OccupancyWindow, LateArrivalIsCountedWithinOneWindow) {
  std::vector<Person> people = seated(seat_grid(9));
  const std::int64_t arrival = 10 * kMinuteMs;
  people.back().arrives_ms = arrival;
  Audience audience(people);
  OccupancyWindow window;
  const auto steps =
      run(window, 30 * kMinuteMs, [&](std::int64_t t) { return audience.detections(t); });

  std::int64_t counted_from = -1;
  for (const auto& s : steps) {
    EXPECT_LE(s.result.window_count, 9) << "at " << s.t_ms / 1000 << " s";
    if (s.t_ms >= kWindowMs && s.t_ms < arrival) {
      EXPECT_EQ(s.result.window_count, 8) << "at " << s.t_ms / 1000 << " s";
    }
    if (s.result.window_count == 9 && counted_from < 0) counted_from = s.t_ms;
    if (counted_from >= 0) {
      EXPECT_EQ(s.result.window_count, 9) << "at " << s.t_ms / 1000 << " s";
    }
  }
  ASSERT_GE(counted_from, arrival);
  RecordProperty("arrival_counted_after_s", static_cast<int>((counted_from - arrival) / 1000));
  EXPECT_LE(counted_from - arrival, kWindowMs) << "counted after " << counted_from - arrival;
}

// Someone leaves at the break: the count must go down within one window and stay down.
TEST(OccupancyWindow, DepartureIsCountedWithinOneWindow) {
  std::vector<Person> people = seated(seat_grid(9));
  const std::int64_t departure = 15 * kMinuteMs;
  people[4].leaves_ms = departure;
  Audience audience(people);
  OccupancyWindow window;
  const auto steps =
      run(window, 30 * kMinuteMs, [&](std::int64_t t) { return audience.detections(t); });

  std::int64_t dropped_at = -1;
  for (const auto& s : steps) {
    if (s.t_ms >= kWindowMs && s.t_ms < departure) {
      EXPECT_EQ(s.result.window_count, 9) << "at " << s.t_ms / 1000 << " s";
    }
    if (s.t_ms >= departure && s.result.window_count == 8 && dropped_at < 0) dropped_at = s.t_ms;
    if (dropped_at >= 0) {
      EXPECT_EQ(s.result.window_count, 8) << "at " << s.t_ms / 1000 << " s";
    }
  }
  ASSERT_GE(dropped_at, departure);
  RecordProperty("departure_counted_after_s", static_cast<int>((dropped_at - departure) / 1000));
  EXPECT_LE(dropped_at - departure, kWindowMs) << "dropped after " << dropped_at - departure;
  EXPECT_EQ(window.places().size(), 8u);  // the empty seat's place is forgotten entirely
}

// A single spurious detection (a reflection, a poster) in one frame is not an attendee.
TEST(OccupancyWindow, OneOffFalsePositiveNeverChangesTheCount) {
  const auto people = seated(seat_grid(10));
  Audience clean_audience(people), noisy_audience(people);  // same seed: the same draws
  OccupancyWindow clean, noisy;
  const std::int64_t glitch = 8 * kMinuteMs;
  const auto expected =
      run(clean, 20 * kMinuteMs, [&](std::int64_t t) { return clean_audience.detections(t); });
  const auto steps = run(noisy, 20 * kMinuteMs, [&](std::int64_t t) {
    auto boxes = noisy_audience.detections(t);
    if (t == glitch) boxes.push_back(head_at({900, 600}, kHead, kNoiseScore));
    return boxes;
  });

  ASSERT_EQ(steps.size(), expected.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    const int extra = steps[i].t_ms == glitch ? 1 : 0;  // it is in that frame's own count
    EXPECT_EQ(steps[i].result.frame_count, expected[i].result.frame_count + extra);
  }
  EXPECT_EQ(window_counts(steps), window_counts(expected));
  EXPECT_EQ(steps.back().result.window_count, 10);
}

// A noisy detector: a few false positives every frame, each at a place where nothing fired
// before. None of them may ever add to the count.
TEST(OccupancyWindow, RandomOneOffFalsePositivesNeverChangeTheCount) {
  const auto seats = seat_grid(10);
  const auto people = seated(seats);
  Audience clean_audience(people), noisy_audience(people);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> x(20, 1260), y(20, 700);
  // Two false positives a frame. Each lands well away from the seats and from every false
  // positive of the last window: farther than the distance within which detections join
  // (or merge into) one place, so none of them is ever seen twice at one place.
  constexpr size_t kPerFrame = 2;
  const double apart = 1.5 * OccupancyConfig{}.match_radius * kHead;
  std::vector<cv::Point2f> recent;
  const auto far_from = [](cv::Point2f p, const std::vector<cv::Point2f>& others, double d) {
    return std::ranges::none_of(others, [&](cv::Point2f o) { return cv::norm(p - o) < d; });
  };
  const auto false_positives = [&] {
    std::vector<Box> boxes;
    while (boxes.size() < kPerFrame) {
      const float px = x(rng);
      const cv::Point2f p(px, y(rng));
      if (!far_from(p, seats, 3 * kHead) || !far_from(p, recent, apart)) continue;
      recent.push_back(p);
      if (recent.size() > kPerFrame * kWindowMs / kStepMs) recent.erase(recent.begin());
      boxes.push_back(head_at(p, kHead, kNoiseScore));
    }
    return boxes;
  };

  OccupancyWindow clean, noisy;
  const auto expected =
      run(clean, 30 * kMinuteMs, [&](std::int64_t t) { return clean_audience.detections(t); });
  const auto steps = run(noisy, 30 * kMinuteMs, [&](std::int64_t t) {
    auto boxes = noisy_audience.detections(t);
    for (const auto& b : false_positives()) boxes.push_back(b);
    return boxes;
  });

  ASSERT_EQ(steps.size(), expected.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].result.frame_count,
              expected[i].result.frame_count + static_cast<int>(kPerFrame));
  }
  EXPECT_EQ(window_counts(steps), window_counts(expected));
  for (const auto& s : steps) {
    if (s.t_ms >= kWindowMs) {
      EXPECT_EQ(s.result.window_count, 10) << "at " << s.t_ms / 1000;
    }
  }
}

// The lecturer walks to and fro on the stage all lesson, seen in every frame. Marked as an
// excluded zone, the stage adds nothing to any count.
TEST(OccupancyWindow, LecturerOnAnExcludedStageIsNeverCounted) {
  const auto people = seated(seat_grid(8));
  Audience plain_audience(people), staged_audience(people);
  SiteZones zones;
  zones.exclude.push_back(stage_zone());
  OccupancyWindow plain, staged(OccupancyConfig{}, zones);
  const auto expected =
      run(plain, 30 * kMinuteMs, [&](std::int64_t t) { return plain_audience.detections(t); });
  const auto steps = run(staged, 30 * kMinuteMs, [&](std::int64_t t) {
    auto boxes = staged_audience.detections(t);
    boxes.push_back(lecturer_at(t));
    return boxes;
  });

  ASSERT_EQ(steps.size(), expected.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].result.frame_count, expected[i].result.frame_count);
    for (const auto& b : steps[i].result.counted) EXPECT_GT(centre_of(b).x, 0.2f * 1280);
  }
  EXPECT_EQ(window_counts(steps), window_counts(expected));
  EXPECT_EQ(steps.back().result.window_count, 8);
}

// The same walk with no excluded zone but an audience zone that leaves the stage out.
TEST(OccupancyWindow, LecturerOutsideTheAudienceZoneIsNeverCounted) {
  const auto people = seated(seat_grid(8));
  Audience plain_audience(people), zoned_audience(people);
  SiteZones zones;
  zones.count.push_back(rect_zone("audience", 0.25f, 0.0f, 1.0f, 1.0f));
  OccupancyWindow plain, zoned(OccupancyConfig{}, zones);
  const auto expected =
      run(plain, 30 * kMinuteMs, [&](std::int64_t t) { return plain_audience.detections(t); });
  const auto steps = run(zoned, 30 * kMinuteMs, [&](std::int64_t t) {
    auto boxes = zoned_audience.detections(t);
    boxes.push_back(lecturer_at(t));
    return boxes;
  });

  ASSERT_EQ(steps.size(), expected.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].result.frame_count, expected[i].result.frame_count);
  }
  EXPECT_EQ(window_counts(steps), window_counts(expected));
  EXPECT_EQ(steps.back().result.window_count, 8);
}

// Without any zone the same lecturer is (wrongly) an attendee: the zones above are what
// keep them out, not some accident of the walk.
TEST(OccupancyWindow, WithoutZonesTheLecturerWouldBeCounted) {
  Audience audience(seated(seat_grid(8)));
  OccupancyWindow window;
  const auto steps = run(window, 30 * kMinuteMs, [&](std::int64_t t) {
    auto boxes = audience.detections(t);
    boxes.push_back(lecturer_at(t));
    return boxes;
  });
  const auto counts = window_counts(steps);
  EXPECT_GT(std::ranges::max(counts), 8);
}

// A chair back that the detector takes for a face in every frame, at exactly the same pixels,
// with nothing in its picture changing: furniture, not counted once seen still_min_hits times;
// the real people (who move a little) still count.
TEST(OccupancyWindow, MotionlessUnchangingDetectionIsFurniture) {
  Audience audience(seated(seat_grid(6), 0.6));
  OccupancyWindow window;
  const cv::Mat grey(kFrame, CV_8UC1, cv::Scalar(128));  // nothing in the picture changes
  const cv::Point2f chair(1000, 560);
  const int still_min_hits = OccupancyConfig{}.still_min_hits;
  for (int i = 0; i < 120; ++i) {
    const std::int64_t t = i * kStepMs;
    auto boxes = audience.detections(t);
    boxes.push_back(head_at(chair, kHead, kNoiseScore));
    const auto r = window.add(t, kFrame, boxes, grey);
    EXPECT_EQ(r.frame_count, static_cast<int>(boxes.size()));  // each frame, it fires
    if (i + 1 >= still_min_hits) {  // the chair's still_min_hits-th sighting onwards
      EXPECT_EQ(r.window_count, 6) << "frame " << i;
    }
  }
  int still_places = 0;
  for (const auto& place : window.places()) {
    if (cv::norm(place.centre - chair) < 1.0) {
      ++still_places;
      EXPECT_TRUE(place.still);
      EXPECT_TRUE(place.occupied);  // seen often enough, but furniture
      EXPECT_EQ(place.hits, 60);
    } else {
      EXPECT_FALSE(place.still) << "place at " << place.centre;
    }
  }
  EXPECT_EQ(still_places, 1);
  EXPECT_EQ(window.places().size(), 7u);
  EXPECT_EQ(window.count(), 6);
}

// Without a grey frame, stillness is judged on the box alone.
TEST(OccupancyWindow, MotionlessDetectionIsFurnitureWithoutPixelsToo) {
  Audience audience(seated(seat_grid(6), 0.6));
  OccupancyWindow window;
  const cv::Point2f chair(1000, 560);
  const auto steps = run(window, 10 * kMinuteMs, [&](std::int64_t t) {
    auto boxes = audience.detections(t);
    boxes.push_back(head_at(chair, kHead, kNoiseScore));
    return boxes;
  });
  for (const auto& s : steps) {
    if (s.t_ms >= 6 * kStepMs) {
      EXPECT_EQ(s.result.window_count, 6) << "at " << s.t_ms / 1000;
    }
  }
}

// Someone who sits perfectly still (the box lands on the same pixels every time) but whose
// picture changes (they breathe, write, turn a page) is a person, not furniture.
TEST(OccupancyWindow, MotionlessPersonWhosePictureChangesIsCounted) {
  OccupancyWindow window;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> level(40, 220);
  const cv::Point2f sitter(800, 400), chair(1000, 560);
  cv::Mat grey(kFrame, CV_8UC1, cv::Scalar(128));
  for (int i = 0; i < 120; ++i) {
    const Box person = head_at(sitter);
    // Their face: a different picture in each frame; the chair's pixels never change.
    cv::rectangle(grey, cv::Rect(cv::Rect2f(person.x, person.y, person.w, person.h)),
                  cv::Scalar(level(rng)), cv::FILLED);
    cv::circle(grey, sitter, 5, cv::Scalar(level(rng)), cv::FILLED);
    const auto r =
        window.add(i * kStepMs, kFrame, {person, head_at(chair, kHead, kNoiseScore)}, grey);
    if (i >= 6) {
      EXPECT_EQ(r.window_count, 1) << "frame " << i;
    }
  }
  ASSERT_EQ(window.places().size(), 2u);
  for (const auto& place : window.places()) {
    EXPECT_EQ(place.still, cv::norm(place.centre - chair) < 1.0) << "place at " << place.centre;
  }
}

// The detector sometimes finds a face and sometimes the bigger head box around it, a few
// pixels higher, and sometimes both in one frame: still one person, one place.
TEST(OccupancyWindow, FaceAndHeadBoxesOfOnePersonCountOnce) {
  const auto seats = seat_grid(10);
  std::mt19937 rng(17);
  std::bernoulli_distribution seen(0.5);
  OccupancyWindow window;
  const auto steps = run(window, 30 * kMinuteMs, [&](std::int64_t t) {
    std::vector<Box> boxes;
    for (size_t i = 0; i < seats.size(); ++i) {
      const cv::Point2f at = seats[i] + sway(static_cast<int>(t / kStepMs), static_cast<int>(i));
      if (seen(rng)) boxes.push_back(head_at(at, kHead, kPersonScore));            // the face
      if (seen(rng)) boxes.push_back(head_at(at + cv::Point2f(0, -6), 34, 0.6f));  // the head
    }
    return boxes;
  });
  for (const auto& s : steps) {
    if (s.t_ms >= kWindowMs) {
      EXPECT_EQ(s.result.window_count, 10) << "at " << s.t_ms / 1000 << " s";
    }
  }
  EXPECT_EQ(window.places().size(), 10u);
}

// An empty-room reference taken before class: whatever fires there (a poster, coats on the
// hooks) is not counted when it fires again at the same spot and size; people elsewhere are.
TEST(OccupancyWindow, EmptyRoomReferenceSpotsAreNotCounted) {
  const std::vector<cv::Point2f> spots = {{300, 600}, {700, 620}, {1150, 500}};
  std::vector<Box> empty_room;
  for (const auto& s : spots) empty_room.push_back(head_at(s, kHead, kNoiseScore));

  OccupancyWindow window;
  window.set_empty_reference(empty_room);
  EXPECT_EQ(window.reference_spots(), 3u);

  // The spots fire again during class, a pixel or two off and a little bigger or smaller;
  // five people sit elsewhere.
  Audience audience(seated(seat_grid(5), 0.6));
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> shift(-2, 2), scale(0.85f, 1.15f);
  const auto steps = run(window, 20 * kMinuteMs, [&](std::int64_t t) {
    auto boxes = audience.detections(t);
    for (const auto& s : spots) {
      const float dx = shift(rng), dy = shift(rng);
      boxes.push_back(head_at(s + cv::Point2f(dx, dy), kHead * scale(rng), 0.6f));
    }
    return boxes;
  });
  for (const auto& s : steps) {
    for (const auto& b : s.result.counted) {
      for (const auto& spot : spots) EXPECT_GT(cv::norm(centre_of(b) - spot), 50.0);
    }
    if (s.t_ms >= kWindowMs) {
      EXPECT_EQ(s.result.window_count, 5) << "at " << s.t_ms / 1000;
    }
  }

  // A latecomer sits 60 px in front of a reference spot (moving a little, like anyone):
  // counted, and the spot itself still is not.
  for (int i = 0; i < 30; ++i) {  // seen in every frame for 150 s: half a window
    const std::int64_t t = 20 * kMinuteMs + i * kStepMs;
    const Box latecomer = head_at(spots[1] + cv::Point2f(0, 60) + sway(i));
    const auto r = window.add(t, kFrame, {latecomer, head_at(spots[1], kHead, 0.6f)});
    ASSERT_EQ(r.frame_count, 1) << "frame " << i;
    EXPECT_EQ(cv::norm(centre_of(r.counted[0]) - centre_of(latecomer)), 0.0);
  }
  EXPECT_EQ(window.count(), 6);
  EXPECT_TRUE(std::ranges::any_of(window.places(), [&](const att::Place& p) {
    return p.occupied && cv::norm(p.centre - (spots[1] + cv::Point2f(0, 60))) < 3;
  }));
}

// A reference spot only hides detections of a similar size: a head much bigger than what
// fired in the empty room (someone sitting right in front of the poster) is counted.
TEST(OccupancyWindow, EmptyRoomReferenceHidesOnlySimilarSizes) {
  const cv::Point2f poster(700, 400);
  OccupancyWindow window;
  window.set_empty_reference({head_at(poster, 16.0f, kNoiseScore)});
  EXPECT_EQ(window.add(0, kFrame, {head_at(poster, 17.0f, 0.6f)}).frame_count, 0);
  EXPECT_EQ(window.add(kStepMs, kFrame, {head_at(poster, 14.0f, 0.6f)}).frame_count, 0);
  EXPECT_EQ(window.add(2 * kStepMs, kFrame, {head_at(poster, 30.0f)}).frame_count, 1);
}

// Taking a new reference replaces the old one; an empty one switches the filter off.
TEST(OccupancyWindow, NewEmptyRoomReferenceReplacesTheOld) {
  const cv::Point2f a(300, 600), b(900, 600);
  OccupancyWindow window;
  window.set_empty_reference({head_at(a, kHead, kNoiseScore), head_at(b, kHead, kNoiseScore)});
  EXPECT_EQ(window.reference_spots(), 2u);
  EXPECT_EQ(window.add(0, kFrame, {head_at(a), head_at(b)}).frame_count, 0);
  window.set_empty_reference({head_at(a, kHead, kNoiseScore)});
  EXPECT_EQ(window.reference_spots(), 1u);
  const auto r = window.add(kStepMs, kFrame, {head_at(a), head_at(b)});
  ASSERT_EQ(r.frame_count, 1);
  EXPECT_EQ(centre_of(r.counted[0]), b);
  window.set_empty_reference({});
  EXPECT_EQ(window.reference_spots(), 0u);
  EXPECT_EQ(window.add(2 * kStepMs, kFrame, {head_at(a), head_at(b)}).frame_count, 2);
}

// The window learns the room's perspective from its own confident detections; once it has,
// a doubtful box three times too big (or small) for its row is not a head and is dropped.
TEST(OccupancyWindow, ImplausibleHeadSizesAreDroppedOnceThePerspectiveIsLearnt) {
  // Ten people on rows 150..600, each the right size for their row, seen in every frame.
  const auto audience = [](int frame) {
    std::vector<Box> boxes;
    for (int i = 0; i < 10; ++i) {
      const cv::Point2f seat(300.0f + 80.0f * static_cast<float>(i),
                             150.0f + 50.0f * static_cast<float>(i));
      const cv::Point2f at = seat + sway(frame, i);
      boxes.push_back(head_on_row(at.x, at.y));
    }
    return boxes;
  };
  // A doubtful detection (low score, so it teaches nothing) `scale` times a head's size.
  const auto doubtful = [](cv::Point2f at, double scale, int frame) {
    const cv::Point2f c = at + sway(frame);
    return head_at(c, static_cast<float>(scale * true_size(c.y)), kNoiseScore);
  };
  const cv::Point2f big_at(640, 400), small_at(400, 650), head_spot(1100, 500);

  OccupancyWindow window;
  ASSERT_EQ(OccupancyConfig{}.perspective_min_samples, 20);  // two frames of ten
  auto frame = audience(0);
  frame.push_back(doubtful(big_at, 3.0, 0));
  const auto first = window.add(0, kFrame, frame);
  EXPECT_FALSE(window.perspective().ready());
  EXPECT_EQ(first.frame_count, 11);  // nothing learnt yet: nothing can be ruled out

  for (int i = 1; i < 30; ++i) {
    frame = audience(i);
    frame.push_back(doubtful(big_at, 3.0, i));          // three times too big: not a head
    frame.push_back(doubtful(small_at, 1.0 / 3.0, i));  // three times too small: not a head
    frame.push_back(doubtful(head_spot, 1.0, i));       // doubtful score, right size: a head
    const auto r = window.add(i * kStepMs, kFrame, frame);
    ASSERT_TRUE(window.perspective().ready());
    EXPECT_EQ(r.frame_count, 11) << "frame " << i;  // the ten and the right-sized one
    for (const auto& b : r.counted) EXPECT_LT(b.w, 2 * true_size(centre_of(b).y));
  }
  EXPECT_NEAR(window.perspective().expected_size(400), true_size(400), 0.03 * true_size(400));
  EXPECT_EQ(window.count(), 11);
}

// Hysteresis at the edges, worked out by hand with these thresholds (whatever the defaults
// are): a place needs 2 sightings and a 25 % share of the window's frames to be counted, and
// once counted it stays so down to a 10 % share.
OccupancyConfig edge_config(double window_s) {
  OccupancyConfig config;
  config.window_s = window_s;
  config.min_hits = 2;
  config.enter_fraction = 0.25;
  config.leave_fraction = 0.10;
  return config;
}

// One person at one seat, seen in the frames `seen(i)` picks among frames `from` to `to`
// (exclusive), 5 s apart; returns the window's count after the last.
template <typename SeenFn>
int feed(OccupancyWindow& window, int from, int to, SeenFn seen) {
  const cv::Point2f seat(700, 400);
  int count = window.count();
  for (int i = from; i < to; ++i) {
    const auto boxes = seen(i) ? std::vector<Box>{head_at(seat + sway(i))} : std::vector<Box>{};
    count = window.add(i * kStepMs, kFrame, boxes).window_count;
  }
  return count;
}

// A 40 s window holds 8 frames; 2 of 8 is exactly the 25 % needed.
TEST(OccupancyWindow, HysteresisEntersAtExactlyTheEnterShare) {
  // Two sightings 35 s apart: both in one 8-frame window, 2/8 = 25 %: counted.
  OccupancyWindow window(edge_config(40));
  EXPECT_EQ(feed(window, 0, 27, [](int i) { return i == 20; }), 0);
  EXPECT_EQ(feed(window, 27, 28, [](int) { return true; }), 1);
  ASSERT_EQ(window.places().size(), 1u);
  EXPECT_EQ(window.places()[0].hits, 2);
  EXPECT_DOUBLE_EQ(window.places()[0].fraction, 0.25);

  // Two sightings 40 s apart: the first has just left the window: not counted.
  OccupancyWindow late(edge_config(40));
  EXPECT_EQ(feed(late, 0, 29, [](int i) { return i == 20 || i == 28; }), 0);

  // Two sightings 35 s apart in a 45 s window (9 frames): 2/9 = 22 % is not enough.
  OccupancyWindow wider(edge_config(45));
  EXPECT_EQ(feed(wider, 0, 28, [](int i) { return i == 20 || i == 27; }), 0);
}

// Counted on exactly 2 of 8 frames, then seen once every 8 frames: a 12.5 % share, under
// the 25 % needed to enter but over the 10 % needed to stay: counted throughout.
TEST(OccupancyWindow, HysteresisKeepsAPlaceBetweenTheLeaveAndEnterShares) {
  OccupancyWindow window(edge_config(40));
  ASSERT_EQ(feed(window, 0, 28, [](int i) { return i == 20 || i == 27; }), 1);
  for (int i = 28; i < 28 + 8 * 10; ++i) {
    EXPECT_EQ(feed(window, i, i + 1, [](int k) { return (k - 27) % 8 == 0; }), 1) << i;
    ASSERT_EQ(window.places().size(), 1u);
    EXPECT_GE(window.places()[0].fraction, 0.125);
    EXPECT_LT(window.places()[0].fraction, 0.25);
  }
  // The same 12.5 % from a place never counted before does not make it count.
  OccupancyWindow fresh(edge_config(80));  // 16 frames, so 2 sightings are 12.5 %
  EXPECT_EQ(feed(fresh, 0, 100, [](int i) { return i >= 20 && i % 8 == 0; }), 0);
}

// A 50 s window holds 10 frames: one sighting in it is exactly the 10 % leave share, which
// keeps the place; a whole window without a sighting loses it.
TEST(OccupancyWindow, HysteresisKeepsAPlaceAtExactlyTheLeaveShare) {
  OccupancyWindow window(edge_config(50));
  ASSERT_EQ(feed(window, 0, 20, [](int i) { return i % 2 == 0; }), 1);  // well seen
  for (int i = 20; i < 100; ++i) {
    const int count = feed(window, i, i + 1, [](int k) { return k % 10 == 8; });
    if (i >= 30) {
      ASSERT_EQ(window.places().size(), 1u) << "frame " << i;
      EXPECT_EQ(window.places()[0].hits, 1) << "frame " << i;
      EXPECT_DOUBLE_EQ(window.places()[0].fraction, 0.1) << "frame " << i;
      EXPECT_EQ(count, 1) << "frame " << i;
    }
  }
  // Not seen for a whole window: the place is gone.
  EXPECT_EQ(feed(window, 100, 110, [](int) { return false; }), 0);
  EXPECT_TRUE(window.places().empty());
}

// Over the default 5-minute window and thresholds: someone counted from the start stays
// counted while the detector finds them in only 1 frame in k (a share between the leave and
// the enter shares: k = 5 with 10 % and 30 %); someone first seen at that rate is never
// counted (they might be a reflection that fires now and then).
TEST(OccupancyWindow, HysteresisOverTheDefaultWindow) {
  const OccupancyConfig defaults;
  const int k =
      static_cast<int>(std::lround(2.0 / (defaults.leave_fraction + defaults.enter_fraction)));
  ASSERT_GE(k, 2);
  ASSERT_GT(1.0 / k, defaults.leave_fraction);
  ASSERT_LT(1.0 / k, defaults.enter_fraction);
  const auto seats = seat_grid(2);
  OccupancyWindow window;
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> jitter(-2, 2);
  const auto near = [&](cv::Point2f s) {
    const float dx = jitter(rng);
    return head_at(s + cv::Point2f(dx, jitter(rng)));
  };
  const std::int64_t slump = 10 * kMinuteMs;
  const auto steps = run(window, 40 * kMinuteMs, [&](std::int64_t t) {
    const int frame = static_cast<int>(t / kStepMs);
    std::vector<Box> boxes;
    if (t < slump ? frame % 2 == 0 : frame % k == 0) boxes.push_back(near(seats[0]));
    if (t >= slump && frame % k == k / 2) boxes.push_back(near(seats[1]));
    return boxes;
  });
  for (const auto& s : steps) {
    if (s.t_ms >= 2 * kStepMs) {
      EXPECT_EQ(s.result.window_count, 1) << "at " << s.t_ms / 1000;
    }
  }
  ASSERT_EQ(window.places().size(), 2u);
  for (const auto& place : window.places()) {
    EXPECT_GT(place.fraction, defaults.leave_fraction);
    EXPECT_LT(place.fraction, defaults.enter_fraction);
  }
}

// The same risk seen in the attendance record: four people in the front row are found with
// confidence, six in the back rows only with a doubtful score (far, small faces), and all ten
// are found in every frame at the right size for their row. A model learnt from the front
// row alone once dropped the back row in half the frames; the count must stay 10.
TEST(OccupancyWindow, BackRowsStillCountWhenOnlyTheFrontRowIsConfident) {
  for (unsigned seed = 1; seed <= 5; ++seed) {  // five different draws of the same class
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> front_size(26, 30);
    Audience front(seated({{400, 600}, {510, 600}, {620, 600}, {730, 600}}, 1.0), seed);
    OccupancyWindow window;
    const auto steps = run(window, 30 * kMinuteMs, [&](std::int64_t t) {
      std::vector<Box> boxes;
      for (const Box& b : front.detections(t)) {  // confident, 28 +- 2 px
        boxes.push_back(head_at(centre_of(b), front_size(rng), kPersonScore));
      }
      for (int i = 0; i < 6; ++i) {  // doubtful, the right size for row 250
        const cv::Point2f at = cv::Point2f(350.0f + 110.0f * static_cast<float>(i), 250.0f) +
                               sway(static_cast<int>(t / kStepMs), i);
        boxes.push_back(head_at(at, static_cast<float>(true_size(at.y)), 0.6f));
      }
      return boxes;
    });
    int frames_without_back_rows = 0, frames_under_10 = 0, lowest = 10;
    for (const auto& s : steps) {
      if (s.result.frame_count < 10) ++frames_without_back_rows;
      if (s.t_ms < kWindowMs) continue;
      lowest = std::min(lowest, s.result.window_count);
      if (s.result.window_count < 10) ++frames_under_10;
    }
    EXPECT_EQ(frames_without_back_rows, 0) << "seed " << seed << ": of " << steps.size();
    EXPECT_EQ(frames_under_10, 0) << "seed " << seed << ": of "
                                  << steps.size() - kWindowMs / kStepMs
                                  << " frames after the first window; lowest count " << lowest;
  }
}

// An audience list holding only a degenerate polygon (a zone typed with two points; the
// configuration refuses it, but code may build one) must not make the site report 0 all
// day: degenerate zones are ignored, so this list behaves like an empty one.
TEST(SiteZones, OnlyDegenerateAudienceZonesMeanTheWholeFrame) {
  SiteZones zones;
  zones.count.push_back(Zone{"typo", {{0.1f, 0.1f}, {0.9f, 0.9f}}});
  EXPECT_TRUE(zones.counts(640, 360, 1280, 720));
  EXPECT_TRUE(zones.counts(100, 600, 1280, 720));
}

// ----------------------------------------------------------------------------------------
// Counting: one window per site, as the ingest path feeds it

// `n` people in a row, each moved a pixel or two from frame to frame.
std::vector<Box> row_of(int n, int frame) {
  std::vector<Box> boxes;
  for (int i = 0; i < n; ++i) {
    boxes.push_back(
        head_at({200.0f + 100.0f * static_cast<float>(i) + static_cast<float>(frame % 3),
                 400.0f + static_cast<float>(frame % 2)}));
  }
  return boxes;
}

TEST(Counting, SitesHaveTheirOwnWindows) {
  att::Counting counting{OccupancyConfig{}};
  for (int f = 0; f < 10; ++f) {
    counting.add("td-01", f * 5000, kFrame, row_of(4, f), {});
    counting.add("mt-01", f * 5000, kFrame, row_of(1, f), {});
  }
  EXPECT_EQ(counting.add("td-01", 50'000, kFrame, row_of(4, 10), {}).window_count, 4);
  EXPECT_EQ(counting.add("mt-01", 50'000, kFrame, row_of(1, 10), {}).window_count, 1);
  EXPECT_EQ(counting.add("sh-01", 50'000, kFrame, {}, {}).window_count, 0);  // never seen
}

TEST(Counting, ALateFrameGetsTheCurrentCountAndDoesNotMoveTheWindow) {
  // A spool delivers a frame from before the newest one: six people in it (say the class
  // photo at the break). It is counted on its own, but the record for "now" must not change.
  att::Counting counting{OccupancyConfig{}};
  for (int f = 0; f < 10; ++f) counting.add("td-01", f * 5000, kFrame, row_of(3, f), {});
  const OccupancyResult late = counting.add("td-01", 12'000, kFrame, row_of(6, 99), {});
  EXPECT_EQ(late.frame_count, 6);
  EXPECT_EQ(late.window_count, 3);
  for (int f = 10; f < 14; ++f) {
    EXPECT_EQ(counting.add("td-01", f * 5000, kFrame, row_of(3, f), {}).window_count, 3);
  }
}

TEST(Counting, TheSameFrameTwiceIsNotTwoSightings) {
  // A frame whose store failed comes again with the same capture time: a one-off false
  // detection in it must not become "seen twice".
  att::Counting counting{OccupancyConfig{}};
  const std::vector<Box> chair = {head_at({640, 300})};
  EXPECT_EQ(counting.add("td-01", 1000, kFrame, chair, {}).window_count, 0);
  EXPECT_EQ(counting.add("td-01", 1000, kFrame, chair, {}).window_count, 0);
  EXPECT_EQ(counting.add("td-01", 6000, kFrame, {}, {}).window_count, 0);
}

TEST(Counting, ZonesAndEmptyRoomReferenceArePerSite) {
  SiteZones stage;  // td-01 never counts the left third
  stage.exclude.push_back(Zone{"stage", {{0, 0}, {0.33f, 0}, {0.33f, 1}, {0, 1}}});
  att::Counting counting{OccupancyConfig{}, {{"td-01", stage}}};
  counting.set_empty_reference("mt-01", {head_at({900, 400})});
  const std::vector<Box> left_and_right = {head_at({200, 400}), head_at({900, 400})};
  const auto td = counting.add("td-01", 1000, kFrame, left_and_right, {});
  const auto mt = counting.add("mt-01", 1000, kFrame, left_and_right, {});
  EXPECT_EQ(td.frame_count, 1);  // the stage is excluded
  EXPECT_EQ(mt.frame_count, 1);  // the chair back of the empty room is not counted
  EXPECT_EQ(td.counted[0].x, left_and_right[1].x);
  EXPECT_EQ(mt.counted[0].x, left_and_right[0].x);
}

}  // namespace

// ----------------------------------------------------------------------------------------
// Sampling: which frames of a stream are looked at (the node's camera and attendance-eval).

namespace {

// The frames of a stream at `fps` for `seconds`, in microseconds, as a decoder reports them
// (rounded to the microsecond, so a frame due at 1 s may come at 0.9999 s).
std::vector<std::int64_t> stream_times(double fps, double seconds) {
  std::vector<std::int64_t> t;
  for (int i = 0; i / fps < seconds; ++i) t.push_back(std::llround(i / fps * 1e6));
  return t;
}

std::vector<std::int64_t> sampled(const std::vector<std::int64_t>& times, std::int64_t step) {
  att::SampleClock clock;
  std::vector<std::int64_t> kept;
  for (std::int64_t t : times) {
    if (clock.keep(t, step)) kept.push_back(t);
  }
  return kept;
}

}  // namespace

TEST(SampleClock, KeepsOneFramePerSecondOfAnOddFrameRate) {
  // 29.37 fps for 12.7 s: frames at 0.9999 s and 1.0331 s straddle the first whole second.
  const auto kept = sampled(stream_times(29.37, 12.7), 1'000'000);
  ASSERT_EQ(kept.size(), 13u);  // 0 s, then the first frame at or after 1, 2, ... 12 s
  for (size_t i = 0; i < kept.size(); ++i) {
    const std::int64_t due = static_cast<std::int64_t>(i) * 1'000'000;
    EXPECT_GE(kept[i], due - att::SampleClock::kSlackUs) << i;
    EXPECT_LT(kept[i], due + 34'100) << i;  // within a frame of it
  }
}

TEST(SampleClock, KeepsToTheMultiplesAtEveryRate) {
  for (double fps : {5.0, 12.5, 25.0, 29.97, 30.0, 59.94}) {
    for (std::int64_t step : {200'000LL, 1'000'000LL, 5'000'000LL}) {
      const auto kept = sampled(stream_times(fps, 60), step);
      EXPECT_EQ(static_cast<std::int64_t>(kept.size()), (60'000'000 + step - 1) / step)
          << fps << " fps, every " << step << " us";
      for (size_t i = 1; i < kept.size(); ++i) {
        EXPECT_GE(kept[i] - kept[i - 1],
                  step - static_cast<std::int64_t>(1e6 / fps) - att::SampleClock::kSlackUs - 1);
      }
    }
  }
}

TEST(SampleClock, TakesAFrameAFewMillisecondsEarlyAsOnTime) {
  // A network camera's frames, re-timed by the receiver, come a little early or late: the
  // same frames are kept as from the file they were sent from.
  std::vector<std::int64_t> file = stream_times(20, 12), jittered = file;
  for (size_t i = 0; i < jittered.size(); ++i) jittered[i] += 777 + (i % 3 == 0 ? -2500 : 2500);
  const auto a = sampled(file, 1'000'000), b = sampled(jittered, 1'000'000);
  ASSERT_EQ(a.size(), 12u);
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(std::find(file.begin(), file.end(), a[i]) - file.begin(),
              std::find(jittered.begin(), jittered.end(), b[i]) - jittered.begin())
        << "sample " << i;
  }
}

TEST(SampleClock, StartsAgainAfterAGapAndNeverRepeatsAFrame) {
  att::SampleClock clock;
  const std::int64_t s = 1'000'000;
  EXPECT_TRUE(clock.keep(0, s));
  EXPECT_FALSE(clock.keep(s / 2, s));
  EXPECT_TRUE(clock.keep(s, s));
  // The stream stalls for 10 s: the next frame is kept once, not once per missed second.
  EXPECT_TRUE(clock.keep(12 * s + 300, s));
  EXPECT_FALSE(clock.keep(12 * s + s / 2, s));
  EXPECT_TRUE(clock.keep(13 * s + 300, s));
  // The same frame twice (a repeated timestamp) is not kept twice.
  EXPECT_FALSE(clock.keep(13 * s + 300, s));
}

TEST(SampleClock, AShorterIntervalTakesEffectAtOnceALongerOneFromTheNextFrame) {
  att::SampleClock clock;
  const std::int64_t s = 1'000'000;
  EXPECT_TRUE(clock.keep(0, 5 * s));      // next due at 5 s
  EXPECT_TRUE(clock.keep(s / 2, s / 4));  // live view: due in under a step, so kept now
  EXPECT_FALSE(clock.keep(s / 2 + s / 8, s / 4));
  EXPECT_TRUE(clock.keep(s, s / 4));
  EXPECT_FALSE(clock.keep(s + s / 8, 10 * s));  // longer: the frame due at 1.25 s is not due
  EXPECT_TRUE(clock.keep(s + s / 4, 10 * s));   // kept at 1.25 s, then due at 11.25 s
  EXPECT_FALSE(clock.keep(5 * s, 10 * s));
  EXPECT_TRUE(clock.keep(12 * s, 10 * s));
}

TEST(SampleClock, ResetKeepsTheNextFrame) {
  att::SampleClock clock;
  EXPECT_TRUE(clock.keep(0, 1'000'000));
  EXPECT_FALSE(clock.keep(40'000, 1'000'000));
  clock.reset();
  EXPECT_TRUE(clock.keep(40'000, 1'000'000));
}
