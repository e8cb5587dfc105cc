// Sends spooled items to the analysis service (HTTP or HTTPS), signed with the site's
// secret (common/signing.h), and classifies the answer. One connection, reused. send() is
// called from one thread; abort() may be called from any other to cut a request short.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "capture/spool.h"
#include "common/error.h"

namespace att {

struct UploadOutcome {
  enum Kind {
    kStored,     // 201: new item stored
    kDuplicate,  // 200: the service had it already (an earlier ack was lost)
    kRejected,   // 4xx: will never succeed; do not retry
    kRetry,      // network error, timeout, 5xx, 408, 429: try again later
  };
  Kind kind = kRetry;
  int http_status = 0;                // 0 when no answer came
  int count = -1;                     // people counted, for a stored frame
  double interval_s = 0;              // the sampling interval the service wants; 0: not said
  std::int64_t dropped_recorded = 0;  // spool drops the service counted with a heartbeat
  int retry_after_s = 0;              // a busy service's Retry-After (503); 0: none
  std::string message;                // the service's error text, or the network error
  std::string code;                   // the service's error code (capture_time_in_future...)
  // The service's clock less this node's, from X-Server-Time and the middle of the request
  // (when it answered within 5 s); none without it.
  std::optional<std::int64_t> clock_offset_ms;
};

struct UploaderOptions {
  std::string server_url;  // scheme://host[:port][/prefix], http or https
  std::string site_id;
  std::string secret;  // the site's key
  std::chrono::milliseconds timeout{15000};
  std::filesystem::path ca_file;  // HTTPS: trust this CA (PEM) instead of the system's
};

class Uploader {
 public:
  // Fails on a URL it cannot use.
  static Result<std::unique_ptr<Uploader>> create(UploaderOptions options);
  ~Uploader();

  // A frame goes to /api/v1/frames with its health (item.meta) in X-Health; a health item
  // goes to /api/v1/health with `spool_dropped` in X-Spool-Dropped.
  UploadOutcome send(const SpoolItem& item, std::int64_t spool_dropped = 0);

  // Closes the connection under a request in flight (shutdown); send() then returns kRetry.
  void abort();

 private:
  struct Impl;
  explicit Uploader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace att
