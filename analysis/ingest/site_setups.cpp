#include "analysis/ingest/site_setups.h"

#include <algorithm>
#include <ranges>
#include <utility>

#include "analysis/ingest/ingest.h"
#include "common/log.h"
#include "counting/jpeg.h"

namespace att {

SiteZones zones_of(const SiteSetup& setup) {
  const auto zones = [](const std::vector<SetupZone>& from) {
    std::vector<Zone> out;
    for (const SetupZone& z : from) {
      Zone zone{z.name, {}};
      for (const auto& p : z.points) zone.points.emplace_back(p[0], p[1]);
      out.push_back(std::move(zone));
    }
    return out;
  };
  return SiteZones{zones(setup.count), zones(setup.exclude), setup.min_score};
}

std::vector<Box> shares_of(const std::vector<Box>& detections, cv::Size2f picture) {
  std::vector<Box> out;
  if (picture.width <= 0 || picture.height <= 0) return out;
  const float w = picture.width, h = picture.height;
  for (const Box& b : detections) {
    const float x = std::clamp(b.x / w, 0.0f, 1.0f), y = std::clamp(b.y / h, 0.0f, 1.0f);
    out.push_back(Box{x, y, std::clamp(b.w / w, 0.0f, 1.0f - x),
                      std::clamp(b.h / h, 0.0f, 1.0f - y), std::clamp(b.score, 0.0f, 1.0f)});
  }
  return out;
}

SiteSetups::SiteSetups(SiteStore& store, Counting& counting, DetectorPool& detectors,
                       OccupancyConfig config)
    : store_(store), counting_(counting), detectors_(detectors), config_(config) {}

namespace {

Result<SiteSetups::InForce> in_force_of(const SiteStore::Setup& stored) {
  auto setup = parse_site_setup(stored.body);
  if (!setup)
    return fail("stored setup version " + std::to_string(stored.version) +
                " cannot be used: " + setup.error().message);
  return SiteSetups::InForce{stored.version, std::move(*setup), stored.created_ms, stored.made_by};
}

}  // namespace

Status SiteSetups::load(const std::vector<std::string>& sites,
                        const std::map<std::string, SiteSetup>& initial, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  for (const std::string& site_id : sites) {
    const auto given = initial.find(site_id);
    const SiteSetup file = given == initial.end() ? SiteSetup{} : given->second;
    auto history = store_.setup_history(site_id);
    if (!history) return std::unexpected(history.error());
    // The file's setup when the latest was saved: the last one from the file, or none.
    const auto from_file = std::ranges::find_if(
        history->rbegin(), history->rend(),
        [](const SiteStore::Setup& s) { return s.made_by == SiteStore::kSetupFromConfig; });
    const std::string file_then =
        from_file == history->rend() ? SiteSetup{}.to_json() : from_file->body;
    const bool saved_stands = !history->empty() &&
                              history->back().made_by != SiteStore::kSetupFromConfig &&
                              file_then == file.to_json();
    InForce now;
    if (saved_stands) {
      auto kept = in_force_of(history->back());
      if (!kept) return fail("site " + site_id + ": " + kept.error().message);
      now = std::move(*kept);
      log::get("server")->info("site {}: counting setup version {} saved by {} stands", site_id,
                               now.version, now.made_by);
    } else if (history->empty() && file == SiteSetup{}) {
      now = InForce{};  // version 0: the node's own until it is sent one
    } else {
      auto put = store_.put_setup(site_id, file.to_json(), now_ms, SiteStore::kSetupFromConfig);
      if (!put) return std::unexpected(put.error());
      auto parsed = in_force_of(*put);
      if (!parsed) return fail("site " + site_id + ": " + parsed.error().message);
      now = std::move(*parsed);
    }
    in_force_[site_id] = now;
    apply(site_id, now);
  }
  return {};
}

void SiteSetups::publish_to(Ingest& ingest) {
  std::lock_guard lock(mu_);
  ingest_ = &ingest;
  for (const auto& [site_id, setup] : in_force_) {
    ingest.set_setup(site_id, setup.version, setup.setup.to_json());
  }
}

Result<SiteSetups::InForce> SiteSetups::in_force(const std::string& site_id) const {
  std::lock_guard lock(mu_);
  const auto it = in_force_.find(site_id);
  if (it == in_force_.end())
    return std::unexpected(Error{"no site '" + site_id + "'", ErrorCode::kNotFound});
  return it->second;
}

Result<SiteSetups::InForce> SiteSetups::change(const std::string& site_id, const SiteSetup& setup,
                                               const std::string& made_by, std::int64_t now_ms,
                                               std::optional<std::int64_t> based_on) {
  std::lock_guard lock(mu_);
  const auto it = in_force_.find(site_id);
  if (it == in_force_.end())
    return std::unexpected(Error{"no site '" + site_id + "'", ErrorCode::kNotFound});
  // Another process of the service may have saved one since this one last heard.
  if (auto s = catch_up(site_id, it->second); !s) return std::unexpected(s.error());
  if (based_on && *based_on != it->second.version) {
    return std::unexpected(Error{"the site's setup changed meanwhile (now version " +
                                     std::to_string(it->second.version) + " by " +
                                     it->second.made_by + "); reload and draw again",
                                 ErrorCode::kConflict});
  }
  if (it->second.version > 0 && it->second.setup == setup) return it->second;
  auto put = store_.put_setup(site_id, setup.to_json(), now_ms, made_by);
  if (!put) return std::unexpected(put.error());
  it->second = InForce{put->version, setup, put->created_ms, put->made_by};
  apply(site_id, it->second);
  log::get("server")->info(
      "site {}: counting setup version {} by {}: {} audience, {} excluded "
      "area(s), {} empty-room spot(s), min score {}",
      site_id, put->version, made_by, setup.count.size(), setup.exclude.size(),
      setup.empty_reference.size(), setup.min_score);
  if (changed_) changed_(site_id);
  return it->second;
}

Status SiteSetups::reload(const std::string& site_id) {
  std::lock_guard lock(mu_);
  const auto it = in_force_.find(site_id);
  if (it == in_force_.end())
    return std::unexpected(Error{"no site '" + site_id + "'", ErrorCode::kNotFound});
  return catch_up(site_id, it->second);
}

Status SiteSetups::reload_all() {
  std::lock_guard lock(mu_);
  Status first;
  for (auto& [site_id, in_force] : in_force_) {
    if (auto s = catch_up(site_id, in_force); !s && first) first = s;
  }
  return first;
}

Status SiteSetups::catch_up(const std::string& site_id, InForce& in_force) {
  auto latest = store_.latest_setup(site_id);
  if (!latest) return std::unexpected(latest.error());
  if (!*latest || (*latest)->version <= in_force.version) return {};
  auto parsed = in_force_of(**latest);
  if (!parsed) return fail("site " + site_id + ": " + parsed.error().message);
  in_force = std::move(*parsed);
  apply(site_id, in_force);
  log::get("server")->info("site {}: counting setup version {} by {}, saved by another process",
                           site_id, in_force.version, in_force.made_by);
  return {};
}

void SiteSetups::apply(const std::string& site_id, const InForce& setup) {
  counting_.set_site(site_id, zones_of(setup.setup), setup.setup.empty_reference,
                     cv::Size2f(1, 1));  // the reference is in shares of its picture
  if (ingest_) ingest_->set_setup(site_id, setup.version, setup.setup.to_json());
}

std::vector<Judged> SiteSetups::judge(const std::string& site_id, const SiteSetup& setup,
                                      cv::Size picture, const std::vector<Box>& detections) const {
  OccupancyWindow window(config_, zones_of(setup));
  window.set_empty_reference(setup.empty_reference, cv::Size2f(1, 1));
  window.set_perspective(counting_.perspective(site_id));
  std::vector<Judged> out;
  out.reserve(detections.size());
  for (const Box& b : detections) out.push_back(window.judge(b, picture));
  return out;
}

Result<std::vector<Box>> SiteSetups::detections_of(const Observation& o, std::string_view jpeg,
                                                   std::int64_t max_pixels) {
  {
    std::lock_guard lock(detected_mu_);
    const auto it = detected_.find(o.site_id);
    if (it != detected_.end() && it->second.first == o.sequence) return it->second.second;
  }
  auto bgr =
      decode_jpeg({reinterpret_cast<const unsigned char*>(jpeg.data()), jpeg.size()}, max_pixels);
  if (!bgr) return std::unexpected(bgr.error());
  auto boxes = detectors_.detect(*bgr);
  if (!boxes) return std::unexpected(boxes.error());
  std::lock_guard lock(detected_mu_);
  detected_[o.site_id] = {o.sequence, *boxes};
  return boxes;
}

}  // namespace att
