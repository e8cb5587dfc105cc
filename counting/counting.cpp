#include "counting/counting.h"

namespace att {

Counting::Counting(OccupancyConfig config, std::map<std::string, SiteZones> zones)
    : config_(config), zones_(std::move(zones)) {}

Counting::SiteWindow& Counting::window_of(const std::string& site_id) {
  std::lock_guard lock(mu_);
  auto& slot = sites_[site_id];
  if (!slot) {
    const auto z = zones_.find(site_id);
    slot = std::make_unique<SiteWindow>(
        OccupancyWindow(config_, z == zones_.end() ? SiteZones{} : z->second));
  }
  return *slot;
}

void Counting::set_empty_reference(const std::string& site_id, const std::vector<Box>& detections,
                                   cv::Size2f picture) {
  SiteWindow& site = window_of(site_id);
  std::lock_guard lock(site.mu);
  site.window.set_empty_reference(detections, picture);
}

void Counting::set_site(const std::string& site_id, SiteZones zones,
                        const std::vector<Box>& reference, cv::Size2f picture) {
  {
    std::lock_guard lock(mu_);
    zones_[site_id] = zones;
  }
  SiteWindow& site = window_of(site_id);
  std::lock_guard lock(site.mu);
  PerspectiveModel learnt = site.window.perspective();
  site.window = OccupancyWindow(config_, std::move(zones));
  site.window.set_empty_reference(reference, picture);
  site.window.set_perspective(std::move(learnt));
}

PerspectiveModel Counting::perspective(const std::string& site_id) {
  SiteWindow& site = window_of(site_id);
  std::lock_guard lock(site.mu);
  return site.window.perspective();
}

OccupancyResult Counting::add(const std::string& site_id, std::int64_t t_ms, cv::Size size,
                              const std::vector<Box>& detections, const cv::Mat& gray) {
  SiteWindow& site = window_of(site_id);
  std::lock_guard lock(site.mu);
  if (t_ms <= site.newest_ms) {
    // Count the late frame alone and leave the window as it is.
    OccupancyResult late;
    late.counted = site.window.countable(size, detections);
    late.frame_count = static_cast<int>(late.counted.size());
    late.window_count = site.window.count();
    return late;
  }
  site.newest_ms = t_ms;
  return site.window.add(t_ms, size, detections, gray);
}

std::vector<Box> Counting::countable(const std::string& site_id, cv::Size size,
                                     const std::vector<Box>& detections) {
  SiteWindow& site = window_of(site_id);
  std::lock_guard lock(site.mu);
  return site.window.countable(size, detections);
}

}  // namespace att
