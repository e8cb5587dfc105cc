// What a site's checked roll calls teach about its count. An auditor counts the people on a
// roll call's evidence picture: each of the counter's boxes that is not a person is removed,
// each person it missed is added as a point (PictureCheck). Set against the count the roll call
// took, a site's checks give how far its count is from the people really there (its ratio),
// and how its detector does on its room: the share of people it finds (recall) and the boxes
// that are not people (false detections per picture). Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "common/error.h"

namespace att {

// One picture counted by a person. In the ledger (a correction's "picture"):
//   {"boxes": 19, "removed": [3, 11], "added": [[412.5, 96.0], ...]}
struct PictureCheck {
  int boxes = 0;                               // the counter's boxes on the picture
  std::vector<int> removed;                    // of those (indices), not a person
  std::vector<std::pair<float, float>> added;  // people missed: x, y in the picture's pixels

  int people() const {
    return boxes - static_cast<int>(removed.size()) + static_cast<int>(added.size());
  }
  nlohmann::json to_json() const;
  // Checked: boxes 0..kMaxBoxes, removed distinct indices of those boxes, at most kMaxAdded
  // points with 0 <= x, y <= kMaxSide. The message names the member at fault.
  static Result<PictureCheck> from_json(const nlohmann::json& j);

  static constexpr int kMaxBoxes = 5000, kMaxAdded = 5000, kMaxSide = 16384;
};

// A checked roll call: the count it took and the person's check of its picture.
struct CheckedCall {
  int counted_as_taken = 0;
  PictureCheck check;
};

struct SiteCalibration {
  int checked = 0;      // roll calls checked
  int counted = 0;      // their counts as taken, summed
  int people = 0;       // the people the checks found, summed
  int boxes = 0;        // the counter's boxes on their pictures, summed
  int false_boxes = 0;  // of those, not a person

  // People per counted: the estimate's factor. None without a check or with nothing counted.
  std::optional<double> ratio() const;
  // The share of the people on the pictures the counter boxed; none without people.
  std::optional<double> recall() const;
  double false_per_picture() const { return checked ? double(false_boxes) / checked : 0; }
  // The people a count of this site stands for: count x ratio, rounded; none without a ratio.
  std::optional<int> estimate(int count) const;
  nlohmann::json to_json() const;
};

SiteCalibration calibrate(const std::vector<CheckedCall>& calls);

}  // namespace att
