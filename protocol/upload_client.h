// The one client of the upload protocol (wire.h): signs a frame or a heartbeat with a site's
// secret, posts it over HTTP or HTTPS and classifies the answer. Used by the capture node,
// the simulator and the tests. One connection, kept alive and reused. send() is called from
// one thread at a time; abort() may be called from any other to cut a request short.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "protocol/signing.h"
#include "protocol/site_setup.h"

namespace att {

// The headers of one signed upload, as every client sends them: X-Site-Id, X-Sequence and
// X-Capture-Time (each left out when empty), the path's extra header (wire::extra_header:
// X-Health, X-Count, X-Spool-Dropped) when `fields.extra` is not empty, and X-Signature over
// all of it.
std::vector<std::pair<std::string, std::string>> signed_upload_headers(const SignedFields& fields,
                                                                       std::string_view secret);

struct NodeUpload {
  // A sampled frame (the service counts it), a heartbeat, a node's count, an evidence picture.
  enum class Kind { kFrame, kHeartbeat, kCount, kEvidence };
  Kind kind = Kind::kFrame;
  std::string site_id;
  std::int64_t sequence = 0;
  std::int64_t capture_time_ms = 0;
  // A frame or evidence: the JPEG; a heartbeat: the node's report (JSON); a count: the
  // node's count (JSON, protocol/node_count.h).
  std::string body;
  // A frame: its health scores (JSON) for X-Health; evidence: its count (JSON) for X-Count;
  // a heartbeat: the spool drops not yet reported, for X-Spool-Dropped. "" sends none.
  std::string extra;
  // More uploads follow at once (a backlog): the connection is kept open for them. Otherwise
  // the request asks the service to close it after the answer, so that an idle node does not
  // hold one of the service's HTTP threads until its next upload.
  bool more = false;
};

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
  // The site's roll-call times in the coming hours, ms since epoch UTC (when said).
  std::vector<std::int64_t> roll_calls_ms;
  bool roll_calls_known = false;  // the answer said them (an empty list: none coming)
  // While a technician watches the site live: until when, ms since epoch UTC; 0: not live.
  std::int64_t live_until_ms = 0;
  // The version of the site's counting setup in force at the service (-1: not said), and the
  // setup itself when the upload named another (protocol/site_setup.h; not yet verified).
  std::int64_t setup_version = -1;
  std::optional<SignedSetup> setup;
  std::string message;  // the service's error text, or the network error
  std::string code;     // the service's error code (capture_time_in_future...)
  // The service's clock less this node's, from X-Server-Time and the middle of the request
  // (when it answered within 5 s); none without it.
  std::optional<std::int64_t> clock_offset_ms;
};

struct UploadClientOptions {
  std::string server_url;                        // scheme://host[:port][/prefix], http or https
  std::chrono::milliseconds timeout{15000};      // reading and writing
  std::chrono::milliseconds connect_timeout{0};  // 0: `timeout`
  std::filesystem::path ca_file;  // HTTPS: trust this CA (PEM) instead of the system's
};

class UploadClient {
 public:
  // Fails on a URL it cannot use.
  static Result<std::unique_ptr<UploadClient>> create(UploadClientOptions options);
  ~UploadClient();

  // Signs `upload` with `secret` and posts it to its path (protocol/wire.h).
  UploadOutcome send(const NodeUpload& upload, std::string_view secret);

  // Closes the connection under a request in flight (shutdown); send() then returns kRetry.
  void abort();

 private:
  struct Impl;
  explicit UploadClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace att
