// Counting at the site (counting.mode: edge): the node looks at the room every every_s with
// the same counting library the service uses (detector, occupancy window), and hands what the
// service needs to the spool:
//
//   spool thread: offer(frame) -- one slot: the newest frame waits there; a live camera's
//        |                        frame that finds the slot taken replaces it (the older one
//        |                        is skipped, counted); a file's waits for the counter
//   counter thread: decode, detect, occupancy window; a look starts no sooner than the CPU
//        budget allows (max_cores), frames offered before then are skipped (counted)
//        -> emit(count)     every report_interval_s of capture time: the windowed count, the
//                           latest frame's count and boxes, the model, detector ms, looks
//                           and skips since the last count (protocol/node_count.h)
//        -> emit(evidence)  every evidence_interval_s, at each roll call the service
//                           announced (the first look at or after 1 s before it; kept last
//                           when the spool is full), and every live interval while a
//                           technician watches: the frame's JPEG with its count in X-Count
//
// Thread-safe: offer() from the spool thread; set_roll_calls(), set_live() from the sender
// thread; stats() from any.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "capture/frame_source.h"
#include "capture/node_config.h"
#include "capture/spool.h"
#include "counting/detector.h"
#include "counting/occupancy.h"
#include "protocol/node_count.h"
#include "protocol/node_report.h"
#include "protocol/site_setup.h"

namespace att {

// What the node counts with: one detector, its name and the sha256 of its model files (the
// service accepts counts only from models it knows).
struct CountingModel {
  std::unique_ptr<Detector> detector;
  std::string name;
  std::vector<std::string> model_sha256;
};

// The configured detector with its models found (DetectorConfig::model_dir, then the default
// places). Fails when it cannot be had, or only as a baseline the service would not accept
// (the node then sends frames and the service counts).
Result<CountingModel> load_counting_model(const DetectorConfig& config);

// An occupancy window counting with a site's setup (protocol/site_setup.h).
OccupancyWindow counting_window(const OccupancyConfig& config, const SiteSetup& setup);

struct EdgeCounterStats {
  std::int64_t offered = 0;         // frames offered by the camera
  std::int64_t counted = 0;         // of those, looked at
  std::int64_t skipped_busy = 0;    // replaced while waiting (the counter was still busy)
  std::int64_t skipped_budget = 0;  // offered before the CPU budget allowed another look
  std::int64_t failed = 0;          // could not be decoded or detected on (logged)
  std::int64_t counts = 0;          // counts emitted
  std::int64_t evidence = 0;        // evidence pictures emitted
  double rate_hz = 0;               // looks per second of capture time, over the last count
  double detector_ms = 0;           // median per look, over the last count
  double cpu_share = 0;             // busy time / elapsed time, over the last count (cores)
  int window_count = 0;             // the latest windowed count
  std::int64_t setup_version = 0;   // of the site's counting setup counted with (0: none yet)
};

class EdgeCounter {
 public:
  using Emit = std::function<void(SpoolItem item)>;  // kind "count" or "evidence"

  // `emit` is called on the counter's thread; `realtime` (a live camera): offer() never
  // waits, and frames that find the counter busy are skipped.
  EdgeCounter(NodeCountingConfig config, CountingModel model, bool realtime, Emit emit);
  ~EdgeCounter();  // stop()
  EdgeCounter(const EdgeCounter&) = delete;
  EdgeCounter& operator=(const EdgeCounter&) = delete;

  void start();
  // Counts the frame waiting, if any, then ends the thread. Idempotent.
  void stop();

  // A sampled frame and the latest health scores of the picture (none before the first).
  void offer(CapturedFrame frame, std::optional<HealthScores> health);
  // The site's coming roll-call times, ms since epoch UTC, as the service last said them.
  void set_roll_calls(const std::vector<std::int64_t>& times_ms);
  // A technician watches the site until `until_ms` (wall clock): evidence every `interval_s`.
  void set_live(std::int64_t until_ms, double interval_s);
  // The site's counting setup (protocol/site_setup.h, its signature already checked): counted
  // with from the next look, in a window started again, and named in every count from then.
  // The version in force or already waiting changes nothing.
  void set_setup(std::int64_t version, const SiteSetup& setup);

  EdgeCounterStats stats() const;
  const std::string& model_name() const { return model_.name; }

 private:
  struct Waiting {
    CapturedFrame frame;
    std::optional<HealthScores> health;
  };
  void run();
  void look(const Waiting& w);
  NodeCount count_of(const OccupancyResult& r, int width, int height,
                     const std::optional<HealthScores>& health) const;

  const NodeCountingConfig config_;
  CountingModel model_;
  const bool realtime_;
  const Emit emit_;
  OccupancyWindow window_;         // counter thread only
  std::int64_t window_setup_ = 0;  // the setup version window_ counts with; counter thread only

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::optional<Waiting> waiting_;        // guarded by mu_
  bool stopping_ = false;                 // guarded by mu_
  std::set<std::int64_t> roll_calls_ms_;  // guarded by mu_; not yet served
  std::int64_t live_until_ms_ = 0;        // guarded by mu_
  double live_interval_s_ = 0;            // guarded by mu_
  // A setup waiting for the next look; guarded by mu_.
  std::optional<std::pair<std::int64_t, SiteSetup>> next_setup_;
  EdgeCounterStats stats_;  // guarded by mu_
  std::thread thread_;

  // Counter thread only.
  std::int64_t next_look_steady_ms_ = 0;  // the CPU budget's earliest next look
  std::int64_t last_report_ms_ = -1;      // capture time of the last count; -1: none yet
  std::int64_t last_evidence_ms_ = -1;    // capture time of the last evidence picture
  // Of the last one that is kept when a live view ends (periodic or roll call); counter
  // thread only.
  std::int64_t last_kept_evidence_ms_ = -1;
  std::int64_t looks_since_report_ = 0;
  std::int64_t skipped_at_report_ = 0;
  double busy_ms_since_report_ = 0;
  std::int64_t report_steady_ms_ = 0;
  std::vector<double> detect_ms_;  // since the last count
};

}  // namespace att
