#include "analysis/ingest.h"

#include <charconv>
#include <opencv2/imgproc.hpp>

#include "analysis/jpeg.h"
#include "common/files.h"
#include "common/log.h"
#include "common/sha256.h"

namespace att {
namespace {

std::optional<std::int64_t> parse_int64(const std::string& text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

Ingest::Ingest(const std::vector<Site>& sites, Store& store, DetectorPool& detectors,
               Counting& counting, std::string detector_name, std::filesystem::path data_dir,
               std::int64_t max_body_bytes, std::int64_t max_image_pixels, WallClock clock)
    : store_(store),
      detectors_(detectors),
      counting_(counting),
      detector_name_(std::move(detector_name)),
      data_dir_(std::move(data_dir)),
      max_body_bytes_(max_body_bytes),
      max_image_pixels_(max_image_pixels),
      clock_(std::move(clock)) {
  for (const Site& s : sites) sites_[s.id] = &s;
}

IngestReply Ingest::reject(int status, const std::string& code, const std::string& message) {
  long long suppressed = 0;
  if (reject_log_.allow(suppressed)) {
    log::get("ingest")->warn("rejected ({} {}): {}{}", status, code, message,
                             suppressed ? " (+" + std::to_string(suppressed) + " more)" : "");
  }
  return IngestReply{status, {{"error", message}, {"code", code}}};
}

IngestReply Ingest::handle(const FrameUpload& up) {
  const std::int64_t received_at = clock_();
  if (up.site_id.empty()) return reject(400, "missing_site", "missing X-Site-Id header");
  if (!sites_.contains(up.site_id)) {
    return reject(403, "unknown_site",
                  "site '" + up.site_id.substr(0, 64) + "' is not in this province's site list");
  }
  const auto sequence = parse_int64(up.sequence);
  if (!sequence || *sequence < 0) {
    return reject(400, "bad_sequence", "X-Sequence must be a non-negative whole number");
  }
  const auto captured_at = parse_int64(up.capture_time);
  if (!captured_at || *captured_at <= 0) {
    return reject(400, "bad_capture_time",
                  "X-Capture-Time must be milliseconds since 1970-01-01 UTC");
  }
  if (up.content_type != "image/jpeg") {
    return reject(415, "unsupported_media_type",
                  "Content-Type must be image/jpeg (got '" + up.content_type.substr(0, 64) + "')");
  }
  if (up.body.empty()) return reject(400, "empty_body", "empty body: no JPEG frame");
  if (static_cast<std::int64_t>(up.body.size()) > max_body_bytes_) {
    return reject(413, "body_too_large",
                  "body of " + std::to_string(up.body.size()) + " bytes exceeds the limit of " +
                      std::to_string(max_body_bytes_));
  }

  const std::string digest = sha256_hex(up.body);
  // A retry after a lost acknowledgement: answer again without detecting again.
  auto existing = store_.find_observation(up.site_id, *sequence);
  if (!existing) return reject(503, "storage_failed", existing.error().message);
  if (*existing) {
    if ((*existing)->frame_sha256 != digest) {
      return reject(409, "sequence_conflict",
                    "sequence " + std::to_string(*sequence) +
                        " was already stored for this site with a different frame");
    }
    return IngestReply{
        200, {{"status", "duplicate"}, {"sequence", *sequence}, {"count", (*existing)->count}}};
  }

  const auto bytes =
      std::span(reinterpret_cast<const unsigned char*>(up.body.data()), up.body.size());
  auto frame = decode_jpeg(bytes, max_image_pixels_);
  if (!frame) {
    const bool too_large = frame.error().message.starts_with("image too large");
    return reject(too_large ? 413 : 422, too_large ? "image_too_large" : "bad_jpeg",
                  frame.error().message);
  }
  auto boxes = detectors_.detect(*frame);
  if (!boxes) return reject(500, "detector_failed", boxes.error().message);

  Observation obs;
  obs.site_id = up.site_id;
  obs.sequence = *sequence;
  obs.captured_at_ms = *captured_at;
  obs.received_at_ms = received_at;
  cv::Mat gray;  // stillness compares pixels, not only boxes
  cv::cvtColor(*frame, gray, cv::COLOR_BGR2GRAY);
  const OccupancyResult counted =
      counting_.add(up.site_id, *captured_at, frame->size(), *boxes, gray);
  obs.count = counted.window_count;
  obs.frame_count = counted.frame_count;
  obs.boxes = counted.counted;
  obs.detector = detector_name_;
  obs.width = frame->cols;
  obs.height = frame->rows;
  // The digest in the name keeps a conflicting upload racing for the same sequence from
  // overwriting the stored frame.
  obs.frame_path = "frames/" + up.site_id + "/" + std::to_string(*sequence) + "-" +
                   digest.substr(0, 12) + ".jpg";
  obs.frame_sha256 = digest;

  if (auto written = write_file_atomically(data_dir_ / obs.frame_path, up.body, /*sync=*/false);
      !written) {
    return reject(507, "storage_failed", written.error().message);
  }
  auto inserted = store_.insert_observation(obs);
  if (!inserted) return reject(503, "storage_failed", inserted.error().message);
  switch (*inserted) {
    case InsertOutcome::kInserted:
      return IngestReply{201,
                         {{"status", "stored"}, {"sequence", obs.sequence}, {"count", obs.count}}};
    case InsertOutcome::kDuplicate:  // a concurrent retry won the race
      return IngestReply{
          200, {{"status", "duplicate"}, {"sequence", obs.sequence}, {"count", obs.count}}};
    case InsertOutcome::kConflict:
      break;
  }
  return reject(409, "sequence_conflict",
                "sequence " + std::to_string(obs.sequence) +
                    " was already stored for this site with a different frame");
}

}  // namespace att
