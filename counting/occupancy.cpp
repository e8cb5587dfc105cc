#include "counting/occupancy.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace att {
namespace {

cv::Point2f centre_of(const Box& b) {
  return {b.x + b.w / 2, b.y + b.h / 2};
}
float size_of(const Box& b) {
  return std::sqrt(std::max(b.w, 0.0f) * std::max(b.h, 0.0f));
}

bool inside(const Zone& zone, cv::Point2f p) {
  return zone.points.size() >= 3 && cv::pointPolygonTest(zone.points, p, false) >= 0;
}

constexpr int kPatchSide = 16;

}  // namespace

bool SiteZones::counts(float x, float y, int width, int height) const {
  return width > 0 && height > 0 && in_audience(x, y, width, height) &&
         !excluded_by(x, y, width, height);
}

bool SiteZones::in_audience(float x, float y, int width, int height) const {
  if (width <= 0 || height <= 0) return false;
  const cv::Point2f p(x / static_cast<float>(width), y / static_cast<float>(height));
  // A polygon of fewer than 3 points is no zone (config refuses them; this never guesses).
  const bool any_audience =
      std::ranges::any_of(count, [](const Zone& z) { return z.points.size() >= 3; });
  return !any_audience || std::ranges::any_of(count, [&](const Zone& z) { return inside(z, p); });
}

const Zone* SiteZones::excluded_by(float x, float y, int width, int height) const {
  if (width <= 0 || height <= 0) return nullptr;
  const cv::Point2f p(x / static_cast<float>(width), y / static_cast<float>(height));
  const auto it = std::ranges::find_if(exclude, [&](const Zone& z) { return inside(z, p); });
  return it == exclude.end() ? nullptr : &*it;
}

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::kCounted:
      return "counted";
    case Verdict::kLowScore:
      return "low_score";
    case Verdict::kOutsideAudience:
      return "outside_audience";
    case Verdict::kExcluded:
      return "excluded";
    case Verdict::kWrongSize:
      return "wrong_size";
    case Verdict::kEmptyRoom:
      return "empty_room";
  }
  return "counted";
}

void PerspectiveModel::add(const Box& box) {
  samples_.emplace_back(box.y + box.h / 2, size_of(box));
  if (samples_.size() > max_samples_) samples_.pop_front();
  if (static_cast<int>(samples_.size()) >= min_samples_ && (!fitted_ || ++since_fit_ >= 10)) fit();
}

void PerspectiveModel::fit() {
  since_fit_ = 0;
  std::vector<bool> use(samples_.size(), true);
  for (int pass = 0; pass < 3; ++pass) {
    double n = 0, sy = 0, ss = 0, syy = 0, sys = 0;
    for (size_t i = 0; i < samples_.size(); ++i) {
      if (!use[i]) continue;
      const auto& p = samples_[i];
      n += 1, sy += p.x, ss += p.y, syy += p.x * p.x, sys += p.x * p.y;
    }
    if (n < 2) return;
    const double det = n * syy - sy * sy;
    if (std::abs(det) < 1e-9) {  // every sample on one row
      fitted_ = false;
      return;
    }
    slope_ = (n * sys - sy * ss) / det;
    intercept_ = (ss - slope_ * sy) / n;
    // Heads from one or two rows of seats say nothing about the slope: until the confident
    // heads span several head heights of rows, there is no model and nothing is dropped.
    const double row_spread = std::sqrt(std::max(0.0, syy / n - (sy / n) * (sy / n)));
    if (row_spread < 2.0 * (ss / n)) {
      fitted_ = false;
      return;
    }
    fitted_ = true;
    for (size_t i = 0; i < samples_.size(); ++i) {  // drop the samples far off the line
      const double e = expected_size(samples_[i].x);
      use[i] = std::abs(samples_[i].y - e) <= 0.5 * e;
    }
  }
}

double PerspectiveModel::expected_size(double centre_y) const {
  return std::max(2.0, slope_ * centre_y + intercept_);
}

bool PerspectiveModel::plausible(const Box& box, double tolerance) const {
  if (!fitted_) return true;
  const double ratio = size_of(box) / expected_size(box.y + box.h / 2);
  return ratio <= tolerance && ratio >= 1.0 / tolerance;
}

OccupancyWindow::OccupancyWindow(OccupancyConfig config, SiteZones zones)
    : config_(config), zones_(std::move(zones)), perspective_(config.perspective_min_samples) {}

void OccupancyWindow::set_empty_reference(const std::vector<Box>& detections, cv::Size2f picture) {
  reference_ = detections;
  reference_size_ = picture;
}

bool OccupancyWindow::on_reference(const Box& b, cv::Size frame) const {
  const cv::Point2f c = centre_of(b);
  const bool scaled = reference_size_.width > 0 && reference_size_.height > 0;
  const float sx = scaled ? frame.width / reference_size_.width : 1.0f;
  const float sy = scaled ? frame.height / reference_size_.height : 1.0f;
  return std::ranges::any_of(reference_, [&](Box r) {
    r = Box{r.x * sx, r.y * sy, r.w * sx, r.h * sy, r.score};
    const float rs = size_of(r), bs = size_of(b);
    const float ratio = rs > 0 && bs > 0 ? std::max(rs, bs) / std::min(rs, bs) : 99.0f;
    return cv::norm(centre_of(r) - c) <= config_.match_radius * std::max(rs, bs) && ratio <= 1.5f;
  });
}

void OccupancyWindow::update_stillness(Track& track) const {
  const auto& s = track.sightings;
  track.still = false;
  if (static_cast<int>(s.size()) < config_.still_min_hits) return;
  cv::Point2f mean(0, 0);
  for (const auto& x : s) mean += x.centre;
  mean *= 1.0f / static_cast<float>(s.size());
  for (const auto& x : s) {
    if (cv::norm(x.centre - mean) > config_.still_motion * track.size) return;
  }
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i].patch.empty() || s[i - 1].patch.empty()) continue;
    cv::Mat diff;
    cv::absdiff(s[i].patch, s[i - 1].patch, diff);
    if (cv::mean(diff)[0] > config_.still_pixel_diff) return;
  }
  track.still = true;
}

void OccupancyWindow::merge_close_tracks() {
  for (size_t i = 0; i < tracks_.size(); ++i) {
    for (size_t j = i + 1; j < tracks_.size();) {
      Track& a = tracks_[i];
      Track& b = tracks_[j];
      if (cv::norm(a.centre - b.centre) > config_.match_radius * std::max(a.size, b.size)) {
        ++j;
        continue;
      }
      for (auto& s : b.sightings) {
        const bool seen =
            std::ranges::any_of(a.sightings, [&](const Sighting& x) { return x.t_ms == s.t_ms; });
        if (!seen) a.sightings.push_back(std::move(s));
      }
      std::ranges::sort(a.sightings, {}, &Sighting::t_ms);
      a.occupied = a.occupied || b.occupied;
      tracks_.erase(tracks_.begin() + static_cast<std::ptrdiff_t>(j));
    }
  }
}

std::vector<Box> OccupancyWindow::countable(cv::Size size,
                                            const std::vector<Box>& detections) const {
  std::vector<Box> out;
  for (const auto& b : detections) {
    if (judge(b, size).verdict == Verdict::kCounted) out.push_back(b);
  }
  return out;
}

Judged OccupancyWindow::judge(const Box& b, cv::Size size) const {
  const cv::Point2f c = centre_of(b);
  if (b.score < zones_.min_score) return {Verdict::kLowScore, ""};
  if (!zones_.in_audience(c.x, c.y, size.width, size.height))
    return {Verdict::kOutsideAudience, ""};
  if (const Zone* z = zones_.excluded_by(c.x, c.y, size.width, size.height))
    return {Verdict::kExcluded, z->name};
  if (!perspective_.plausible(b, config_.perspective_tolerance)) return {Verdict::kWrongSize, ""};
  if (on_reference(b, size)) return {Verdict::kEmptyRoom, ""};
  return {};
}

OccupancyResult OccupancyWindow::add(std::int64_t t_ms, cv::Size size,
                                     const std::vector<Box>& detections, const cv::Mat& gray) {
  OccupancyResult result;
  const auto window_ms = static_cast<std::int64_t>(config_.window_s * 1000);
  frames_.push_back(t_ms);
  while (!frames_.empty() && frames_.front() <= t_ms - window_ms) frames_.pop_front();

  // 1. This frame's countable detections. Confident ones in the zones teach the perspective
  // first, so that a frame can already be judged by what it shows itself.
  for (const auto& b : detections) {
    const cv::Point2f c = centre_of(b);
    if (b.score >= config_.perspective_score && zones_.counts(c.x, c.y, size.width, size.height)) {
      perspective_.add(b);
    }
  }
  result.counted = countable(size, detections);
  result.frame_count = static_cast<int>(result.counted.size());

  // 2. Each one votes for the nearest free place, best score first; or starts a new one.
  std::vector<Box> ordered = result.counted;
  std::ranges::sort(ordered, [](const Box& a, const Box& b) { return a.score > b.score; });
  std::vector<bool> taken(tracks_.size(), false);
  const bool with_pixels = !gray.empty() && gray.size() == size && gray.type() == CV_8UC1;
  for (const auto& b : ordered) {
    const cv::Point2f c = centre_of(b);
    const float bs = size_of(b);
    int best = -1;
    double best_d = 0;
    for (size_t i = 0; i < tracks_.size(); ++i) {
      if (taken[i]) continue;
      const double d = cv::norm(tracks_[i].centre - c);
      if (d <= config_.match_radius * std::max(tracks_[i].size, bs) && (best < 0 || d < best_d)) {
        best = static_cast<int>(i), best_d = d;
      }
    }
    if (best < 0) {
      tracks_.push_back(Track{c, bs, {}, false, false});
      taken.push_back(true);
      best = static_cast<int>(tracks_.size()) - 1;
    } else {
      taken[static_cast<size_t>(best)] = true;
    }
    Track& track = tracks_[static_cast<size_t>(best)];
    track.centre = track.sightings.empty() ? c : track.centre * 0.7f + c * 0.3f;
    track.size = track.sightings.empty() ? bs : track.size * 0.7f + bs * 0.3f;
    Sighting s{t_ms, c, {}};
    if (with_pixels) {
      const cv::Rect r = cv::Rect(cv::Rect2f(b.x, b.y, b.w, b.h)) & cv::Rect({0, 0}, size);
      if (r.area() > 0)
        cv::resize(gray(r), s.patch, {kPatchSide, kPatchSide}, 0, 0, cv::INTER_AREA);
    }
    track.sightings.push_back(std::move(s));
  }

  // 3. Two places that drifted together are one person (a head turns, a face and the head
  // around it take turns): the older absorbs the younger, one sighting per frame.
  merge_close_tracks();

  // 4. Forget what left the window; decide each place with hysteresis.
  const double frames = static_cast<double>(frames_.size());
  count_ = 0;
  places_view_.clear();
  std::erase_if(tracks_, [&](Track& track) {
    while (!track.sightings.empty() && track.sightings.front().t_ms <= t_ms - window_ms) {
      track.sightings.pop_front();
    }
    return track.sightings.empty();
  });
  for (auto& track : tracks_) {
    const int hits = static_cast<int>(track.sightings.size());
    const double fraction = hits / frames;
    if (!track.occupied) {
      track.occupied = hits >= config_.min_hits && fraction >= config_.enter_fraction;
    } else if (fraction < config_.leave_fraction) {
      track.occupied = false;
    }
    update_stillness(track);
    if (track.occupied && !track.still) ++count_;
    places_view_.push_back(
        Place{track.centre, track.size, hits, fraction, track.occupied, track.still});
  }
  result.window_count = count_;
  return result;
}

}  // namespace att
