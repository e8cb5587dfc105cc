// A site's state as every screen shows it, from what is known of it now: its latest frame,
// its node's latest report, and the roll book's view (whether a period runs, whether an
// offline alert is open). The service computes it with its configured threshold
// (attendance.under_fraction) and sends it; the dashboard only shows it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace att {

// A frame captured longer ago than this is not current: its count is not the room's now.
inline constexpr std::int64_t kFrameCurrentMs = 60'000;
// A node reports every 30 s: one not heard from for two reports and more is not current.
inline constexpr std::int64_t kNodeCurrentMs = 75'000;

enum class SiteState {
  kCameraFault,  // the camera is at fault: a current frame with a health flag, or a current
                 // node report whose camera gives nothing; at any hour
  kNoData,       // nothing received yet, and no offline alert open
  kOffline,      // an offline alert is open, or during a period nothing current has come
  kNoClass,      // no period of the site's schedule runs now
  kShort,        // during a period, the current frame's count is below under_fraction of
                 // the expected attendees
  kOk,           // during a period, the current frame's count is at or above it
};

// "camera_fault", "no_data", "offline", "no_class", "short", "ok".
std::string_view to_string(SiteState state);

// What is known of a site at one moment.
struct SiteFacts {
  int expected = 0;  // attendees
  struct Frame {
    std::int64_t captured_at_ms = 0;
    std::int64_t received_at_ms = 0;
    int count = 0;
    std::vector<std::string> flags;  // its health flags (dark, covered, ...)
  };
  std::optional<Frame> frame;  // the latest
  struct Node {
    std::int64_t received_at_ms = 0;
    bool camera_gives_nothing = false;  // state no_frames, or its camera not playing
    std::vector<std::string> flags;     // the health flags of its report
  };
  std::optional<Node> node;  // the latest report
  // When the service last refused a request its node signed (a model it does not accept, a
  // clock far off, a malformed count...); none since the service started if unset.
  std::optional<std::int64_t> refused_at_ms;
  bool in_class = false;  // a period of the site's schedule runs now
  bool offline_alert_open = false;
};

// The problems a technician is shown of a site's camera, worst first, in this order:
// offline, refused (the service refused its node's newest upload: nothing it sent since was
// accepted), no_frames, dark, covered, blurred, frozen, moved, never, ok.
inline constexpr std::string_view kCameraProblems[] = {"offline", "refused", "no_frames", "dark",
                                                       "covered", "blurred", "frozen",    "moved",
                                                       "never",   "ok"};

struct SiteAssessment {
  SiteState state = SiteState::kNoData;
  bool frame_current = false;         // the latest frame is current (kFrameCurrentMs)
  std::vector<std::string> problems;  // of kCameraProblems, worst first; ["ok"] if none
};

SiteAssessment assess_site(const SiteFacts& facts, std::int64_t now_ms, double under_fraction);

}  // namespace att
