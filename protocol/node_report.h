// The node report: the heartbeat a capture node sends to POST /api/v1/health (protocol/wire.h)
// every heartbeat_s, and the one description of its fields. The node builds it
// (capture/capture_node.cpp); the service checks an arriving body with parse_node_report and
// stores the JSON as sent (analysis/ingest); every reader (the roll book's camera-fault rule,
// the live `node` event, GET /api/v1/sites, /metrics) parses the stored JSON back into a
// NodeReport. The dashboard receives to_json() of it as a site's `node.report`.
//
// On the wire, one JSON object:
//
//   {"state":"ok",
//    "camera":{"playing":true,"last_frame_ms":1783830000000,"last_frame_age_s":1.2,
//              "pipeline_starts":1,"last_error":"","interval_s":5.0},
//    "health":{"brightness":112.4,"sharpness":310.2,"change":4.1,"uniform_share":0.08,
//              "flags":[],"shift":0.004,"rotation":0.1,"matched":212},
//    "spool":{"items":3,"bytes":180224,"max_bytes":1073741824,"dropped":0},
//    "counters":{"frames":812,"spooled":812,"spool_failed":0,"queue_dropped":0,"stored":809,
//                "duplicates":0,"rejected":0},
//    "counting":{"model":"yunet","every_s":1.0,"max_cores":1.0,"rate_hz":0.98,
//                "detector_ms":74.2,"cpu_share":0.08,"looks":4012,"skipped":3,
//                "setup_version":2},
//    "clock_offset_s":0.0,"version":"1.4.0","uptime_s":4060}
//
// Each member is described at its field below. Rules:
// - Every top-level member is optional: a node sends what it knows (`health` is null before
//   its first frame, `spool` null when the spool cannot be read) and a reader shows what is
//   missing as unknown. A member that is null means the same as one left out; to_json()
//   writes every member, null for those not set.
// - A group that is present is whole: each of its members is there with its type and range
//   (`shift`, `rotation` and `matched` of `health` come together or not at all).
// - Unknown members, at any level, are ignored, so that a newer node's report with more
//   fields is still accepted; they are not kept in the struct, so to_json() of a parsed report
//   (what the dashboard receives) carries only the fields described here.
// - Numbers: "whole" members must be JSON integers; the others may be any JSON number.
// - The document may nest at most kMaxNodeReportDepth arrays and objects deep (what is stored
//   is later copied and written out recursively).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace att {

inline constexpr int kMaxNodeReportDepth = 32;

// What the node is doing, as of the report.
enum class NodeState {
  kOk,        // "ok": running, the camera gives frames
  kNoFrames,  // "no_frames": running, but nothing from the camera for 3 intervals (at least
              // the stall timeout): the service raises a camera fault when it lasts
  kStopping,  // "stopping": the node was told to stop; its last report of this run
  kFinished,  // "finished": a file source ended (exit_on_eos); its last report
};
std::string_view to_string(NodeState state);

// `camera`: the camera pipeline.
struct NodeCamera {
  bool playing = false;              // "playing": a pipeline is running
  std::int64_t last_frame_ms = 0;    // "last_frame_ms": wall clock of the last frame; 0: none
  double last_frame_age_s = -1;      // "last_frame_age_s": since then, s; -1: no frame yet
  std::int64_t pipeline_starts = 0;  // "pipeline_starts": pipelines built and set playing, >= 0
  std::string last_error;            // "last_error": why the last pipeline ended; "" if none
  double interval_s = 0;             // "interval_s": the sampling interval now, s, >= 0
  bool operator==(const NodeCamera&) const = default;
};

// `health`: the node's scores of one frame, the same object a frame carries in X-Health
// (capture/health.h computes them). In a report: the latest frame's.
struct HealthScores {
  double brightness = 0;     // "brightness": mean grey level, 0..255
  double sharpness = 0;      // "sharpness": variance of the Laplacian at 640 px wide, >= 0
  double change = -1;        // "change": mean grey change from the previous sample, >= 0;
                             // -1: the first sample
  double uniform_share = 0;  // "uniform_share": share of pixels near the commonest grey, 0..1
  // "flags": the raised problems, in a fixed order: "dark", "covered", "blurred", "frozen",
  // "moved" (any string is accepted, so that a newer node may add one).
  std::vector<std::string> flags;
  // Against the reference view a technician confirmed; only with a reference (matched >= 0).
  double shift = 0;     // "shift": of the view's centre, share of the width, >= 0
  double rotation = 0;  // "rotation": degrees, -180..180
  int matched = -1;     // "matched": features matching the reference, >= 0; -1: no reference
                        // (then none of the three is on the wire)
  bool operator==(const HealthScores&) const = default;

  // Compact JSON, as sent in X-Health and as a report's `health`.
  std::string to_json() const;
};

// `spool`: the node's on-disk queue of items not yet acknowledged.
struct NodeSpool {
  std::int64_t items = 0;      // "items": items held, >= 0
  std::int64_t bytes = 0;      // "bytes": bodies and metadata of those, >= 0
  std::int64_t max_bytes = 0;  // "max_bytes": the spool's bound, >= 0
  std::int64_t dropped = 0;    // "dropped": items dropped to keep the bound, since the spool
                               // was created, >= 0
  bool operator==(const NodeSpool&) const = default;
};

// `counters`: since the node process started, each >= 0.
struct NodeCounters {
  std::int64_t frames = 0;         // "frames": sampled frames taken from the camera
  std::int64_t spooled = 0;        // "spooled": of those, written to the spool
  std::int64_t spool_failed = 0;   // "spool_failed": could not be written (disk): lost
  std::int64_t queue_dropped = 0;  // "queue_dropped": dropped before the spool (it was behind)
  std::int64_t stored = 0;         // "stored": items acknowledged as new by the service
  std::int64_t duplicates = 0;     // "duplicates": acknowledged as already stored
  std::int64_t rejected = 0;       // "rejected": refused for good (4xx) and removed
  bool operator==(const NodeCounters&) const = default;
};

// `counting`: a node that counts the room itself (counting.mode: edge); null for one that
// sends frames for the service to count.
struct NodeCounting {
  std::string model;               // "model": the detector it counts with
  double every_s = 0;              // "every_s": a look this often, as configured, s, >= 0
  double max_cores = 0;            // "max_cores": its CPU budget, cores, >= 0
  double rate_hz = 0;              // "rate_hz": looks per second achieved lately, >= 0
  double detector_ms = 0;          // "detector_ms": median ms per look lately, >= 0
  double cpu_share = 0;            // "cpu_share": cores the counting used lately, >= 0
  std::int64_t looks = 0;          // "looks": frames counted since the node started
  std::int64_t skipped = 0;        // "skipped": frames sampled but not counted (busy, budget)
  std::int64_t setup_version = 0;  // "setup_version": of the site's counting setup in use
  bool operator==(const NodeCounting&) const = default;
};

struct NodeReport {
  std::optional<NodeState> state = std::nullopt;        // "state"
  std::optional<NodeCamera> camera = std::nullopt;      // "camera"
  std::optional<HealthScores> health = std::nullopt;    // "health"
  std::optional<NodeSpool> spool = std::nullopt;        // "spool"
  std::optional<NodeCounters> counters = std::nullopt;  // "counters"
  std::optional<NodeCounting> counting = std::nullopt;  // "counting"
  // "clock_offset_s": the service's clock less the node's, s, as the node applies it (0 while
  // the two differ by less than 2 s).
  std::optional<double> clock_offset_s = std::nullopt;
  std::optional<std::string> version = std::nullopt;    // "version": the node's software
  std::optional<std::int64_t> uptime_s = std::nullopt;  // "uptime_s": since the node started, s
  bool operator==(const NodeReport&) const = default;

  // Compact JSON with every top-level member: null for one that is not set (so a reader
  // always finds the key: `health` is null before the node's first frame).
  std::string to_json() const;

  // Whether the camera gives nothing: state no_frames, or a camera that is not playing.
  bool camera_gives_nothing() const;
  // Items the node lost: dropped by its spool, dropped before it, and not written to it
  // (disk); none when the report has neither spool nor counters.
  std::optional<std::int64_t> items_lost() const;
};

// Health scores alone (a count's `health`), checked as a report's `health` is; otherwise an
// Error with ErrorCode::kInvalid, its message "<document>: health.<member> must be ...".
Result<HealthScores> parse_health_scores(std::string_view text, const std::string& document);

// The report in `text`, checked against the rules above. A malformed one is an Error with
// ErrorCode::kInvalid whose message names the member (as a path: "spool.items") and what it
// must be. Thread-safe; no state.
Result<NodeReport> parse_node_report(std::string_view text);

}  // namespace att
