// Accepting what capture nodes send: authenticate the request (the site's signature), then
// - for a frame: detect, count, keep the JPEG and record the observation;
// - for a node's count (a node that counts itself): record it as an observation, without a
//   picture; for its evidence picture: keep the JPEG and record it with the node's count of
//   it. Both only from a model the service knows (IngestOptions::allowed_models);
// - for a heartbeat: record the node's report.
// What was stored goes on to the listeners (the live hub, the roll book). Every answer tells
// the node the interval it should sample at next, the site's coming roll-call times and its
// counting setup's version, and carries the setup itself, signed, to a node that counts with
// another (protocol/site_setup.h).
// Pure request -> reply logic, so it is tested without HTTP. Thread-safe: called from the
// HTTP worker threads at once.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/domain/ingest_listener.h"
#include "analysis/domain/province.h"
#include "analysis/domain/site_keys.h"
#include "analysis/domain/store.h"
#include "analysis/ingest/ingest_queue.h"
#include "analysis/ingest/metrics.h"
#include "common/log.h"
#include "common/time_util.h"
#include "counting/counting.h"
#include "counting/detector_pool.h"
#include "counting/models.h"
#include "protocol/node_count.h"
#include "protocol/site_setup.h"

namespace att {

// What the service tells the capture nodes (server.yaml "nodes:").
struct NodesConfig {
  std::filesystem::path site_keys_csv;  // site_id,secret; see analysis/domain/site_keys.h
  double sample_interval_s = 5;         // the interval every node is asked to sample at
  double live_interval_s = 0.5;         // while a technician watches the site live
  double live_duration_s = 60;          // how long one live-view request lasts
  // The sha256 of every model file a node that counts may use: by default the models the
  // service knows and has measured (counting/models.h).
  std::vector<std::string> allowed_models = {yunet_2022mar().sha256, lffd_head_v1().sha256};
};

// One signed request from a capture node, as received (protocol/wire.h).
struct Upload {
  std::string site_id;       // X-Site-Id
  std::string sequence;      // X-Sequence, as sent
  std::string capture_time;  // X-Capture-Time, as sent
  std::string signature;     // X-Signature
  std::string extra;         // the path's signed extra header (wire::extra_header), as sent
  std::string content_type;
  std::string body;
};

// The HTTP answer: status and a JSON body. Errors carry "error" (a sentence) and "code"
// (stable, for programs): missing_site, bad_signature (401 alike for an unknown site, a site
// without a key, and a missing or wrong signature), bad_sequence, bad_capture_time,
// capture_time_in_future, capture_time_too_old, unsupported_media_type, empty_body, body_too_large,
// bad_health, bad_report, bad_dropped, bad_count, count_mismatch, unknown_model, bad_jpeg,
// image_too_large, sequence_conflict, queue_full, site_busy (503 with Retry-After),
// detector_failed, storage_failed.
struct IngestReply {
  int status = 500;
  nlohmann::json body;
  int retry_after_s = 0;  // > 0: the Retry-After header of a 503
};

struct IngestOptions {
  std::string detector_name;
  std::filesystem::path data_dir;  // received frames go under frames/<site>/
  std::int64_t max_body_bytes = 4 << 20;
  std::int64_t max_image_pixels = 3840LL * 2160;
  SiteKeys keys;            // a site without a key cannot upload
  NodesConfig nodes;        // the intervals the nodes are told
  IngestQueueLimits queue;  // frames in hand before 503
  // A capture time further ahead of the server's clock than this is refused (the node's
  // clock is wrong); one older than max_age_s too (a replay, or a clock reset to 1970).
  // 0 = no limit. Frames from a spool after a long outage are legitimately hours old.
  std::int64_t max_future_s = 300;
  std::int64_t max_age_s = 30 * 24 * 3600;
  // The sha256 of every model file a node may count with (NodesConfig::allowed_models). A
  // count or evidence from a node using any other file is refused (unknown_model).
  std::set<std::string> allowed_models;
  // A site's roll-call times in [from, to) (the roll book's), told to its node; none if unset.
  std::function<std::vector<std::int64_t>(const std::string& site_id, std::int64_t from_ms,
                                          std::int64_t to_ms)>
      roll_calls = {};
  double roll_calls_ahead_s = 3 * 3600;  // how far ahead an answer tells them
};

// The newest refusal of a request its site's key signed (a node's own mistake, not the
// service's: statuses 400-499 but 401 and 403), and how many since the service started:
// what a technician is shown of a node the service turns away.
struct NodeRefusal {
  std::int64_t at_ms = 0;
  int status = 0;
  std::string code;
  std::string message;
  std::int64_t count = 0;
};

class Ingest {
 public:
  // `live` (may be null: nothing is published) is told of every frame and heartbeat stored,
  // after the insert, so that no event announces a row a reader cannot find yet.
  Ingest(const std::vector<Site>& sites, Store& store, DetectorPool& detectors, Counting& counting,
         std::vector<IngestListener*> listeners, IngestOptions options, WallClock clock = now_ms);

  // POST /api/v1/frames. Rejections change nothing: no file is written and no row inserted.
  IngestReply handle_frame(const Upload& upload);
  // POST /api/v1/health: a node's heartbeat, stored once per (site, sequence).
  IngestReply handle_heartbeat(const Upload& upload);
  // POST /api/v1/counts: a node's count (protocol/node_count.h), stored as an observation
  // without a picture.
  IngestReply handle_count(const Upload& upload);
  // POST /api/v1/evidence: a node's evidence picture with its count in X-Count, stored as an
  // observation with its picture; nothing is detected on it here.
  IngestReply handle_evidence(const Upload& upload);

  // Each site's newest refusal (NodeRefusal), for the sites that had one.
  std::map<std::string, NodeRefusal> refusals() const;

  // A technician opened the site's live view: its node is asked for live_interval_s until
  // live_duration_s from now. Returns that end (ms since epoch).
  std::int64_t request_live(const std::string& site_id);

  // The site's counting setup from now on, as numbered by the store (SiteStore::put_setup):
  // signed with the site's key and sent with the next answer to its node (a site without a
  // key has nothing signed, and no upload accepted either).
  void set_setup(const std::string& site_id, std::int64_t version, std::string body);

  // The service's clock (ms since epoch), which nodes set theirs by.
  std::int64_t now() const { return clock_(); }
  // The sampling interval the site's node is told now.
  double interval_for(const std::string& site_id);

  IngestQueueStats queue_stats() const { return queue_.stats(); }
  const IngestQueueLimits& queue_limits() const { return options_.queue; }
  Metrics& metrics() { return metrics_; }

 private:
  struct Checked {  // the headers every upload carries, parsed and authenticated
    std::int64_t sequence = 0;
    std::int64_t captured_at = 0;
  };
  std::expected<Checked, IngestReply> check(const Upload& up, const char* path,
                                            const char* content_type, std::int64_t max_body);
  IngestReply frame_reply(const Upload& up);
  IngestReply heartbeat_reply(const Upload& up);
  IngestReply count_reply(const Upload& up);
  IngestReply evidence_reply(const Upload& up);
  // `reply` to an upload to `path`, noted as its site's refusal when it is one (NodeRefusal).
  IngestReply noted(const Upload& up, const char* path, IngestReply reply);
  // A refusal, logged (rate-limited) with `why` beside the answer's message when the answer
  // must not say it.
  IngestReply reject(int status, const std::string& code, const std::string& message,
                     std::string_view why = {});
  // `node_setup`: the setup version the upload says its node counts with, when it says one.
  IngestReply success(int status, const std::string& site_id, nlohmann::json body,
                      std::optional<std::int64_t> node_setup = std::nullopt);
  // The answer to a retry of (site, sequence) already stored: a duplicate when `digest` is the
  // stored body's, a conflict otherwise; none when it is new.
  std::optional<IngestReply> answer_retry(const std::string& site_id, std::int64_t sequence,
                                          const std::string& digest,
                                          std::optional<std::int64_t> node_setup = std::nullopt);
  // Writes the picture (when `picture` is not empty) and the row, then tells the listeners.
  IngestReply store(Observation& obs, const std::string& picture,
                    std::optional<std::int64_t> node_setup = std::nullopt);
  // A node's count, from `text` (a count's body or an evidence's X-Count), with its models
  // checked against the allow-list.
  std::expected<NodeCount, IngestReply> node_count(const std::string& text);

  std::map<std::string, const Site*> sites_;  // fixed after construction
  Store& store_;
  DetectorPool& detectors_;
  Counting& counting_;
  const std::vector<IngestListener*> listeners_;  // told of what is stored; not owned
  const IngestOptions options_;
  WallClock clock_;
  IngestQueue queue_;
  Metrics metrics_;
  log::RateLimit reject_log_{std::chrono::seconds(5)};
  std::mutex live_mu_;
  std::map<std::string, std::int64_t> live_until_;  // guarded by live_mu_
  std::map<std::string, SignedSetup> setups_;       // guarded by live_mu_
  mutable std::mutex refusals_mu_;
  std::map<std::string, NodeRefusal> refusals_;  // guarded by refusals_mu_
};

}  // namespace att
