#include "analysis/domain/calibration.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

namespace att {

using nlohmann::json;

json PictureCheck::to_json() const {
  json points = json::array();
  for (const auto& [x, y] : added) {
    points.push_back({std::round(x * 10) / 10, std::round(y * 10) / 10});
  }
  return {{"boxes", boxes}, {"removed", removed}, {"added", std::move(points)}};
}

Result<PictureCheck> PictureCheck::from_json(const json& j) {
  if (!j.is_object()) return fail("the picture's check must be a JSON object");
  PictureCheck c;
  const json* boxes = j.contains("boxes") ? &j["boxes"] : nullptr;
  if (!boxes || !boxes->is_number_integer() || *boxes < 0 || *boxes > kMaxBoxes)
    return fail("boxes must be a whole number from 0 to " + std::to_string(kMaxBoxes));
  c.boxes = boxes->get<int>();
  const json removed = j.value("removed", json::array());
  if (!removed.is_array()) return fail("removed must be an array of box indices");
  std::set<int> seen;
  for (const json& i : removed) {
    if (!i.is_number_integer() || i < 0 || i >= c.boxes || !seen.insert(i.get<int>()).second) {
      return fail("removed must hold distinct indices of the picture's " + std::to_string(c.boxes) +
                  " boxes (got " + i.dump() + ")");
    }
    c.removed.push_back(i.get<int>());
  }
  const json added = j.value("added", json::array());
  if (!added.is_array() || added.size() > kMaxAdded)
    return fail("added must be an array of at most " + std::to_string(kMaxAdded) + " points");
  for (const json& p : added) {
    const bool ok = p.is_array() && p.size() == 2 && p[0].is_number() && p[1].is_number() &&
                    p[0] >= 0 && p[1] >= 0 && p[0] <= kMaxSide && p[1] <= kMaxSide;
    if (!ok) {
      return fail("added must hold points [x, y] in the picture's pixels (got " + p.dump() + ")");
    }
    c.added.emplace_back(p[0].get<float>(), p[1].get<float>());
  }
  return c;
}

std::optional<double> SiteCalibration::ratio() const {
  if (checked == 0 || counted == 0) return std::nullopt;
  return static_cast<double>(people) / counted;
}

std::optional<double> SiteCalibration::recall() const {
  if (people == 0) return std::nullopt;
  return std::min(1.0, static_cast<double>(boxes - false_boxes) / people);
}

std::optional<int> SiteCalibration::estimate(int count) const {
  const auto r = ratio();
  if (!r) return std::nullopt;
  return static_cast<int>(std::lround(count * *r));
}

json SiteCalibration::to_json() const {
  const auto rounded = [](std::optional<double> v) {
    return v ? json(std::round(*v * 1000) / 1000) : json(nullptr);
  };
  return {{"checked", checked},
          {"counted", counted},
          {"people", people},
          {"ratio", rounded(ratio())},
          {"recall", rounded(recall())},
          {"false_per_picture", std::round(false_per_picture() * 100) / 100}};
}

SiteCalibration calibrate(const std::vector<CheckedCall>& calls) {
  SiteCalibration c;
  for (const CheckedCall& call : calls) {
    ++c.checked;
    c.counted += call.counted_as_taken;
    c.people += call.check.people();
    c.boxes += call.check.boxes;
    c.false_boxes += static_cast<int>(call.check.removed.size());
  }
  return c;
}

}  // namespace att
