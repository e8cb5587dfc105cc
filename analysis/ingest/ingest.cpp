#include "analysis/ingest/ingest.h"

#include <charconv>
#include <opencv2/imgproc.hpp>

#include "common/files.h"
#include "common/log.h"
#include "common/sha256.h"
#include "counting/jpeg.h"
#include "protocol/json_reader.h"
#include "protocol/node_report.h"
#include "protocol/signing.h"
#include "protocol/wire.h"

namespace att {
namespace {

std::optional<std::int64_t> parse_int64(const std::string& text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

constexpr size_t kMaxHealthBytes = 4096;
constexpr std::int64_t kMaxReportBytes = 64 * 1024;
// What is stored is later copied and written out recursively: nesting is bounded.
constexpr int kMaxJsonDepth = kMaxNodeReportDepth;

// The observation a node's count makes (its picture, when it has one, is added by the caller).
Observation counted_by_node(const NodeCount& count, const std::string& site_id,
                            std::int64_t sequence, std::int64_t captured_at) {
  Observation obs;
  obs.site_id = site_id;
  obs.sequence = sequence;
  obs.captured_at_ms = captured_at;
  obs.count = count.count;
  obs.frame_count = count.frame_count;
  obs.boxes = count.boxes;
  obs.detector = count.model;
  obs.width = count.width;
  obs.height = count.height;
  obs.health = count.health ? count.health->to_json() : "";
  obs.counted_by = CountedBy::kNode;
  return obs;
}

// Whether `up`, sent to `path`, carries the signature `key` gives it.
bool signed_with(const std::string& key, const Upload& up, const char* path) {
  return signature_matches(key,
                           SignedFields{path, up.site_id, up.sequence, up.capture_time, up.extra,
                                        up.body, up.content_type},
                           up.signature);
}

}  // namespace

Ingest::Ingest(const std::vector<Site>& sites, Store& store, DetectorPool& detectors,
               Counting& counting, std::vector<IngestListener*> listeners, IngestOptions options,
               WallClock clock)
    : store_(store),
      detectors_(detectors),
      counting_(counting),
      listeners_(std::move(listeners)),
      options_(std::move(options)),
      clock_(std::move(clock)),
      queue_(options_.queue) {
  for (const Site& s : sites) sites_[s.id] = &s;
}

IngestReply Ingest::reject(int status, const std::string& code, const std::string& message,
                           std::string_view why) {
  long long suppressed = 0;
  if (reject_log_.allow(suppressed)) {
    log::get("ingest")->warn("rejected ({} {}): {}{}{}", status, code, message,
                             why.empty() ? "" : " [" + std::string(why) + "]",
                             suppressed ? " (+" + std::to_string(suppressed) + " more)" : "");
  }
  return IngestReply{status, {{"error", message}, {"code", code}}};
}

IngestReply Ingest::noted(const Upload& up, const char* path, IngestReply reply) {
  if (reply.status < 400 || reply.status >= 500 || reply.status == 401 || reply.status == 403) {
    return reply;
  }
  // Only a request the site's key signed is the site's: anyone can name a site.
  const auto key = options_.keys.find(up.site_id);
  if (key == options_.keys.end() || !signed_with(key->second, up, path)) return reply;
  std::lock_guard lock(refusals_mu_);
  NodeRefusal& r = refusals_[up.site_id];
  r.at_ms = clock_();
  r.status = reply.status;
  r.code = reply.body.value("code", "");
  r.message = reply.body.value("error", "");
  ++r.count;
  return reply;
}

std::map<std::string, NodeRefusal> Ingest::refusals() const {
  std::lock_guard lock(refusals_mu_);
  return refusals_;
}

IngestReply Ingest::success(int status, const std::string& site_id, nlohmann::json body,
                            std::optional<std::int64_t> node_setup) {
  body["interval_s"] = interval_for(site_id);
  {
    const std::int64_t now = clock_();
    std::lock_guard lock(live_mu_);
    if (auto it = live_until_.find(site_id); it != live_until_.end() && it->second > now) {
      body["live_until_ms"] = it->second;
    }
    if (auto it = setups_.find(site_id); it != setups_.end()) {
      const SignedSetup& setup = it->second;
      body["setup_version"] = setup.version;
      if (node_setup && *node_setup != setup.version) {
        body["setup"] = to_json(setup);
      }
    }
  }
  if (options_.roll_calls) {
    const std::int64_t now = clock_();
    body["roll_calls_ms"] = options_.roll_calls(
        site_id, now, now + static_cast<std::int64_t>(options_.roll_calls_ahead_s * 1000));
  }
  return IngestReply{status, std::move(body)};
}

std::optional<IngestReply> Ingest::answer_retry(const std::string& site_id, std::int64_t sequence,
                                                const std::string& digest,
                                                std::optional<std::int64_t> node_setup) {
  auto existing = store_.find_observation(site_id, sequence);
  if (!existing) return reject(503, "storage_failed", existing.error().message);
  if (!*existing) return std::nullopt;
  if ((*existing)->frame_sha256 != digest) {
    return reject(409, "sequence_conflict",
                  "sequence " + std::to_string(sequence) +
                      " was already stored for this site with a different body");
  }
  return success(200, site_id,
                 {{"status", "duplicate"}, {"sequence", sequence}, {"count", (*existing)->count}},
                 node_setup);
}

IngestReply Ingest::store(Observation& obs, const std::string& picture,
                          std::optional<std::int64_t> node_setup) {
  if (!picture.empty()) {
    // The digest in the name keeps a conflicting upload racing for the same sequence from
    // overwriting the stored frame.
    obs.frame_path = "frames/" + obs.site_id + "/" + std::to_string(obs.sequence) + "-" +
                     obs.frame_sha256.substr(0, 12) + ".jpg";
    // On disk before the row commits and the node is told to delete its copy: an
    // acknowledged frame survives a power cut (the fsyncs of concurrent uploads run in
    // parallel).
    if (auto written =
            write_file_atomically(options_.data_dir / obs.frame_path, picture, /*sync=*/true);
        !written) {
      return reject(507, "storage_failed", written.error().message);
    }
  }
  auto inserted = store_.insert_observation(obs);
  if (!inserted) return reject(503, "storage_failed", inserted.error().message);
  switch (*inserted) {
    case InsertOutcome::kInserted:
      for (IngestListener* l : listeners_) l->frame_stored(obs, picture);
      return success(201, obs.site_id,
                     {{"status", "stored"}, {"sequence", obs.sequence}, {"count", obs.count}},
                     node_setup);
    case InsertOutcome::kDuplicate:  // a concurrent retry won the race
      return success(200, obs.site_id,
                     {{"status", "duplicate"}, {"sequence", obs.sequence}, {"count", obs.count}},
                     node_setup);
    case InsertOutcome::kConflict:
      break;
  }
  return reject(409, "sequence_conflict",
                "sequence " + std::to_string(obs.sequence) +
                    " was already stored for this site with a different body");
}

std::expected<NodeCount, IngestReply> Ingest::node_count(const std::string& text) {
  auto count = parse_node_count(text);
  if (!count) {
    return std::unexpected(
        reject(400, "bad_count",
               "the count must be as protocol/node_count.h describes: " + count.error().message));
  }
  for (const std::string& sha : count->model_sha256) {
    if (!options_.allowed_models.contains(sha)) {
      return std::unexpected(
          reject(422, "unknown_model",
                 "the node counts with '" + count->model + "' whose model file has sha256 " + sha +
                     ", which this service does not accept (server.yaml nodes.allowed_models); "
                     "install a model the service knows on the node, or add this one"));
    }
  }
  return *count;
}

void Ingest::set_setup(const std::string& site_id, std::int64_t version, std::string body) {
  const auto key = options_.keys.find(site_id);
  if (key == options_.keys.end()) return;
  SignedSetup setup = sign_setup(key->second, site_id, version, std::move(body));
  std::lock_guard lock(live_mu_);
  setups_[site_id] = std::move(setup);
}

std::int64_t Ingest::request_live(const std::string& site_id) {
  const auto until = clock_() + static_cast<std::int64_t>(options_.nodes.live_duration_s * 1000);
  std::lock_guard lock(live_mu_);
  live_until_[site_id] = until;
  return until;
}

double Ingest::interval_for(const std::string& site_id) {
  const std::int64_t now = clock_();
  std::lock_guard lock(live_mu_);
  auto it = live_until_.find(site_id);
  if (it == live_until_.end()) return options_.nodes.sample_interval_s;
  if (it->second <= now) {
    live_until_.erase(it);
    return options_.nodes.sample_interval_s;
  }
  return options_.nodes.live_interval_s;
}

std::expected<Ingest::Checked, IngestReply> Ingest::check(const Upload& up, const char* path,
                                                          const char* content_type,
                                                          std::int64_t max_body) {
  auto no = [this](int status, const std::string& code, const std::string& message) {
    return std::unexpected(reject(status, code, message));
  };
  if (up.site_id.empty()) return no(400, "missing_site", "missing X-Site-Id header");
  // An unknown site, a site without a key, and a missing or wrong signature get one answer
  // after the same work (a signature is checked under a key of no site), so that the answers
  // tell nobody which sites exist. The log says which it was.
  const auto key =
      sites_.contains(up.site_id) ? options_.keys.find(up.site_id) : options_.keys.end();
  const bool has_key = key != options_.keys.end();
  const bool matches = signed_with(has_key ? key->second : std::string(64, '0'), up, path);
  if (!has_key || up.signature.empty() || !matches) {
    const char* why = !sites_.contains(up.site_id) ? "a site not in the province's site list"
                      : !has_key                   ? "a site without a key (attendance-server keys)"
                      : up.signature.empty()       ? "no X-Signature header"
                                                   : "a signature that does not match";
    return std::unexpected(reject(401, "bad_signature",
                                  "X-Signature does not match this request under the key of the "
                                  "site it names (an unknown site, a wrong key, or the request was "
                                  "changed on the way)",
                                  "site '" + up.site_id.substr(0, 64) + "': " + why));
  }
  const auto sequence = parse_int64(up.sequence);
  if (!sequence || *sequence < 0) {
    return no(400, "bad_sequence", "X-Sequence must be a non-negative whole number");
  }
  const auto captured_at = parse_int64(up.capture_time);
  if (!captured_at || *captured_at <= 0) {
    return no(400, "bad_capture_time", "X-Capture-Time must be milliseconds since 1970-01-01 UTC");
  }
  const std::int64_t now = clock_();
  if (options_.max_future_s > 0 && *captured_at > now + options_.max_future_s * 1000) {
    return no(400, "capture_time_in_future",
              "X-Capture-Time is " + std::to_string((*captured_at - now) / 1000) +
                  " s ahead of the server's clock (at most " +
                  std::to_string(options_.max_future_s) + " s): set the node's clock (NTP)");
  }
  if (options_.max_age_s > 0 && *captured_at < now - options_.max_age_s * 1000) {
    return no(400, "capture_time_too_old",
              "X-Capture-Time is " + std::to_string((now - *captured_at) / 86'400'000) +
                  " days behind the server's clock (at most " +
                  std::to_string(options_.max_age_s / 86400) +
                  " days): a replay, or a node whose clock was reset");
  }
  // The media type decides; parameters (charset=utf-8) are allowed.
  const std::string media = up.content_type.substr(0, up.content_type.find(';'));
  if (media != content_type) {
    return no(415, "unsupported_media_type",
              std::string("Content-Type must be ") + content_type + " (got '" +
                  up.content_type.substr(0, 64) + "')");
  }
  if (up.body.empty()) return no(400, "empty_body", "empty body");
  if (static_cast<std::int64_t>(up.body.size()) > max_body) {
    return no(413, "body_too_large",
              "body of " + std::to_string(up.body.size()) + " bytes exceeds the limit of " +
                  std::to_string(max_body));
  }
  return Checked{*sequence, *captured_at};
}

IngestReply Ingest::handle_frame(const Upload& up) {
  return noted(up, wire::kFramesPath, frame_reply(up));
}

IngestReply Ingest::frame_reply(const Upload& up) {
  const std::int64_t received_at = clock_();
  auto checked = check(up, wire::kFramesPath, wire::kJpegContentType, options_.max_body_bytes);
  if (!checked) return checked.error();
  const std::int64_t sequence = checked->sequence, captured_at = checked->captured_at;
  if (!up.extra.empty()) {  // the node's health scores: a small JSON object, kept as sent
    const auto health = parse_shallow(up.extra, kMaxJsonDepth);
    if (!health.is_object() || up.extra.size() > kMaxHealthBytes) {
      return reject(400, "bad_health",
                    "X-Health must be a JSON object of at most 4096 bytes, nested at most " +
                        std::to_string(kMaxJsonDepth) + " deep");
    }
  }

  const std::string digest = sha256_hex(up.body);
  // A retry after a lost acknowledgement: answer again without detecting again.
  if (auto retry = answer_retry(up.site_id, sequence, digest)) return *retry;

  // A place in the detectors' queue, or 503 at once: the node keeps the frame and retries.
  auto ticket = queue_.enter(up.site_id);
  if (!ticket) {
    IngestReply busy = reject(503, ticket.error().code, ticket.error().message);
    busy.retry_after_s = ticket.error().retry_after_s;
    return busy;
  }
  const auto bytes =
      std::span(reinterpret_cast<const unsigned char*>(up.body.data()), up.body.size());
  auto frame = decode_jpeg(bytes, options_.max_image_pixels);
  if (!frame) {
    const bool too_large = frame.error().code == ErrorCode::kTooLarge;
    return reject(too_large ? 413 : 422, too_large ? "image_too_large" : "bad_jpeg",
                  frame.error().message);
  }
  queue_.wait_turn(*ticket);
  const auto detect_start = std::chrono::steady_clock::now();
  auto boxes = detectors_.detect(*frame);
  queue_.end_turn(*ticket);
  metrics_.detected(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - detect_start).count());
  if (!boxes) return reject(500, "detector_failed", boxes.error().message);

  Observation obs;
  obs.site_id = up.site_id;
  obs.sequence = sequence;
  obs.captured_at_ms = captured_at;
  obs.received_at_ms = received_at;
  cv::Mat gray;  // stillness compares pixels, not only boxes
  cv::cvtColor(*frame, gray, cv::COLOR_BGR2GRAY);
  const OccupancyResult counted =
      counting_.add(up.site_id, captured_at, frame->size(), *boxes, gray);
  obs.count = counted.window_count;
  obs.frame_count = counted.frame_count;
  obs.boxes = counted.counted;
  obs.detector = options_.detector_name;
  obs.width = frame->cols;
  obs.height = frame->rows;
  obs.frame_sha256 = digest;
  obs.health = up.extra;
  return store(obs, up.body);
}

IngestReply Ingest::handle_heartbeat(const Upload& up) {
  return noted(up, wire::kHealthPath, heartbeat_reply(up));
}

IngestReply Ingest::heartbeat_reply(const Upload& up) {
  const std::int64_t received_at = clock_();
  auto checked = check(up, wire::kHealthPath, wire::kJsonContentType, kMaxReportBytes);
  if (!checked) return checked.error();
  const auto dropped = up.extra.empty() ? std::optional<std::int64_t>(0) : parse_int64(up.extra);
  if (!dropped || *dropped < 0) {
    return reject(400, "bad_dropped", "X-Spool-Dropped must be a non-negative whole number");
  }
  // Checked against the node report's schema; stored as sent (the signature covers it).
  const auto report = parse_node_report(up.body);
  if (!report) {
    return reject(400, "bad_report",
                  "the heartbeat must be a JSON object nested at most " +
                      std::to_string(kMaxNodeReportDepth) +
                      " deep, as protocol/node_report.h describes: " + report.error().message);
  }

  Heartbeat h{up.site_id, checked->sequence, checked->captured_at, received_at, up.body, *dropped};
  auto inserted = store_.insert_heartbeat(h);
  if (!inserted) return reject(503, "storage_failed", inserted.error().message);
  if (inserted->outcome == InsertOutcome::kConflict) {
    return reject(409, "sequence_conflict",
                  "sequence " + std::to_string(h.sequence) +
                      " was already stored for this site with a different report");
  }
  if (*dropped > 0 && inserted->outcome == InsertOutcome::kInserted) {
    log::get("ingest")->warn("site {}: its node's full spool dropped {} item(s)", up.site_id,
                             *dropped);
  }
  const bool fresh = inserted->outcome == InsertOutcome::kInserted;
  if (fresh) {
    for (IngestListener* l : listeners_) l->heartbeat_stored(h, *report);
  }
  return success(fresh ? 201 : 200, up.site_id,
                 {{"status", fresh ? "stored" : "duplicate"},
                  {"sequence", h.sequence},
                  {"dropped_recorded", inserted->spool_dropped}},
                 report->counting ? std::optional(report->counting->setup_version) : std::nullopt);
}

IngestReply Ingest::handle_count(const Upload& up) {
  return noted(up, wire::kCountsPath, count_reply(up));
}

IngestReply Ingest::count_reply(const Upload& up) {
  const std::int64_t received_at = clock_();
  auto checked = check(up, wire::kCountsPath, wire::kJsonContentType, kMaxReportBytes);
  if (!checked) return checked.error();
  auto count = node_count(up.body);
  if (!count) return count.error();
  const std::string digest = sha256_hex(up.body);
  if (auto retry = answer_retry(up.site_id, checked->sequence, digest, count->setup_version))
    return *retry;
  Observation obs = counted_by_node(*count, up.site_id, checked->sequence, checked->captured_at);
  obs.received_at_ms = received_at;
  obs.frame_sha256 = digest;
  return store(obs, "", count->setup_version);
}

IngestReply Ingest::handle_evidence(const Upload& up) {
  return noted(up, wire::kEvidencePath, evidence_reply(up));
}

IngestReply Ingest::evidence_reply(const Upload& up) {
  const std::int64_t received_at = clock_();
  auto checked = check(up, wire::kEvidencePath, wire::kJpegContentType, options_.max_body_bytes);
  if (!checked) return checked.error();
  auto count = node_count(up.extra);
  if (!count) return count.error();
  const std::string digest = sha256_hex(up.body);
  if (auto retry = answer_retry(up.site_id, checked->sequence, digest, count->setup_version))
    return *retry;
  // The picture must be a whole JPEG of the size the count was made on; it is not decoded
  // here (nothing is detected on it).
  const auto size =
      probe_jpeg(std::span(reinterpret_cast<const unsigned char*>(up.body.data()), up.body.size()));
  if (!size) return reject(422, "bad_jpeg", size.error().message);
  if (static_cast<std::int64_t>(size->width) * size->height > options_.max_image_pixels) {
    return reject(413, "image_too_large",
                  "the picture is " + std::to_string(size->width) + "x" +
                      std::to_string(size->height) + ", over the limit of " +
                      std::to_string(options_.max_image_pixels) + " pixels");
  }
  if (size->width != count->width || size->height != count->height) {
    return reject(400, "count_mismatch",
                  "the picture is " + std::to_string(size->width) + "x" +
                      std::to_string(size->height) + " but its count was made on a " +
                      std::to_string(count->width) + "x" + std::to_string(count->height) +
                      " frame");
  }
  Observation obs = counted_by_node(*count, up.site_id, checked->sequence, checked->captured_at);
  obs.received_at_ms = received_at;
  obs.frame_sha256 = digest;
  return store(obs, up.body, count->setup_version);
}

}  // namespace att
