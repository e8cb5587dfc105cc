// The count a node that counts (counting.mode: edge) sends, and the one description of its
// fields. The node builds it every report_interval_s (capture/edge_counter.h) and sends it to
// POST /api/v1/counts as the body; an evidence picture carries the count of that very frame
// in its X-Count header (protocol/wire.h). The service checks both with parse_node_count and
// stores each as an observation (analysis/ingest).
//
// On the wire, one JSON object:
//
//   {"count":21,"frame_count":19,
//    "boxes":[[412.0,96.5,22.0,24.0,0.91],...],
//    "width":1280,"height":720,
//    "model":"yunet","model_sha256":["8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"],
//    "detector_ms":74.2,"frames_counted":5,"frames_skipped":0,"rate_hz":1.0,
//    "setup_version":3,
//    "health":{"brightness":112.4,...}}
//
// Rules: every member but `health` is required (null or left out: none yet); unknown members
// are ignored; numbers that are counts must be JSON integers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/box.h"
#include "common/error.h"
#include "protocol/node_report.h"

namespace att {

inline constexpr int kMaxCountBoxes = 2000;
// At most this many boxes go with a count a node sends (NodeCount::set_boxes): an evidence
// picture's X-Count must fit in one header line (8 KiB at the service and at nginx).
inline constexpr size_t kMaxBoxesSent = 200;

struct NodeCount {
  int count = 0;        // "count": the windowed count (occupied places), 0..100000
  int frame_count = 0;  // "frame_count": counted in the latest frame alone, 0..100000
  // "boxes": the latest frame's counted detections, [x, y, w, h, score] in its pixels, at
  // most kMaxCountBoxes
  std::vector<Box> boxes;
  int width = 0, height = 0;  // "width", "height": of the counted frames, 1..16384
  std::string model;          // "model": the detector (counting/detector.h names), 1..64 bytes
  // "model_sha256": of each model file the detector uses (64 lowercase hex digits each, at
  // most 8); the service counts only with models it knows.
  std::vector<std::string> model_sha256;
  double detector_ms = 0;           // "detector_ms": median ms per detection since the last report
  std::int64_t frames_counted = 0;  // "frames_counted": frames counted since the last report
  std::int64_t frames_skipped = 0;  // "frames_skipped": sampled but not counted since then
                                    // (the counter was busy, or over its CPU budget)
  double rate_hz = 0;  // "rate_hz": frames counted per second since the last report, >= 0
  std::int64_t setup_version = 0;      // "setup_version": of the site's counting setup in use
  std::optional<HealthScores> health;  // "health": the latest frame's scores; null: none yet
  bool operator==(const NodeCount&) const = default;

  // Sets `boxes` to a frame's counted detections as they may be sent: the kMaxBoxesSent
  // highest scores, each moved inside width x height (set those first; a detector's box may
  // reach past an edge) with its score within 0..1.
  void set_boxes(std::vector<Box> counted);

  std::string to_json() const;
};

// The count in `text`, checked against the rules above; an Error with ErrorCode::kInvalid
// whose message names the member ("boxes[3]") and what it must be. Thread-safe; no state.
Result<NodeCount> parse_node_count(std::string_view text);

}  // namespace att
