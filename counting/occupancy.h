// From noisy per-frame detections to a stable count of occupied places (DESIGN.md,
// "counting"). One OccupancyWindow per site, fed every frame in capture-time order.
//
// Per frame, a detection counts only if it is inside the audience zone, outside every
// excluded zone, of a plausible head size for its row (PerspectiveModel, learnt from the
// site's own confident detections) and not on a spot that fires in the empty-room reference.
// Detections then vote for places; a place is occupied while it is seen in enough of the
// window's frames, with hysteresis so the count does not flicker, and not if it never moves
// (a chair back fires at the same pixels all day; a seated person does not).
#pragma once

#include <cstdint>
#include <deque>
#include <opencv2/core.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/box.h"

namespace att {

// A polygon in normalised frame coordinates (0..1 across and down), so zones survive a
// change of camera resolution.
struct Zone {
  std::string name;
  std::vector<cv::Point2f> points;
};

struct SiteZones {
  std::vector<Zone> count;    // the audience area; empty = the whole frame
  std::vector<Zone> exclude;  // stage, door, TV screen...
  float min_score = 0;        // detections scored below this are not counted; 0 = all
  // Whether a detection centred at (x, y) in a width x height frame is counted.
  bool counts(float x, float y, int width, int height) const;
  // Whether (x, y) is in the audience area (anywhere, when there is none).
  bool in_audience(float x, float y, int width, int height) const;
  // The first excluded zone (x, y) lies in; none when it lies in none.
  const Zone* excluded_by(float x, float y, int width, int height) const;
};

// Why one detection of a frame is counted or not, in the order the rules are applied.
enum class Verdict {
  kCounted,
  kLowScore,         // below the site's min_score
  kOutsideAudience,  // outside every audience zone
  kExcluded,         // in an excluded zone (Judged::zone names it)
  kWrongSize,        // not a head's size for its row (the perspective learnt so far)
  kEmptyRoom,        // on a spot that fires in the empty-room reference
};
const char* to_string(Verdict verdict);  // "counted", "low_score", "outside_audience", ...

struct Judged {
  Verdict verdict = Verdict::kCounted;
  std::string zone;  // the excluded zone, for kExcluded
};

struct OccupancyConfig {
  double window_s = 300;         // sliding window
  int min_hits = 2;              // a place needs at least this many sightings in the window
  double enter_fraction = 0.30;  // ...and to be seen in this share of the window's frames
  double leave_fraction = 0.10;  // once occupied, it stays so down to this share
  double match_radius = 1.0;     // a detection joins a place within this many head widths
  // Stillness: a place seen at least `still_min_hits` times whose centre never moved more
  // than `still_motion` head widths and whose picture never changed by more than
  // `still_pixel_diff` grey levels (mean absolute) is furniture.
  int still_min_hits = 6;
  double still_motion = 0.04;
  double still_pixel_diff = 2.5;
  // Perspective: confident detections (score >= perspective_score) teach the head size per
  // row; once `perspective_min_samples` are in, a box more than `perspective_tolerance`
  // times off the expected size is not a head.
  double perspective_score = 0.8;
  int perspective_min_samples = 20;
  double perspective_tolerance = 2.0;
};

// Head size (sqrt of box area) as a linear function of the box centre's row, fitted by
// least squares with outliers (> 50 % off) refitted away. Keeps the newest samples only.
class PerspectiveModel {
 public:
  explicit PerspectiveModel(int min_samples = 20, size_t max_samples = 400)
      : min_samples_(min_samples), max_samples_(max_samples) {}
  void add(const Box& box);
  bool ready() const { return fitted_; }
  double expected_size(double centre_y) const;  // pixels; needs ready()
  // True when not ready, or when the box's size is within `tolerance` times the expected.
  bool plausible(const Box& box, double tolerance) const;
  int samples() const { return static_cast<int>(samples_.size()); }

 private:
  void fit();
  int min_samples_;
  size_t max_samples_;
  std::deque<cv::Point2d> samples_;  // (centre y, size)
  bool fitted_ = false;
  double slope_ = 0, intercept_ = 0;
  int since_fit_ = 0;
};

struct Place {
  cv::Point2f centre;   // frame pixels
  float size = 0;       // head width, pixels
  int hits = 0;         // sightings in the window
  double fraction = 0;  // hits / frames in the window
  bool occupied = false;
  bool still = false;  // never moved: furniture, not counted
};

struct OccupancyResult {
  int frame_count = 0;       // detections counted in this frame alone (after zones and filters)
  int window_count = 0;      // occupied places: the reported count
  std::vector<Box> counted;  // this frame's counted detections, for the evidence picture
};

class OccupancyWindow {
 public:
  explicit OccupancyWindow(OccupancyConfig config = {}, SiteZones zones = {});

  // Adds one frame's detections, taken at `t_ms` (capture time, non-decreasing) on a frame
  // of `size`. `gray` (optional, same size) lets stillness look at pixels, not only boxes.
  OccupancyResult add(std::int64_t t_ms, cv::Size size, const std::vector<Box>& detections,
                      const cv::Mat& gray = {});

  // The detections of a frame that count (zones, perspective as learnt so far, empty-room
  // reference), without adding anything to the window.
  std::vector<Box> countable(cv::Size size, const std::vector<Box>& detections) const;
  // The same rules, one detection at a time, saying which one refused it.
  Judged judge(const Box& detection, cv::Size size) const;

  // An empty-room reference: detections on a frame taken with nobody there. Detections on
  // the same spots (same place, similar size) are not counted afterwards. Replaces any
  // earlier reference.
  // `picture`: the size of the picture the detections were made on, when it is not the frames'
  // (a reference in shares of the picture, as a site's setup sends it, is of size 1x1).
  void set_empty_reference(const std::vector<Box>& detections, cv::Size2f picture = {});
  size_t reference_spots() const { return reference_.size(); }

  int count() const { return count_; }
  const std::vector<Place>& places() const { return places_view_; }
  const PerspectiveModel& perspective() const { return perspective_; }
  // Carries a head-size model learnt on the same camera over (a new setup of the site).
  void set_perspective(PerspectiveModel model) { perspective_ = std::move(model); }

 private:
  struct Sighting {
    std::int64_t t_ms;
    cv::Point2f centre;
    cv::Mat patch;  // small grey crop, empty without a grey frame
  };
  struct Track {
    cv::Point2f centre;
    float size = 0;
    std::deque<Sighting> sightings;
    bool occupied = false;
    bool still = false;
  };

  bool on_reference(const Box& b, cv::Size frame) const;
  void update_stillness(Track& track) const;
  void merge_close_tracks();

  OccupancyConfig config_;
  SiteZones zones_;
  PerspectiveModel perspective_;
  std::vector<Box> reference_;
  cv::Size2f reference_size_;        // empty: the frames' own
  std::deque<std::int64_t> frames_;  // capture times of the frames in the window
  std::vector<Track> tracks_;
  std::vector<Place> places_view_;
  int count_ = 0;
};

}  // namespace att
