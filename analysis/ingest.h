// Accepting one uploaded frame: check it, detect, keep the JPEG, record the observation.
// Pure request -> reply logic, so it is tested without HTTP. Thread-safe: called from the
// HTTP worker threads at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/counting.h"
#include "analysis/detector_pool.h"
#include "analysis/province.h"
#include "analysis/store.h"
#include "common/log.h"
#include "common/time_util.h"

namespace att {

struct FrameUpload {
  std::string site_id;       // X-Site-Id
  std::string sequence;      // X-Sequence, as sent
  std::string capture_time;  // X-Capture-Time, as sent
  std::string content_type;
  std::string body;
};

// The HTTP answer: status and a JSON body. Errors carry "error" (a sentence) and "code"
// (stable, for programs): missing_site, unknown_site, bad_sequence, bad_capture_time,
// unsupported_media_type, empty_body, body_too_large, bad_jpeg, image_too_large,
// sequence_conflict, detector_failed, storage_failed.
struct IngestReply {
  int status = 500;
  nlohmann::json body;
};

class Ingest {
 public:
  Ingest(const std::vector<Site>& sites, Store& store, DetectorPool& detectors, Counting& counting,
         std::string detector_name, std::filesystem::path data_dir, std::int64_t max_body_bytes,
         std::int64_t max_image_pixels, WallClock clock = now_ms);

  // Rejections change nothing: no file is written and no row inserted.
  IngestReply handle(const FrameUpload& upload);

 private:
  IngestReply reject(int status, const std::string& code, const std::string& message);

  std::map<std::string, const Site*> sites_;  // fixed after construction
  Store& store_;
  DetectorPool& detectors_;
  Counting& counting_;
  std::string detector_name_;
  std::filesystem::path data_dir_;
  std::int64_t max_body_bytes_;
  std::int64_t max_image_pixels_;
  WallClock clock_;
  log::RateLimit reject_log_{std::chrono::seconds(5)};
};

}  // namespace att
