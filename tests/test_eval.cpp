// Detector evaluation: ground-truth parsing, one-to-one matching, the summary figures
// (checked against values worked out by hand), and the attendance-eval executable's contract.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "counting/eval.h"
#include "counting/models.h"
#include "tests/support/test_support.h"

namespace {

namespace fs = std::filesystem;
using att::Box;
using att::EvalImage;
using att::TruthItem;
using att::testing::TempDir;
using att::testing::write_file;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Box box(float x, float y, float w, float h, float score = 1.0f) {
  return Box{x, y, w, h, score};
}
// A detection whose centre is (cx, cy).
Box centred(float cx, float cy, float score = 1.0f) {
  return Box{cx - 2, cy - 2, 4, 4, score};
}

// ----------------------------------------------------------------------------------------
// parse_truth, format_truth

constexpr char kTruthLineFormat[] =
    "expected 'x1 y1 x2 y2' with x2 > x1, y2 > y1 (a box) or 'x y' (a point)";

TEST(ParseTruth, GoodLinesAndBlankLines) {
  auto r = att::parse_truth("10 20 30 60\n\n   \n5.5 6\t7.5 9\r\n\t\n");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_FALSE((*r)[0].is_point());
  EXPECT_FLOAT_EQ((*r)[0].box.x, 10);
  EXPECT_FLOAT_EQ((*r)[0].box.y, 20);
  EXPECT_FLOAT_EQ((*r)[0].box.w, 20);
  EXPECT_FLOAT_EQ((*r)[0].box.h, 40);
  EXPECT_FLOAT_EQ((*r)[0].box.score, 1.0f);
  EXPECT_FLOAT_EQ((*r)[1].box.x, 5.5f);
  EXPECT_FLOAT_EQ((*r)[1].box.y, 6);
  EXPECT_FLOAT_EQ((*r)[1].box.w, 2);
  EXPECT_FLOAT_EQ((*r)[1].box.h, 3);
}

TEST(ParseTruth, BoxesAndPointsMixedInTheirOrder) {
  auto r = att::parse_truth("10 20 30 60\n412.5 96\r\n  7\t8  \n0 0 1 1\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_THAT(*r, ElementsAre(TruthItem::of_box(box(10, 20, 20, 40)), TruthItem::point(412.5f, 96),
                              TruthItem::point(7, 8), TruthItem::of_box(box(0, 0, 1, 1))));
  EXPECT_TRUE((*r)[1].is_point());
  EXPECT_EQ((*r)[1].box.w, 0);
  EXPECT_EQ((*r)[1].box.h, 0);
}

TEST(ParseTruth, EmptyTextIsNoBoxes) {
  auto r = att::parse_truth("");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->empty());
  auto blank = att::parse_truth("\n\n");
  ASSERT_TRUE(blank);
  EXPECT_TRUE(blank->empty());
}

TEST(ParseTruth, LastLineWithoutNewline) {
  auto r = att::parse_truth("0 0 1 1\n2 2 3 3");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->size(), 2u);
  auto point = att::parse_truth("0 0 1 1\n2 3");
  ASSERT_TRUE(point) << point.error().message;
  EXPECT_THAT(*point, ElementsAre(TruthItem::of_box(box(0, 0, 1, 1)), TruthItem::point(2, 3)));
}

TEST(ParseTruth, BadLineReportsItsNumber) {
  const std::string expected = kTruthLineFormat;
  auto word = att::parse_truth("1 2 3 4\n\nface at 10 20\n");
  ASSERT_FALSE(word);
  EXPECT_EQ(word.error().message, "line 3: " + expected);

  auto three = att::parse_truth("1 2 3\n");
  ASSERT_FALSE(three);
  EXPECT_EQ(three.error().message, "line 1: " + expected);

  auto five = att::parse_truth("1 2 3 4\n1 2 3 4 0.9\n");
  ASSERT_FALSE(five);
  EXPECT_EQ(five.error().message, "line 2: " + expected);

  auto commas = att::parse_truth("1,2,3,4\n");
  ASSERT_FALSE(commas);
  EXPECT_EQ(commas.error().message, "line 1: " + expected);
}

TEST(ParseTruth, BadPointLinesReportTheirNumber) {
  const std::string expected = kTruthLineFormat;
  auto one = att::parse_truth("5 5\n7\n");
  ASSERT_FALSE(one);
  EXPECT_EQ(one.error().message, "line 2: " + expected);
  auto comma = att::parse_truth("1 1 4 4\n\n5,5\n");
  ASSERT_FALSE(comma);
  EXPECT_EQ(comma.error().message, "line 3: " + expected);
  auto trailing_word = att::parse_truth("5 5 person\n");
  ASSERT_FALSE(trailing_word);
  EXPECT_EQ(trailing_word.error().message, "line 1: " + expected);
  auto glued = att::parse_truth("5 5x\n");
  ASSERT_FALSE(glued);
  EXPECT_EQ(glued.error().message, "line 1: " + expected);
}

TEST(ParseTruth, EmptyOrInvertedBoxesRejected) {
  const std::string expected = kTruthLineFormat;
  auto same_x = att::parse_truth("10 10 10 20\n");
  ASSERT_FALSE(same_x);
  EXPECT_EQ(same_x.error().message, "line 1: " + expected);
  auto inverted_x = att::parse_truth("0 0 5 5\n20 10 10 20\n");
  ASSERT_FALSE(inverted_x);
  EXPECT_EQ(inverted_x.error().message, "line 2: " + expected);
  auto same_y = att::parse_truth("10 10 20 10\n");
  ASSERT_FALSE(same_y);
  EXPECT_EQ(same_y.error().message, "line 1: " + expected);
  auto inverted_y = att::parse_truth("10 30 20 10\n");
  ASSERT_FALSE(inverted_y);
}

TEST(FormatTruth, WritesBoxCornersAndPointsThatReadBackTheSame) {
  const std::vector<TruthItem> items = {
      TruthItem::of_box(box(10, 20, 20, 40)), TruthItem::point(412.5f, 96),
      TruthItem::of_box(box(0.25f, 1.5f, 30.5f, 31)), TruthItem::point(0, 7.125f)};
  const std::string text = att::format_truth(items);
  EXPECT_EQ(text, "10 20 30 60\n412.5 96\n0.25 1.5 30.75 32.5\n0 7.125\n");
  auto back = att::parse_truth(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, items);
  EXPECT_EQ(att::format_truth({}), "");
}

TEST(FormatTruth, AnyFloatReadsBackAsTheSameFloat) {
  const std::vector<TruthItem> items = {TruthItem::point(0.1f, 1234.567f),
                                        TruthItem::point(1.0f / 3, 16383.99f)};
  auto back = att::parse_truth(att::format_truth(items));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, items);
}

// ----------------------------------------------------------------------------------------
// count_matches

TEST(CountMatches, CentreInsideRule) {
  const std::vector<Box> truth = {box(0, 0, 10, 10)};
  EXPECT_EQ(att::count_matches(truth, {centred(4, 4)}), 1);
  // Overlapping the truth box a lot but with its centre outside: no match.
  EXPECT_EQ(att::count_matches(truth, {box(6, 6, 10, 10)}), 0);  // centre (11, 11)
  EXPECT_EQ(att::count_matches(truth, {centred(10.5f, 5)}), 0);
  // A much larger detection whose centre falls inside still matches.
  EXPECT_EQ(att::count_matches(truth, {box(-20, -20, 50, 50)}), 1);  // centre (5, 5)
  // The edge counts as inside.
  EXPECT_EQ(att::count_matches(truth, {centred(10, 10)}), 1);
  EXPECT_EQ(att::count_matches(truth, {centred(0, 0)}), 1);
}

TEST(CountMatches, EmptySides) {
  EXPECT_EQ(att::count_matches(std::vector<Box>{}, {centred(1, 1)}), 0);
  EXPECT_EQ(att::count_matches({box(0, 0, 10, 10)}, {}), 0);
  EXPECT_EQ(att::count_matches(std::vector<TruthItem>{}, {}), 0);
}

TEST(CountMatches, OneToOne) {
  const std::vector<Box> truth = {box(0, 0, 10, 10)};
  EXPECT_EQ(att::count_matches(truth, {centred(4, 4, 0.9f), centred(6, 6, 0.8f)}), 1);
  const std::vector<Box> two = {box(0, 0, 10, 10), box(100, 0, 10, 10)};
  EXPECT_EQ(att::count_matches(two, {centred(4, 4), centred(6, 6), centred(105, 5)}), 2);
}

TEST(CountMatches, BestScoreFirstDecidesAContestedTruthBox) {
  // T1 spans x 0..10, T2 spans x 8..18. H (high score) has its centre at x 8.5: inside both,
  // nearer T1's centre. L (low score) fits only T1.
  const std::vector<Box> truth = {box(0, 0, 10, 10), box(8, 0, 10, 10)};
  const Box high = centred(8.5f, 5, 0.9f);
  const Box low = centred(2, 5, 0.3f);
  // H goes first whatever the list order, takes T1, and L is left without a box.
  EXPECT_EQ(att::count_matches(truth, {low, high}), 1);
  EXPECT_EQ(att::count_matches(truth, {high, low}), 1);
  // With the scores swapped L goes first, takes T1, and H falls back to T2.
  const Box low_now_best = centred(2, 5, 0.95f);
  EXPECT_EQ(att::count_matches(truth, {high, low_now_best}), 2);
}

TEST(CountMatches, NearestCentreAmongSeveralTruthBoxes) {
  // P1 (first by score) has its centre in both boxes, nearer T2's; P2 fits only T1.
  // Taking the nearest leaves T1 free for P2; taking the first found would not.
  const std::vector<Box> truth = {box(0, 0, 10, 10), box(8, 0, 10, 10)};
  EXPECT_EQ(att::count_matches(truth, {centred(9.5f, 5, 0.9f), centred(3, 5, 0.5f)}), 2);
}

TEST(CountMatches, APointMatchesTheDetectionItLiesIn) {
  const std::vector<TruthItem> truth = {TruthItem::point(50, 40)};
  EXPECT_EQ(att::count_matches(truth, {box(40, 30, 20, 20)}), 1);
  // The edge counts as inside.
  EXPECT_EQ(att::count_matches(truth, {box(50, 40, 5, 5)}), 1);
  EXPECT_EQ(att::count_matches(truth, {box(30, 20, 20, 20)}), 1);
  // Near but outside: no match, however close its centre.
  EXPECT_EQ(att::count_matches(truth, {box(50.5f, 30, 20, 20)}), 0);
  EXPECT_EQ(att::count_matches(truth, {box(40, 40.5f, 20, 20)}), 0);
}

TEST(CountMatches, PointsOneToOne) {
  // Two people marked inside one big detection: it takes one of them.
  const std::vector<TruthItem> two = {TruthItem::point(10, 10), TruthItem::point(20, 20)};
  EXPECT_EQ(att::count_matches(two, {box(0, 0, 40, 40)}), 1);
  // Two detections over one point: one match.
  const std::vector<TruthItem> one = {TruthItem::point(10, 10)};
  EXPECT_EQ(att::count_matches(one, {centred(10, 10, 0.9f), centred(11, 11, 0.8f)}), 1);
  EXPECT_EQ(att::count_matches(two, {centred(10, 10, 0.9f), centred(20, 20, 0.8f)}), 2);
}

TEST(CountMatches, BoxesAndPointsTogether) {
  // A kept box of the counter and a person it missed, marked as a point beside it.
  const std::vector<TruthItem> truth = {TruthItem::of_box(box(0, 0, 10, 10)),
                                        TruthItem::point(30, 5)};
  EXPECT_EQ(att::count_matches(truth, {centred(5, 5), centred(30, 5)}), 2);
  // A detection whose box holds the point and whose centre is in the truth box takes the
  // nearer: the box (its centre (7.5, 5) is 2.5 from the box's, 22.5 from the point) here,
  // leaving the point for the second detection.
  EXPECT_EQ(att::count_matches(truth, {box(-20, -5, 55, 20, 0.9f), centred(31, 6, 0.5f)}), 2);
  // Only detections far from both: none.
  EXPECT_EQ(att::count_matches(truth, {centred(500, 500)}), 0);
}

TEST(CountMatches, APointNearerThanTheBoxCentreIsTakenFirst) {
  // D1's centre (10, 5) is on the truth box's edge and 2 from the point, 5 from the box's
  // centre: it takes the point, and D2 (on the box) still finds the box.
  const std::vector<TruthItem> truth = {TruthItem::of_box(box(0, 0, 10, 10)),
                                        TruthItem::point(12, 5)};
  EXPECT_EQ(att::count_matches(truth, {box(0, 0, 20, 10, 0.9f), centred(5, 5, 0.5f)}), 2);
  // Had D1 taken the box, D2 could not have taken the point (outside its box).
  EXPECT_EQ(att::count_matches(truth, {box(0, 0, 20, 10, 0.9f)}), 1);
}

TEST(CountMatches, BestScoreFirstDecidesAContestedPoint) {
  // P is inside both detections; B (better score) goes first whatever the list order.
  const std::vector<TruthItem> truth = {TruthItem::point(10, 10)};
  const Box better = box(0, 0, 40, 40, 0.9f);  // centre (20, 20), farther from P
  const Box worse = centred(10, 10, 0.4f);
  EXPECT_EQ(att::count_matches(truth, {worse, better}), 1);
  // B takes P, and a box truth that only the worse one could take is still found by it.
  const std::vector<TruthItem> with_box = {TruthItem::point(10, 10),
                                           TruthItem::of_box(box(5, 5, 10, 10))};
  // better: holds P (distance ~14.1) and its centre (20, 20) is outside the box: takes P.
  // worse: centre (10, 10) is inside the box: takes it.
  EXPECT_EQ(att::count_matches(with_box, {worse, better}), 2);
}

TEST(CountMatches, ANearestPointLeavesAFartherOneForTheNextDetection) {
  // D1 (best score) holds both points, the second nearer its centre; D2 holds only the first.
  const std::vector<TruthItem> truth = {TruthItem::point(2, 5), TruthItem::point(9, 5)};
  const Box d1 = box(0, 0, 20, 10, 0.9f);  // centre (10, 5)
  const Box d2 = box(0, 0, 5, 10, 0.5f);   // holds (2, 5) only
  EXPECT_EQ(att::count_matches(truth, {d2, d1}), 2);
}

TEST(CountMatches, BoxOnlyTruthCountsAsBefore) {
  const std::vector<Box> boxes = {box(0, 0, 10, 10), box(100, 0, 10, 10)};
  std::vector<TruthItem> items;
  for (const Box& b : boxes) items.push_back(TruthItem::of_box(b));
  const std::vector<Box> predicted = {centred(4, 4), centred(6, 6), centred(105, 5),
                                      centred(300, 5)};
  EXPECT_EQ(att::count_matches(boxes, predicted), 2);
  EXPECT_EQ(att::count_matches(items, predicted), 2);
}

// ----------------------------------------------------------------------------------------
// summarize

// `n` truth boxes in a row, 10x10 each, 20 px apart.
std::vector<TruthItem> row(int n) {
  std::vector<TruthItem> out;
  for (int i = 0; i < n; ++i) out.push_back(TruthItem::of_box(box(float(i * 20), 0, 10, 10)));
  return out;
}
// `hits` detections on the row's first boxes and `misses` far away from everything.
std::vector<Box> predictions(int hits, int misses) {
  std::vector<Box> out;
  for (int i = 0; i < hits; ++i) out.push_back(centred(float(i * 20 + 5), 5, 0.8f));
  for (int i = 0; i < misses; ++i) out.push_back(centred(5000.f + float(i * 20), 5000, 0.7f));
  return out;
}

// The hand-made set, each image's truth t, predictions p, matches m and time:
//   a: t 4,  p 3 (3 hits),           10 ms   |p-t| 1  rel 1/4
//   b: t 0,  p 2 (false positives),  30 ms   |p-t| 2  rel 2/max(0,1) = 2
//   c: t 10, p 10 (9 hits, 1 miss),  20 ms   |p-t| 0  rel 0
//   d: t 5,  p 7 (5 hits, 2 misses), 40 ms   |p-t| 2  rel 2/5
std::vector<EvalImage> hand_made_set() {
  return {
      {"a", row(4), predictions(3, 0), 10},
      {"b", row(0), predictions(0, 2), 30},
      {"c", row(10), predictions(9, 1), 20},
      {"d", row(5), predictions(5, 2), 40},
  };
}

TEST(Summarize, HandMadeSet) {
  const auto s = att::summarize(hand_made_set());
  EXPECT_EQ(s.images, 4);
  EXPECT_EQ(s.truth_total, 19);                                              // 4 + 0 + 10 + 5
  EXPECT_EQ(s.pred_total, 22);                                               // 3 + 2 + 10 + 7
  EXPECT_NEAR(s.mae, (1 + 2 + 0 + 2) / 4.0, 1e-12);                          // 1.25
  EXPECT_NEAR(s.count_accuracy, 1 - (0.25 + 2.0 + 0.0 + 0.4) / 4.0, 1e-12);  // 0.3375
  // |p-t| <= 10% of t: only c (0 <= 1). a: 1 > 0.4; b: 2 > 0; d: 2 > 0.5.
  EXPECT_NEAR(s.within_10pct, 0.25, 1e-12);
  EXPECT_NEAR(s.precision, 17.0 / 22.0, 1e-12);  // matches 3 + 0 + 9 + 5 = 17
  EXPECT_NEAR(s.recall, 17.0 / 19.0, 1e-12);
  EXPECT_NEAR(s.ms_median, 25.0, 1e-12);  // even count: (20 + 30) / 2
}

TEST(Summarize, PointsCountAsPeopleAndAsMatches) {
  // t 3 (a box and two points), p 3: two on a person, one on nobody.
  const std::vector<TruthItem> truth = {TruthItem::of_box(box(0, 0, 10, 10)),
                                        TruthItem::point(50, 50), TruthItem::point(90, 90)};
  const auto s = att::summarize(
      {{"mixed", truth, {centred(5, 5), box(40, 40, 20, 20), centred(500, 500)}, 1}});
  EXPECT_EQ(s.truth_total, 3);
  EXPECT_EQ(s.pred_total, 3);
  EXPECT_NEAR(s.mae, 0, 1e-12);
  EXPECT_NEAR(s.count_accuracy, 1.0, 1e-12);
  EXPECT_NEAR(s.precision, 2.0 / 3, 1e-12);
  EXPECT_NEAR(s.recall, 2.0 / 3, 1e-12);
}

TEST(Summarize, ByRoomSize) {
  // Truth 4, 0, 10 and 5: three nearly empty rooms and one of 6-20; none larger.
  const auto bands = att::summarize_by_room_size(hand_made_set());
  ASSERT_EQ(bands.size(), 4u);
  EXPECT_EQ(bands[0].label, "0-5");
  EXPECT_EQ(bands[0].summary.images, 3);
  EXPECT_EQ(bands[0].summary.truth_total, 9);
  EXPECT_NEAR(bands[0].summary.mae, (1 + 2 + 2) / 3.0, 1e-12);
  EXPECT_EQ(bands[1].label, "6-20");
  EXPECT_EQ(bands[1].summary.images, 1);
  EXPECT_NEAR(bands[1].summary.count_accuracy, 1.0, 1e-12);
  EXPECT_EQ(bands[2].label, "21-60");
  EXPECT_EQ(bands[3].label, "61+");
  EXPECT_EQ(bands[2].summary.images + bands[3].summary.images, 0);
}

TEST(Summarize, OddCountMedian) {
  auto set = hand_made_set();
  set.pop_back();  // times 10, 30, 20
  const auto s = att::summarize(set);
  EXPECT_EQ(s.images, 3);
  EXPECT_NEAR(s.ms_median, 20.0, 1e-12);
  EXPECT_EQ(s.truth_total, 14);
  EXPECT_EQ(s.pred_total, 15);
  EXPECT_NEAR(s.mae, 1.0, 1e-12);
  EXPECT_NEAR(s.count_accuracy, 1 - 2.25 / 3.0, 1e-12);
  EXPECT_NEAR(s.precision, 12.0 / 15.0, 1e-12);
  EXPECT_NEAR(s.recall, 12.0 / 14.0, 1e-12);
}

TEST(Summarize, SingleImageAndExactlyTenPercent) {
  // t 10, p 11: |p-t| = 1 is exactly 10% and counts as within.
  const auto s = att::summarize({{"x", row(10), predictions(10, 1), 7.5}});
  EXPECT_NEAR(s.within_10pct, 1.0, 1e-12);
  EXPECT_NEAR(s.count_accuracy, 0.9, 1e-12);
  EXPECT_NEAR(s.mae, 1.0, 1e-12);
  EXPECT_NEAR(s.precision, 10.0 / 11.0, 1e-12);
  EXPECT_NEAR(s.recall, 1.0, 1e-12);
  EXPECT_NEAR(s.ms_median, 7.5, 1e-12);
}

TEST(Summarize, EmptyRoomCountedRight) {
  // No one there and nothing detected: a perfect image; precision and recall have no
  // denominator and are 0.
  const auto s = att::summarize({{"empty", {}, {}, 3}});
  EXPECT_EQ(s.truth_total, 0);
  EXPECT_EQ(s.pred_total, 0);
  EXPECT_NEAR(s.mae, 0, 1e-12);
  EXPECT_NEAR(s.count_accuracy, 1.0, 1e-12);
  EXPECT_NEAR(s.within_10pct, 1.0, 1e-12);
  EXPECT_EQ(s.precision, 0.0);
  EXPECT_EQ(s.recall, 0.0);
}

TEST(Summarize, FalsePositivesOnAnEmptyRoomCanMakeAccuracyNegative) {
  // 3 detections, nobody there: relative error 3 / max(0, 1) = 3, accuracy 1 - 3 = -2.
  const auto s = att::summarize({{"ghosts", {}, predictions(0, 3), 1}});
  EXPECT_NEAR(s.count_accuracy, -2.0, 1e-12);
  EXPECT_NEAR(s.within_10pct, 0.0, 1e-12);
  EXPECT_EQ(s.precision, 0.0);
}

TEST(Summarize, NoImages) {
  const auto s = att::summarize({});
  EXPECT_EQ(s.images, 0);
  EXPECT_EQ(s.truth_total, 0);
  EXPECT_EQ(s.pred_total, 0);
  EXPECT_EQ(s.mae, 0.0);
  EXPECT_EQ(s.ms_median, 0.0);
}

// ----------------------------------------------------------------------------------------
// eval_image_names

TEST(EvalImageNames, OnlyJpgWithTxtSorted) {
  TempDir dir;
  for (const char* name :
       {"c.jpg", "c.txt", "a.jpg", "a.txt", "b10.jpg", "b10.txt", "b2.jpg", "b2.txt", "lonely.jpg",
        "orphan.txt", "pic.png", "pic.txt", "x.jpg.txt", "notes.md"}) {
    write_file(dir / name, "");
  }
  fs::create_directory(dir / "sub.jpg");
  write_file(dir / "sub" / "d.jpg", "");
  write_file(dir / "sub" / "d.txt", "");
  EXPECT_THAT(att::eval_image_names(dir.path()), ElementsAre("a", "b10", "b2", "c"));
}

TEST(EvalImageNames, MissingOrEmptyDirectory) {
  TempDir dir;
  EXPECT_TRUE(att::eval_image_names(dir.path()).empty());
  EXPECT_TRUE(att::eval_image_names(dir / "absent").empty());
}

// ----------------------------------------------------------------------------------------
// The attendance-eval executable

fs::path eval_binary() {
#ifdef ATTENDANCE_EVAL_BIN
  return ATTENDANCE_EVAL_BIN;
#else
  return fs::path(ATTENDANCE_SOURCE_DIR) / "build" / "bin" / "attendance-eval";
#endif
}

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout, and stderr when asked for
};

RunResult run(const std::string& command) {
  RunResult r;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string quoted(const fs::path& p) {
  return "'" + p.string() + "'";
}

#define ATT_REQUIRE_EVAL_BIN(var)     \
  const fs::path var = eval_binary(); \
  if (!fs::exists(var)) GTEST_SKIP() << "skipped: " << var << " not built"

TEST(AttendanceEvalBinary, JsonSummaryOnAGeneratedSet) {
  ATT_REQUIRE_EVAL_BIN(bin);
  TempDir dir;
  for (int i = 1; i <= 3; ++i) {
    const std::string name = "frame" + std::to_string(i);
    write_file(dir / (name + ".jpg"), att::testing::synthetic_jpeg(320 + 16 * i, 240));
    write_file(dir / (name + ".txt"), "");  // nobody in the picture
  }
  write_file(dir / "extra.jpg", att::testing::synthetic_jpeg(64, 48));  // no .txt: ignored

  const RunResult r =
      run(quoted(bin) + " --images " + quoted(dir.path()) + " --detector haar --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string last;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) last = line;
  }
  const auto j = nlohmann::json::parse(last, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(j.is_object()) << "last line is not a JSON object: " << last;
  for (const char* key : {"images", "truth_total", "pred_total", "mae", "count_accuracy",
                          "within_10pct", "precision", "recall", "ms_median", "detector"}) {
    EXPECT_TRUE(j.contains(key)) << "missing key " << key << " in " << last;
  }
  EXPECT_EQ(j.value("images", -1), 3);
  EXPECT_EQ(j.value("truth_total", -1), 0);
  EXPECT_EQ(j.value("detector", ""), "haar");
  EXPECT_EQ(j.value("recall", -1.0), 0.0);  // no truth boxes
  EXPECT_GE(j.value("pred_total", -1), 0);
  EXPECT_GE(j.value("ms_median", -1.0), 0.0);
  // With an empty truth everywhere, MAE is the mean number of detections.
  EXPECT_NEAR(j.value("mae", -1.0), j.value("pred_total", 0) / 3.0, 1e-9);
}

TEST(AttendanceEvalBinary, MissingDirectoryExitsNonZero) {
  ATT_REQUIRE_EVAL_BIN(bin);
  TempDir dir;
  const RunResult r =
      run(quoted(bin) + " --images " + quoted(dir / "absent") + " --detector haar --json 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("attendance-eval: no NAME.jpg with NAME.txt in"));
}

TEST(AttendanceEvalBinary, DirectoryWithoutPairsExitsNonZero) {
  ATT_REQUIRE_EVAL_BIN(bin);
  TempDir dir;
  write_file(dir / "a.jpg", att::testing::synthetic_jpeg(64, 48));
  write_file(dir / "b.txt", "");
  const RunResult r =
      run(quoted(bin) + " --images " + quoted(dir.path()) + " --detector haar 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("no NAME.jpg with NAME.txt in " + dir.path().string()));
}

TEST(AttendanceEvalBinary, BadTruthFileNamesFileAndLine) {
  ATT_REQUIRE_EVAL_BIN(bin);
  TempDir dir;
  write_file(dir / "a.jpg", att::testing::synthetic_jpeg(64, 48));
  write_file(dir / "a.txt", "1 2 3 4\n9 9 1 1\n");
  const RunResult r =
      run(quoted(bin) + " --images " + quoted(dir.path()) + " --detector haar 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr((dir / "a").string() + ".txt: line 2: " + kTruthLineFormat));
}

TEST(AttendanceEvalBinary, UnknownDetectorIsAUsageError) {
  ATT_REQUIRE_EVAL_BIN(bin);
  TempDir dir;
  const RunResult r = run(quoted(bin) + " --images " + quoted(dir.path()) + " --detector ssd 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("--detector"));
}

// The last non-empty line of the output, parsed as JSON (a null value if it is not).
nlohmann::json last_json_line(const std::string& output) {
  std::string last;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) last = line;
  }
  return nlohmann::json::parse(last, nullptr, /*allow_exceptions=*/false);
}

TEST(AttendanceEvalBinary, FiguresOnAGeneratedSetWithKnownAnswers) {
  ATT_REQUIRE_EVAL_BIN(bin);
  ATT_REQUIRE_SHARED(image, "data/classroom/PartA_00214.jpg");  // 35 heads
  // The same real frame twice, once with all its head boxes and once with only the first 7,
  // and a blank frame with nobody: whatever the detector finds on the real frame (p), the
  // figures follow by arithmetic.
  TempDir dir;
  const std::string truth = att::testing::read_file(image.parent_path() / "PartA_00214.txt");
  std::string first7;
  std::istringstream lines(truth);
  for (int i = 0; i < 7; ++i) {
    std::string line;
    std::getline(lines, line);
    first7 += line + "\n";
  }
  fs::copy_file(image, dir / "a_full.jpg");
  write_file(dir / "a_full.txt", truth);
  fs::copy_file(image, dir / "b_seven.jpg");
  write_file(dir / "b_seven.txt", first7);
  cv::imwrite((dir / "c_blank.jpg").string(),
              cv::Mat(360, 640, CV_8UC3, cv::Scalar(110, 120, 130)));
  write_file(dir / "c_blank.txt", "");

  const RunResult r =
      run(quoted(bin) + " --images " + quoted(dir.path()) + " --detector yunet --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = last_json_line(r.output);
  ASSERT_TRUE(j.is_object()) << r.output;
  EXPECT_EQ(j["images"], 3);
  EXPECT_EQ(j["truth_total"], 35 + 7);
  EXPECT_EQ(j["detector"], "yunet");
  const int total = j["pred_total"];
  ASSERT_EQ(total % 2, 0) << "the blank frame should have nobody, the two copies the same count";
  const int p = total / 2;
  ASSERT_GT(p, 7);
  ASSERT_LT(p, 35);
  EXPECT_NEAR(j["mae"].get<double>(), ((35 - p) + (p - 7) + 0) / 3.0, 1e-9);
  EXPECT_NEAR(j["count_accuracy"].get<double>(), 1 - ((35.0 - p) / 35 + (p - 7.0) / 7 + 0) / 3,
              1e-9);
  EXPECT_NEAR(j["within_10pct"].get<double>(), 1.0 / 3, 1e-9);  // only the blank frame
  // Precision: matches on the full copy plus at most 7 on the other, over 2p detections.
  EXPECT_GT(j["precision"].get<double>(), 0.5);
  EXPECT_LE(j["recall"].get<double>(), (p + 7) / 42.0 + 1e-9);
}

TEST(AttendanceEvalBinary, SavesAnAnnotatedCopyOfEachImage) {
  ATT_REQUIRE_EVAL_BIN(bin);
  TempDir dir;
  write_file(dir / "one.jpg", att::testing::synthetic_jpeg(320, 240));
  write_file(dir / "one.txt", "10 10 40 40\n");
  const RunResult r = run(quoted(bin) + " --images " + quoted(dir.path()) +
                          " --detector haar --save-annotated " + quoted(dir / "out") + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const cv::Mat annotated = cv::imread((dir / "out" / "one.jpg").string());
  ASSERT_FALSE(annotated.empty());
  EXPECT_EQ(annotated.size(), cv::Size(320, 240));
}

// A clip of `seconds` at 5 frames per second of a plain scene (nobody in it).
fs::path write_blank_clip(const TempDir& dir, int seconds) {
  const fs::path path = dir / "blank.avi";
  cv::VideoWriter writer(path.string(), cv::CAP_FFMPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'),
                         5.0, cv::Size(320, 240));
  EXPECT_TRUE(writer.isOpened());
  for (int i = 0; i < seconds * 5; ++i) {
    cv::Mat frame(240, 320, CV_8UC3, cv::Scalar(60 + i % 3, 90, 120));
    writer.write(frame);
  }
  return path;
}

TEST(AttendanceEvalBinary, VideoTimelineSamplesOneFramePerInterval) {
  ATT_REQUIRE_EVAL_BIN(bin);
  TempDir dir;
  const fs::path clip = write_blank_clip(dir, 6);
  const RunResult r = run(quoted(bin) + " --video " + quoted(clip) +
                          " --every 2 --detector haar --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = last_json_line(r.output);
  ASSERT_TRUE(j.is_object()) << r.output;
  EXPECT_EQ(j["detector"], "haar");
  EXPECT_EQ(j["every_s"], 2.0);
  ASSERT_EQ(j["frames"], 3);  // 0 s, 2 s, 4 s of a 6 s clip
  const auto& timeline = j["timeline"];
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(timeline[i]["t_s"].get<double>(), 2.0 * static_cast<double>(i), 0.21);
    EXPECT_EQ(timeline[i]["frame_count"], 0);
    EXPECT_EQ(timeline[i]["window_count"], 0);
  }
  EXPECT_EQ(j["window_final"], 0);
}

TEST(AttendanceEvalBinary, UnreadableVideoIsAClearError) {
  ATT_REQUIRE_EVAL_BIN(bin);
  TempDir dir;
  write_file(dir / "clip.mp4", "not a video");
  const RunResult r =
      run(quoted(bin) + " --video " + quoted(dir / "clip.mp4") + " --detector haar 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("attendance-eval: "));
  EXPECT_THAT(r.output, HasSubstr("clip.mp4"));
}

TEST(AttendanceEvalBinary, OneModeOnly) {
  ATT_REQUIRE_EVAL_BIN(bin);
  TempDir dir;
  const RunResult r = run(quoted(bin) + " --images " + quoted(dir.path()) + " --video x.mp4 2>&1");
  EXPECT_NE(r.exit_code, 0);
}

TEST(AttendanceEvalBinary, CostIsReportedAtThreeSizes) {
  ATT_REQUIRE_EVAL_BIN(bin);
  TempDir dir;
  write_file(dir / "frame.jpg", att::testing::synthetic_jpeg(640, 360));
  const RunResult r = run(quoted(bin) + " --cost " + quoted(dir / "frame.jpg") +
                          " --detector haar --repeat 1 --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = last_json_line(r.output);
  ASSERT_TRUE(j.is_object()) << r.output;
  ASSERT_EQ(j["sizes"].size(), 3u);
  EXPECT_EQ(j["sizes"][1]["width"], 1280);
  EXPECT_EQ(j["sizes"][2]["height"], 1080);
  for (const auto& s : j["sizes"]) EXPECT_GT(s["ms_median"].get<double>(), 0.0);
}

// ----------------------------------------------------------------------------------------
// Floors on the shared data, well below what was measured (README, "Accuracy"), so that a
// regression fails here rather than in an auditor's report.

TEST(AccuracyFloor, FusedOnTheSharedClassroomSet) {
  ATT_REQUIRE_EVAL_BIN(bin);
  ATT_REQUIRE_SHARED(dir, "data/classroom");
  if (!att::find_model(att::lffd_head_v1(), att::model_search_dirs({})).path) {
    GTEST_SKIP() << "skipped: no LFFD head model";
  }
  const RunResult r =
      run(quoted(bin) + " --images " + quoted(dir) + " --detector fused --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = last_json_line(r.output);
  ASSERT_TRUE(j.is_object()) << r.output;
  EXPECT_EQ(j["images"], 150);
  // Measured 0.722 and 6.26.
  EXPECT_GE(j["count_accuracy"].get<double>(), 0.62);
  EXPECT_LE(j["mae"].get<double>(), 9.0);
  EXPECT_GE(j["precision"].get<double>(), 0.65);
  EXPECT_GE(j["recall"].get<double>(), 0.58);
}

TEST(AccuracyFloor, WindowedCountOnTheOverheadClipHoldsNearTheClass) {
  ATT_REQUIRE_EVAL_BIN(bin);
  ATT_REQUIRE_SHARED(clip, "data/video/classroom_cctv_overhead_640x352.mp4");  // 13-14 pupils
  const RunResult r =
      run(quoted(bin) + " --video " + quoted(clip) + " --every 1 --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = last_json_line(r.output);
  ASSERT_TRUE(j.is_object()) << r.output;
  EXPECT_EQ(j["frames"], 11);
  EXPECT_GE(j["window_final"].get<int>(), 11);
  EXPECT_LE(j["window_final"].get<int>(), 18);
}

}  // namespace
