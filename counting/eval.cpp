#include "counting/eval.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace att {

Result<std::vector<Box>> parse_truth_boxes(std::string_view text) {
  std::vector<Box> boxes;
  std::istringstream in{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream fields(line);
    double x1, y1, x2, y2;
    std::string extra;
    if (!(fields >> x1 >> y1 >> x2 >> y2) || (fields >> extra) || x2 <= x1 || y2 <= y1) {
      return fail("line " + std::to_string(number) +
                  ": expected 'x1 y1 x2 y2' with x2 > x1, y2 > y1");
    }
    boxes.push_back(Box{float(x1), float(y1), float(x2 - x1), float(y2 - y1), 1.0f});
  }
  return boxes;
}

int count_matches(const std::vector<Box>& truth, std::vector<Box> predicted) {
  std::stable_sort(predicted.begin(), predicted.end(),
                   [](const Box& a, const Box& b) { return a.score > b.score; });
  std::vector<bool> taken(truth.size(), false);
  int matches = 0;
  for (const Box& p : predicted) {
    const float cx = p.x + p.w / 2, cy = p.y + p.h / 2;
    int best = -1;
    float best_d = std::numeric_limits<float>::max();
    for (size_t i = 0; i < truth.size(); ++i) {
      const Box& t = truth[i];
      if (taken[i] || cx < t.x || cx > t.x + t.w || cy < t.y || cy > t.y + t.h) continue;
      const float dx = cx - (t.x + t.w / 2), dy = cy - (t.y + t.h / 2);
      if (dx * dx + dy * dy < best_d) {
        best_d = dx * dx + dy * dy;
        best = static_cast<int>(i);
      }
    }
    if (best >= 0) {
      taken[static_cast<size_t>(best)] = true;
      ++matches;
    }
  }
  return matches;
}

EvalSummary summarize(const std::vector<EvalImage>& images) {
  EvalSummary s;
  s.images = static_cast<int>(images.size());
  if (images.empty()) return s;
  long matched = 0;
  double abs_sum = 0, rel_sum = 0;
  int within = 0;
  std::vector<double> ms;
  for (const auto& im : images) {
    const long t = static_cast<long>(im.truth.size());
    const long p = static_cast<long>(im.predicted.size());
    s.truth_total += t;
    s.pred_total += p;
    const double err = std::abs(double(p - t));
    abs_sum += err;
    rel_sum += err / std::max(t, 1L);
    if (err <= 0.1 * double(t)) ++within;
    matched += count_matches(im.truth, im.predicted);
    ms.push_back(im.ms);
  }
  const double n = double(images.size());
  s.mae = abs_sum / n;
  s.count_accuracy = 1.0 - rel_sum / n;
  s.within_10pct = within / n;
  s.precision = s.pred_total ? double(matched) / double(s.pred_total) : 0.0;
  s.recall = s.truth_total ? double(matched) / double(s.truth_total) : 0.0;
  s.ms_median = median(std::move(ms));
  return s;
}

std::vector<RoomSizeBand> summarize_by_room_size(const std::vector<EvalImage>& images) {
  std::vector<RoomSizeBand> bands = {
      {0, 5, "0-5", {}}, {6, 20, "6-20", {}}, {21, 60, "21-60", {}}, {61, -1, "61+", {}}};
  for (auto& band : bands) {
    std::vector<EvalImage> in;
    for (const auto& im : images) {
      const int t = static_cast<int>(im.truth.size());
      if (t >= band.min && (band.max < 0 || t <= band.max)) in.push_back(im);
    }
    band.summary = summarize(in);
  }
  return bands;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::vector<std::string> eval_image_names(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto& p = entry.path();
    if (p.extension() == ".jpg" && std::filesystem::exists(dir / (p.stem().string() + ".txt"))) {
      names.push_back(p.stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace att
