// The reported count of every site: one OccupancyWindow per site, fed by the ingest path.
// Thread-safe: HTTP workers add frames of different sites at once; frames of one site are
// serialised by that site's lock.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "counting/occupancy.h"

namespace att {

class Counting {
 public:
  explicit Counting(OccupancyConfig config, std::map<std::string, SiteZones> zones = {});

  // An empty-room reference for a site (see OccupancyWindow::set_empty_reference).
  void set_empty_reference(const std::string& site_id, const std::vector<Box>& detections,
                           cv::Size2f picture = {});
  // Replaces a site's zones and empty-room reference: its window starts again empty, keeping
  // the head sizes learnt on its camera.
  void set_site(const std::string& site_id, SiteZones zones, const std::vector<Box>& reference,
                cv::Size2f picture);
  // The head sizes learnt so far on the site's camera (OccupancyWindow::perspective).
  PerspectiveModel perspective(const std::string& site_id);

  // Adds a frame of `site_id` captured at `t_ms`. A frame not newer than the newest one
  // already counted for the site (a late frame from a spool, or the same frame again after a
  // failed store) does not move the window: it gets the window's current count, and its own
  // frame count.
  OccupancyResult add(const std::string& site_id, std::int64_t t_ms, cv::Size size,
                      const std::vector<Box>& detections, const cv::Mat& gray);

  // The detections of one frame of `site_id` that count (OccupancyWindow::countable), without
  // adding anything to its window: how the audit counts a node's picture with the site's zones.
  std::vector<Box> countable(const std::string& site_id, cv::Size size,
                             const std::vector<Box>& detections);

 private:
  struct SiteWindow {
    std::mutex mu;
    OccupancyWindow window;              // guarded by mu
    std::int64_t newest_ms = INT64_MIN;  // guarded by mu
    explicit SiteWindow(OccupancyWindow w) : window(std::move(w)) {}
  };
  SiteWindow& window_of(const std::string& site_id);

  OccupancyConfig config_;
  std::map<std::string, SiteZones> zones_;
  std::mutex mu_;  // guards sites_ (the map, not the windows)
  std::map<std::string, std::unique_ptr<SiteWindow>> sites_;
};

}  // namespace att
