// One site's node, three threads around the spool (four when it counts):
//
//   camera thread (Camera: GStreamer, its own main loop)
//        | FrameQueue (bounded; a live camera drops the oldest, counted)
//   spool thread (run()'s caller): health scores of each frame, then
//        | - a node that sends frames (no CountingModel): the frame and its scores written
//        |   durably to the Spool;
//        | - a node that counts (given a CountingModel): the frame offered to the
//        |   EdgeCounter (capture/edge_counter.h), whose thread spools counts and evidence
//        |   pictures; health is scored every sample_interval_s;
//        | a heartbeat every heartbeat_s, written even when the camera gives nothing
//   sender thread: the oldest spooled item, signed and uploaded, removed from the spool
//        only when the service acknowledges it; retried with jittered backoff forever; the
//        service's answer sets the sampling interval (a node that counts keeps every_s, and
//        takes the roll-call times and live view from it).
//
// So a frame is either in the spool, acknowledged, or counted in NodeStats with a logged
// reason (dropped in the queue, refused by the disk, refused by the service, or taken only
// for a live view that has ended).
//
// Live view: while the service's answers ask for it, the camera samples at the live
// interval. Of those frames, the ones beyond the node's normal samples (a node that sends
// frames: more than one per normal interval; a node that counts: evidence pictures that are
// neither periodic nor a roll call's) are spooled as live-only (SpoolItem::live). When the
// view ends (an answer no longer asks for it, or its time is up without word from the
// service) the live-only items still spooled are dropped and counted (live_dropped), so that
// the sender goes on with the present instead of a backlog that nobody watches.
//
// Clock: every answer of the service carries its clock. When the node's differs by 2 s or
// more, the node stamps what it samples with the service's time (its own plus the offset),
// says so in its log and heartbeats, and re-stamps an item the service refused as captured
// in the future. Items sampled before the node first reached the service in this run carry
// the node's own clock: one that is behind is stored at that time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <optional>
#include <string>

#include "capture/camera.h"
#include "capture/edge_counter.h"
#include "capture/health.h"
#include "capture/node_config.h"
#include "capture/sequence_file.h"
#include "capture/spool.h"
#include "capture/uploader.h"
#include "protocol/node_report.h"

namespace att {

struct NodeStats {
  std::int64_t frames = 0;         // sampled frames taken from the camera
  std::int64_t spooled = 0;        // frames (counts and evidence, for a node that counts)
                                   // written to the spool
  std::int64_t spool_failed = 0;   // could not be written (disk full, ...): lost, logged
  std::int64_t queue_dropped = 0;  // dropped before the spool because it was behind
  std::int64_t heartbeats = 0;     // heartbeats written to the spool
  std::int64_t stored = 0;         // items acknowledged as new by the service
  std::int64_t duplicates = 0;     // acknowledged as already stored (a lost ack)
  std::int64_t rejected = 0;       // refused for good (4xx): removed, logged with the reason
  std::int64_t live_dropped = 0;   // taken only for a live view, dropped when it ended, logged
  std::int64_t pipeline_starts = 0;
  std::int64_t left_in_spool = 0;  // at stop; sent after the next start
  EdgeCounterStats counting;       // a node that counts
};

class CaptureNode {
 public:
  // `secret`-signed uploads go through `uploader`; `spool` and `sequence` are the node's
  // durable state (state_dir). With `counting` the node counts (config.counting); without,
  // it sends frames for the service to count.
  CaptureNode(CaptureConfig config, Uploader& uploader, SequenceFile& sequence, Spool& spool,
              std::optional<CountingModel> counting = std::nullopt);

  // Runs until `stop` is set (checked at least every 200 ms) or, with config.exit_on_eos,
  // until the file has ended and everything spooled has been acknowledged. On stop, frames
  // already sampled are written to the spool and a last heartbeat says the node is stopping;
  // what is not yet acknowledged stays in the spool for the next start.
  NodeStats run(const std::atomic<bool>& stop);

 private:
  void take(CapturedFrame frame);
  // Spools a node report (protocol/node_report.h) in `state`.
  void heartbeat(NodeState state);
  void put(SpoolItem item);
  void send_loop();
  void apply_interval(double seconds);
  // The service's answer says whether a live view runs (until `until_ms`; 0: none).
  void note_live(std::int64_t until_ms);
  // The live view has ended (`why`): the live-only items still spooled are dropped, counted.
  void end_live(const char* why);
  void apply_answer(const UploadOutcome& out);
  // The site's counting setup to the counter (and, with `keep`, to state_dir/setup.json);
  // false when its body does not parse (logged).
  bool use_setup(const SignedSetup& setup, bool keep);
  // The setup kept in state_dir, when it is there and signed with the site's key.
  void load_setup();
  static constexpr char kSetupFile[] = "setup.json";
  // The view the "moved" check compares with, and when it was last confirmed from the
  // dashboard (ms, in state_dir/kViewConfirmedFile), so that one confirmation is taken once.
  std::filesystem::path reference_path() const;
  static constexpr char kViewConfirmedFile[] = "reference.confirmed";
  // A frame taken as the reference view for the confirmation of `confirmed_ms` (spool thread).
  void take_reference(const CapturedFrame& frame, const cv::Mat& grey, std::int64_t confirmed_ms);
  void learn_clock(const UploadOutcome& out);
  std::int64_t service_time(std::int64_t node_ms) const { return node_ms + clock_offset_ms_; }
  bool spool_empty();

  CaptureConfig config_;
  Uploader& uploader_;
  SequenceFile& sequence_;
  Spool& spool_;
  std::mutex spool_mu_;  // the spool is shared by the spool and sender threads

  HealthMonitor health_;
  // A confirmation of the view (its ms) that the next frame answers; 0: none waiting. Set by
  // whoever applies a setup, taken by the spool thread.
  std::atomic<std::int64_t> view_to_confirm_ms_{0};
  std::optional<HealthScores> last_health_;  // the latest frame's; none before the first
  std::int64_t last_health_ms_ = -1;         // capture time it was scored at
  std::optional<CountingModel> model_;       // until run() hands it to the counter
  std::unique_ptr<EdgeCounter> counter_;     // during run(), for a node that counts
  std::string last_flags_;                   // to log changes only
  Camera* camera_ = nullptr;                 // during run()
  FrameQueue* queue_ = nullptr;
  std::int64_t started_ms_ = 0;

  // The live view the service's latest answer asked for, until this wall-clock time (ms);
  // 0: none. Set by the sender thread, ended by it or by the spool thread when it is up.
  std::atomic<std::int64_t> live_until_ms_{0};
  // A node that sends frames: the interval the service asks for when nobody watches, ms
  // (set by the sender thread), and the capture time of the last normal sample (spool
  // thread only).
  std::atomic<std::int64_t> normal_interval_ms_{0};
  std::int64_t last_sample_ms_ = -1;

  std::atomic<bool> sending_{false};
  // The service's clock less the node's, applied when 2 s or more; 0 until known.
  std::atomic<std::int64_t> clock_offset_ms_{0};
  std::mutex wake_mu_;
  std::condition_variable wake_;  // an item was spooled, or the sender must stop

  std::mutex stats_mu_;
  NodeStats stats_;  // guarded by stats_mu_
};

}  // namespace att
