#include "counting/eval.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <utility>

#include "common/files.h"

namespace att {

namespace {

constexpr char kTruthLineFormat[] =
    "expected 'x1 y1 x2 y2' with x2 > x1, y2 > y1 (a box) or 'x y' (a point)";

void append_number(std::string& out, float v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

// The truth item's centre: a box's middle, or the point itself.
std::pair<float, float> centre(const TruthItem& t) {
  return {t.box.x + t.box.w / 2, t.box.y + t.box.h / 2};
}

// Whether detection `p` may take truth item `t`: a box holds p's centre, or p holds a point.
bool may_match(const TruthItem& t, const Box& p) {
  if (t.is_point()) {
    return t.box.x >= p.x && t.box.x <= p.x + p.w && t.box.y >= p.y && t.box.y <= p.y + p.h;
  }
  const float cx = p.x + p.w / 2, cy = p.y + p.h / 2;
  return cx >= t.box.x && cx <= t.box.x + t.box.w && cy >= t.box.y && cy <= t.box.y + t.box.h;
}

}  // namespace

Result<std::vector<TruthItem>> parse_truth(std::string_view text) {
  std::vector<TruthItem> items;
  std::istringstream in{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream fields(line);
    std::vector<double> v;
    for (double x; fields >> x;) v.push_back(x);
    const bool read_all = fields.eof();  // stopped at the end, not at a word
    if (read_all && v.size() == 2) {
      items.push_back(TruthItem::point(float(v[0]), float(v[1])));
    } else if (read_all && v.size() == 4 && v[2] > v[0] && v[3] > v[1]) {
      items.push_back(TruthItem::of_box(
          Box{float(v[0]), float(v[1]), float(v[2] - v[0]), float(v[3] - v[1]), 1.0f}));
    } else {
      return fail("line " + std::to_string(number) + ": " + kTruthLineFormat);
    }
  }
  return items;
}

std::string format_truth(const std::vector<TruthItem>& items) {
  std::string out;
  for (const TruthItem& t : items) {
    append_number(out, t.box.x);
    out += ' ';
    append_number(out, t.box.y);
    if (!t.is_point()) {
      out += ' ';
      append_number(out, t.box.x + t.box.w);
      out += ' ';
      append_number(out, t.box.y + t.box.h);
    }
    out += '\n';
  }
  return out;
}

int count_matches(const std::vector<TruthItem>& truth, std::vector<Box> predicted) {
  std::stable_sort(predicted.begin(), predicted.end(),
                   [](const Box& a, const Box& b) { return a.score > b.score; });
  std::vector<bool> taken(truth.size(), false);
  int matches = 0;
  for (const Box& p : predicted) {
    const float cx = p.x + p.w / 2, cy = p.y + p.h / 2;
    int best = -1;
    float best_d = std::numeric_limits<float>::max();
    for (size_t i = 0; i < truth.size(); ++i) {
      if (taken[i] || !may_match(truth[i], p)) continue;
      const auto [tx, ty] = centre(truth[i]);
      const float dx = cx - tx, dy = cy - ty;
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

int count_matches(const std::vector<Box>& truth, std::vector<Box> predicted) {
  std::vector<TruthItem> items;
  items.reserve(truth.size());
  for (const Box& b : truth) items.push_back(TruthItem::of_box(b));
  return count_matches(items, std::move(predicted));
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

Result<std::vector<EvalImage>> evaluate_images(Detector& detector, const std::filesystem::path& dir,
                                               const EvalImageCallback& each) {
  const auto names = eval_image_names(dir);
  if (names.empty()) {
    return fail(ErrorCode::kNotFound, "no NAME.jpg with NAME.txt in " + dir.string());
  }
  std::vector<EvalImage> results;
  for (const auto& name : names) {
    const std::string base = (dir / name).string();
    auto text = read_file(base + ".txt");
    if (!text) return std::unexpected(text.error());
    auto truth = parse_truth(*text);
    if (!truth) return fail(base + ".txt: " + truth.error().message);
    const cv::Mat frame = cv::imread(base + ".jpg", cv::IMREAD_COLOR);
    if (frame.empty()) return fail(ErrorCode::kCorrupt, "cannot read " + base + ".jpg");
    const auto t0 = std::chrono::steady_clock::now();
    auto boxes = detector.detect(frame);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!boxes) return std::unexpected(boxes.error());
    EvalImage im{name, std::move(*truth), std::move(*boxes), ms};
    if (each) each(im, frame);
    results.push_back(std::move(im));
  }
  return results;
}

}  // namespace att
