#include "analysis/domain/site_state.h"

#include <algorithm>

namespace att {
namespace {

// The camera's problems: none ever heard of; nothing heard for a while; else refused (a
// refusal newer than its newest observation), no current frame (or the node says its camera
// gives nothing) and the health flags of the freshest word from it.
std::vector<std::string> camera_problems(const SiteFacts& f, std::int64_t now, bool frame_current) {
  if (!f.frame && !f.node && !f.refused_at_ms) return {"never"};
  const std::int64_t refused_at = f.refused_at_ms.value_or(0);
  const std::int64_t last_seen = std::max(
      {f.frame ? f.frame->received_at_ms : 0, f.node ? f.node->received_at_ms : 0, refused_at});
  if (now - last_seen > kFrameCurrentMs) return {"offline"};
  std::vector<std::string> out;
  if (refused_at > (f.frame ? f.frame->received_at_ms : 0)) out.push_back("refused");
  if (!frame_current || (f.node && f.node->camera_gives_nothing)) out.push_back("no_frames");
  static const std::vector<std::string> none;
  const std::vector<std::string>& flags =
      frame_current ? f.frame->flags : (f.node ? f.node->flags : none);
  const auto rank = [](std::string_view p) {
    return std::ranges::find(kCameraProblems, p) - std::begin(kCameraProblems);
  };
  for (const std::string& flag : flags) {
    if (rank(flag) < std::ssize(kCameraProblems) && std::ranges::find(out, flag) == out.end())
      out.push_back(flag);
  }
  if (out.empty()) return {"ok"};
  std::ranges::stable_sort(out, {}, rank);
  return out;
}

SiteState state_of(const SiteFacts& f, std::int64_t now, bool frame_current,
                   double under_fraction) {
  if (!f.frame && !f.node) return f.offline_alert_open ? SiteState::kOffline : SiteState::kNoData;
  if (frame_current && !f.frame->flags.empty()) return SiteState::kCameraFault;
  const bool node_current = f.node && now - f.node->received_at_ms <= kNodeCurrentMs;
  if (!frame_current && node_current && f.node->camera_gives_nothing)
    return SiteState::kCameraFault;
  if (!f.in_class) return f.offline_alert_open ? SiteState::kOffline : SiteState::kNoClass;
  if (frame_current) {
    return f.frame->count >= under_fraction * f.expected ? SiteState::kOk : SiteState::kShort;
  }
  if (!f.frame && node_current && !f.offline_alert_open) return SiteState::kNoData;
  return SiteState::kOffline;
}

}  // namespace

std::string_view to_string(SiteState state) {
  switch (state) {
    case SiteState::kCameraFault:
      return "camera_fault";
    case SiteState::kNoData:
      return "no_data";
    case SiteState::kOffline:
      return "offline";
    case SiteState::kNoClass:
      return "no_class";
    case SiteState::kShort:
      return "short";
    case SiteState::kOk:
      return "ok";
  }
  return "no_data";
}

SiteAssessment assess_site(const SiteFacts& facts, std::int64_t now_ms, double under_fraction) {
  SiteAssessment a;
  a.frame_current = facts.frame && now_ms - facts.frame->captured_at_ms <= kFrameCurrentMs;
  a.state = state_of(facts, now_ms, a.frame_current, under_fraction);
  a.problems = camera_problems(facts, now_ms, a.frame_current);
  return a;
}

}  // namespace att
