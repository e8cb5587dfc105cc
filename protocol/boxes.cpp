#include "protocol/boxes.h"

#include <cmath>

namespace att {

nlohmann::json boxes_to_json(const std::vector<Box>& boxes) {
  const auto rounded = [](float v, double per_unit) { return std::round(v * per_unit) / per_unit; };
  nlohmann::json out = nlohmann::json::array();
  for (const Box& b : boxes) {
    out.push_back({rounded(b.x, 10), rounded(b.y, 10), rounded(b.w, 10), rounded(b.h, 10),
                   rounded(b.score, 1000)});
  }
  return out;
}

std::vector<Box> boxes_from_json(const nlohmann::json& boxes) {
  std::vector<Box> out;
  if (!boxes.is_array()) return out;
  for (const nlohmann::json& b : boxes) {
    bool ok = b.is_array() && b.size() == 5;
    for (size_t k = 0; ok && k < 5; ++k) ok = b[k].is_number();
    if (ok) {
      out.push_back(Box{b[0].get<float>(), b[1].get<float>(), b[2].get<float>(), b[3].get<float>(),
                        b[4].get<float>()});
    }
  }
  return out;
}

}  // namespace att
