// Retention: received pictures are kept storage.frame_days, node reports
// storage.heartbeat_days; the observation rows (counts, boxes, hashes) and the roll calls'
// evidence are kept for good. Runs on a thread of its own, at start and then every
// storage.retention_check_s.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>

#include "analysis/app/server_config.h"
#include "analysis/domain/heartbeat_store.h"
#include "analysis/domain/observation_store.h"
#include "common/error.h"
#include "common/periodic.h"
#include "common/time_util.h"

namespace att {

struct RetentionTotals {
  std::int64_t frames_deleted = 0;  // picture files removed
  std::int64_t frames_missing = 0;  // already gone (removed by hand, or a crash mid-run)
  std::int64_t delete_failed = 0;   // could not be removed (logged; the row is cleared anyway)
  std::int64_t heartbeats_deleted = 0;
  std::int64_t runs = 0;
};

// One pass at `now_ms`: clears expired pictures in the store, then deletes their files.
// A crash between the two leaves files no row names, never a row naming a missing file
// that retention would not retry. Adds what it did to `totals`.
Status run_retention(ObservationStore& observations, HeartbeatStore& heartbeats,
                     const std::filesystem::path& data_dir, const StorageConfig& config,
                     std::int64_t now_ms, RetentionTotals& totals);

class Retention {
 public:
  // `ours`: whether this process runs the pass now (in a service of several processes, the one
  // holding the retention role); every time when none.
  Retention(ObservationStore& observations, HeartbeatStore& heartbeats,
            std::filesystem::path data_dir, StorageConfig config, WallClock clock = now_ms,
            std::function<bool()> ours = {});

  RetentionTotals totals() const;
  // The totals in Prometheus text format.
  std::string render_metrics() const;

 private:
  void run();

  ObservationStore& observations_;
  HeartbeatStore& heartbeats_;
  const std::filesystem::path data_dir_;
  const StorageConfig config_;
  WallClock clock_;
  std::function<bool()> ours_;
  mutable std::mutex mu_;
  RetentionTotals totals_;  // guarded by mu_
  Periodic periodic_;       // last: stopped (joined) first
};

}  // namespace att
