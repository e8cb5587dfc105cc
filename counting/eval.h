// Accuracy of a detector against ground truth (the attendance-eval contract): each person of the
// truth is a box or a point, and a detector's boxes are matched to them one to one.
#pragma once

#include <filesystem>
#include <functional>
#include <opencv2/core.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/box.h"
#include "common/error.h"
#include "counting/detector.h"

namespace att {

// One person of the ground truth: a box around the head (a hand-drawn truth set), or a point on
// the person (where an auditor marked someone the counter missed: attendance-server
// export-eval).
struct TruthItem {
  enum class Kind { kBox, kPoint };
  Kind kind = Kind::kBox;
  Box box;  // a box: its corner and size in pixels (w, h > 0); a point: (x, y), w = h = 0

  static TruthItem of_box(const Box& b) { return {Kind::kBox, Box{b.x, b.y, b.w, b.h, 1.0f}}; }
  static TruthItem point(float x, float y) { return {Kind::kPoint, Box{x, y, 0, 0, 1.0f}}; }
  bool is_point() const { return kind == Kind::kPoint; }
  bool operator==(const TruthItem&) const = default;
};

// A truth file: one person a line, in pixels, either a box "x1 y1 x2 y2" (x2 > x1, y2 > y1)
// or a point "x y"; blank lines are skipped, numbers are separated by spaces or tabs. Any
// other line is an error naming its line number.
Result<std::vector<TruthItem>> parse_truth(std::string_view text);
// The text of `items` that parse_truth reads back: one line each ending in '\n', a box's
// corners (x, y, x + w, y + h) or a point, each number in the shortest form that reads back as
// the same float.
std::string format_truth(const std::vector<TruthItem>& items);

struct EvalImage {
  std::string name;
  std::vector<TruthItem> truth;
  std::vector<Box> predicted;
  double ms = 0;  // detector time
};

// Detections matched one-to-one to truth items, best score first: a detection may take an
// unmatched truth box whose area holds the detection's centre, or an unmatched truth point that
// lies inside the detection's box (edges count as inside); among those it takes the nearest
// (the distance from its centre to the box's centre or to the point; on a tie the first in
// `truth`). Each detection and each truth item is used at most once.
int count_matches(const std::vector<TruthItem>& truth, std::vector<Box> predicted);
// The same for a truth of boxes only.
int count_matches(const std::vector<Box>& truth, std::vector<Box> predicted);

struct EvalSummary {
  int images = 0;
  long truth_total = 0;  // truth items (boxes and points): the people there
  long pred_total = 0;
  double mae = 0;             // mean |pred - truth| per image
  double count_accuracy = 0;  // 1 - mean(|pred - truth| / max(truth, 1))
  double within_10pct = 0;    // fraction of images with |pred - truth| <= 10% of truth
  double precision = 0;
  double recall = 0;
  double ms_median = 0;
};

EvalSummary summarize(const std::vector<EvalImage>& images);

// The same figures for rooms of one size: images whose truth count is in [min, max].
struct RoomSizeBand {
  int min = 0, max = 0;  // truth heads; max < 0: no upper bound
  std::string label;     // "0-5", "6-20", "21-60", "61+"
  EvalSummary summary;   // images = 0 when none fell in it
};

// Rooms of 0-5, 6-20, 21-60 and 61+ heads: a detector can win overall and lose the nearly
// empty rooms, where one false face doubles the count.
std::vector<RoomSizeBand> summarize_by_room_size(const std::vector<EvalImage>& images);

double median(std::vector<double> values);  // 0 for none

// The image pairs of a directory: every NAME.jpg that has a NAME.txt, sorted by name.
std::vector<std::string> eval_image_names(const std::filesystem::path& dir);

// What `attendance-eval --images DIR` runs: every pair of `dir` (eval_image_names), in name
// order, each picture decoded and counted by `detector` alone. `each`, when given, is called
// with each image and its decoded picture as soon as it is counted (progress, annotated
// copies). Fails, with a message naming the file (and the line of a truth file), on a truth
// file that does not parse, a picture that does not decode or a detector error; fails with
// kNotFound when `dir` has no pair. The caller's thread runs the detector.
using EvalImageCallback = std::function<void(const EvalImage&, const cv::Mat&)>;
Result<std::vector<EvalImage>> evaluate_images(Detector& detector, const std::filesystem::path& dir,
                                               const EvalImageCallback& each = {});

}  // namespace att
