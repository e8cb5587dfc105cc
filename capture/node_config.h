// Settings of one site's capture node (YAML, e.g. config/capture.yaml).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "capture/health.h"
#include "common/error.h"
#include "counting/detector.h"
#include "counting/occupancy.h"

namespace att {

// How the node counts (capture.yaml "counting:").
struct NodeCountingConfig {
  // "edge": the node counts (capture/edge_counter.h) and sends counts and evidence pictures;
  // "central": it sends a frame every sample_interval_s and the service counts (a box too
  // small to count, or one without the model).
  std::string mode = "edge";
  double every_s = 1;                         // edge: a look at the room this often (0.2..60)
  double max_cores = 1;                       // edge: the counting's CPU budget, in cores (0.1..64)
  double report_interval_s = 5;               // edge: a count this often (1..3600)
  double evidence_interval_s = 60;            // edge: an evidence picture this often (5..3600), and
                                              // one at each roll call the service announces
  DetectorConfig detector = node_detector();  // edge: what counts, and where its model is
  OccupancyConfig occupancy;                  // edge: the occupancy window

  // The node's default detector, chosen by measurement (docs/counting.md, "At the site"):
  // yunet-tiled, nearest the people visible on the clips at a third to a half of fused's CPU.
  static DetectorConfig node_detector() {
    DetectorConfig d;
    d.name = "yunet-tiled";
    d.workers = 1;
    return d;
  }
};

struct CaptureConfig {
  std::string site_id;     // required; as in the service's sites.csv
  std::string server_url;  // required; e.g. http://10.0.0.5:8080 or https://...
  // required: the site's key (64 hex digits, from `attendance-server keys --show SITE`),
  // in a file only the node's user may read
  std::filesystem::path secret_file;
  std::filesystem::path ca_file;  // HTTPS: trust this CA (PEM); empty: the system's CAs
  // rtsp://..., file:///path, /path/to/file, v4l2:///dev/video0, videotestsrc://?pattern=ball
  std::string source_uri;
  // true: play files at their own speed and drop frames rather than stall a live source;
  // false: process a file as fast as the consumer takes frames (tests, back-filling).
  bool realtime = true;
  double sample_interval_s = 5.0;  // central: one frame every N seconds of video, until the
                                   // service says otherwise (0.05..3600); edge: health is
                                   // scored this often
  double min_interval_s = 0.2;     // the shortest interval the service may ask for
  int width = 0;                   // scale to this width, keeping the aspect; 0 = camera's own
  int jpeg_quality = 85;           // 30..100
  double stall_timeout_s = 20;     // a live camera silent this long is rebuilt
  bool exit_on_eos = false;        // stop at the end of a file (once all is sent)
  // The sequence counter, the spool and the health reference live here.
  std::filesystem::path state_dir = "capture-state";
  std::int64_t spool_max_bytes = 4LL << 30;        // spool.max_mb: a day of 1080p at 5 s
  std::int64_t spool_min_free_bytes = 64LL << 20;  // spool.min_free_mb: never fill the disk
  int queue_frames = 8;                            // between camera and spool (live drops beyond)
  double heartbeat_s = 30;
  double upload_timeout_s = 15;
  double max_backoff_s = 30;  // retries (camera and server) back off up to this
  HealthConfig health;
  NodeCountingConfig counting;
  // The view a technician confirmed (attendance-capture --confirm-reference); default
  // state_dir/reference.jpg. Without it the "moved" check is off.
  std::filesystem::path reference;
  std::string log_level = "info";
  std::string log_format = "text";  // text, or json: one JSON object per line (common/log.h)
};

// Reads and checks the YAML; every error is in the message. Relative state_dir is taken
// relative to the file.
Result<CaptureConfig> load_capture_config(const std::filesystem::path& path);

// Checks a config however it was assembled (file plus command-line overrides).
Status validate_capture_config(const CaptureConfig& config);

class ConfigErrors;
// The same checks, adding to `errors` (so a file's reading and checking errors are listed
// together).
void check_capture_config(const CaptureConfig& config, ConfigErrors& errors);

}  // namespace att
