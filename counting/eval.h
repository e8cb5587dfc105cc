// Accuracy of a detector against ground-truth head boxes (the attendance-eval contract).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/box.h"
#include "common/error.h"

namespace att {

// One "x1 y1 x2 y2" box per line, in pixels; blank lines are skipped. Any other line is an
// error naming its line number.
Result<std::vector<Box>> parse_truth_boxes(std::string_view text);

struct EvalImage {
  std::string name;
  std::vector<Box> truth;
  std::vector<Box> predicted;
  double ms = 0;  // detector time
};

// Detections matched one-to-one to truth boxes, best score first: a detection matches an
// unmatched truth box when its centre lies inside it (the nearest centre if several).
int count_matches(const std::vector<Box>& truth, std::vector<Box> predicted);

struct EvalSummary {
  int images = 0;
  long truth_total = 0;
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

}  // namespace att
