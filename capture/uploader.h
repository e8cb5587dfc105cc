// Sends frames to the analysis service (HTTP or HTTPS) and classifies the answer. One
// connection, reused; not thread-safe (one uploader per node).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "capture/frame_source.h"
#include "common/error.h"

namespace att {

struct UploadOutcome {
  enum Kind {
    kStored,     // 201: new frame stored
    kDuplicate,  // 200: the service had it already (an earlier ack was lost)
    kRejected,   // 4xx: will never succeed; do not retry
    kRetry,      // network error, timeout, 5xx, 408, 429: try again later
  };
  Kind kind = kRetry;
  int http_status = 0;  // 0 when no answer came
  int count = -1;       // people counted, when stored
  std::string message;  // the service's error text, or the network error
};

class Uploader {
 public:
  // `server_url`: scheme://host[:port][/prefix]. Fails on a URL it cannot use.
  static Result<std::unique_ptr<Uploader>> create(const std::string& server_url,
                                                  std::string site_id,
                                                  std::chrono::milliseconds timeout);
  ~Uploader();

  UploadOutcome send(const CapturedFrame& frame, std::int64_t sequence);

 private:
  struct Impl;
  explicit Uploader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace att
