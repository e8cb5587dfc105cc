// Each site's counting setup at the service (protocol/site_setup.h): the audience area, the
// excluded areas, the empty-room reference and the lowest score counted. One setup is in
// force per site: the centre counts its frames with it (Counting) and its node is sent it with
// its next answer (Ingest). Every change is a new numbered version in the store with who made
// it, and applies from the next frame, without a restart.
//
// config/zones.yaml gives each site's first setup. A setup saved from the dashboard stands
// over it across restarts for as long as the file's setup of that site stays as it was; once
// the file's setup of a site is edited, the file's new setup is put in force at the next start
// (the file is the province's to ship, the dashboard the technician's on the day).
//
// Thread-safe: changes of any sites may come from several HTTP threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analysis/domain/observation_store.h"
#include "analysis/domain/site_store.h"
#include "common/box.h"
#include "common/error.h"
#include "counting/counting.h"
#include "counting/detector_pool.h"
#include "counting/occupancy.h"
#include "protocol/site_setup.h"

namespace att {

class Ingest;

// A setup's zones as the occupancy window counts with them.
SiteZones zones_of(const SiteSetup& setup);
// Detections on a picture of `picture` size in shares of it, inside it (a detection may reach
// a pixel past its edge): how a setup keeps an empty-room reference.
std::vector<Box> shares_of(const std::vector<Box>& detections, cv::Size2f picture);

class SiteSetups {
 public:
  // Every reference must outlive this object; `config` is the counting's.
  SiteSetups(SiteStore& store, Counting& counting, DetectorPool& detectors, OccupancyConfig config);

  // Puts each site's setup in force at start: `initial` (from config/zones.yaml, empty for a
  // site it does not name), unless a setup saved later from the dashboard stands over the
  // same initial setup. Every site of `sites` gets one (version 0 while it never had any).
  Status load(const std::vector<std::string>& sites,
              const std::map<std::string, SiteSetup>& initial, std::int64_t now_ms);
  // From now on, each setup in force and every change is handed to `ingest` for its node.
  void publish_to(Ingest& ingest);
  // Called with the site after each change() that made a new version (a service of several
  // processes tells the others). Set before changes come.
  void on_change(std::function<void(const std::string& site_id)> changed) {
    changed_ = std::move(changed);
  }

  struct InForce {
    std::int64_t version = 0;  // 0: the site never had a setup (everything counts)
    SiteSetup setup;
    std::int64_t created_ms = 0;
    std::string made_by;  // SiteStore::kSetupFromConfig, or a user
  };
  // The site's setup in force; an Error kNotFound for a site not loaded.
  Result<InForce> in_force(const std::string& site_id) const;
  // Puts `setup` in force for the site, made by `made_by`, from its next frame. The same setup
  // as the one in force is no new version. With `based_on`, only over that version: an Error
  // kConflict naming the version in force (and who made it) when another change came first.
  Result<InForce> change(const std::string& site_id, const SiteSetup& setup,
                         const std::string& made_by, std::int64_t now_ms,
                         std::optional<std::int64_t> based_on = std::nullopt);

  // Puts the store's latest setup of the site in force when it is newer than the one in force
  // here: another process of the service saved it (analysis/store/pg_cluster.h tells when).
  Status reload(const std::string& site_id);
  // reload() of every site: after this process could not hear the others for a while.
  // Errors: the first site's that failed (the others are reloaded all the same).
  Status reload_all();

  // What `setup` would do at the site to the detections of one picture of `picture` size: one
  // judgement per detection, in their order, under the same rules as the counting, with the
  // head sizes its camera has taught so far.
  std::vector<Judged> judge(const std::string& site_id, const SiteSetup& setup, cv::Size picture,
                            const std::vector<Box>& detections) const;

  // Every detection on the picture of `o` (its JPEG, `jpeg`) before any setup, by the
  // service's detector (an observation keeps only the boxes it counted); the latest picture's
  // of each site kept, so that a page asking again costs nothing.
  Result<std::vector<Box>> detections_of(const Observation& o, std::string_view jpeg,
                                         std::int64_t max_pixels);

 private:
  void apply(const std::string& site_id, const InForce& setup);  // counting and ingest
  // reload() of one site's entry; caller holds mu_.
  Status catch_up(const std::string& site_id, InForce& in_force);

  SiteStore& store_;
  Counting& counting_;
  DetectorPool& detectors_;
  OccupancyConfig config_;
  mutable std::mutex mu_;  // serialises changes; guards in_force_ and ingest_
  std::map<std::string, InForce> in_force_;
  Ingest* ingest_ = nullptr;
  std::function<void(const std::string&)> changed_;
  std::mutex detected_mu_;                                                     // guards detected_
  std::map<std::string, std::pair<std::int64_t, std::vector<Box>>> detected_;  // site: seq, boxes
};

}  // namespace att
