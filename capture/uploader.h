// Sends spooled items to the analysis service through the upload client (protocol/
// upload_client.h), signed with this site's secret. send() is called from one thread;
// abort() may be called from any other to cut a request short.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "capture/spool.h"
#include "common/error.h"
#include "protocol/upload_client.h"

namespace att {

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

  // A frame goes to /api/v1/frames with its health (item.meta) in X-Health; a health item
  // to /api/v1/health with `spool_dropped` in X-Spool-Dropped; a count to /api/v1/counts; an
  // evidence picture to /api/v1/evidence with its count (item.meta) in X-Count.
  // A counting setup in the answer that is not signed with the site's key is dropped (logged).
  UploadOutcome send(const SpoolItem& item, std::int64_t spool_dropped = 0, bool more = false);

  // Whether the setup was signed with this site's key (protocol/site_setup.h).
  bool trusts(const SignedSetup& setup) const;

  // Closes the connection under a request in flight (shutdown); send() then returns kRetry.
  void abort() { client_->abort(); }

 private:
  Uploader(std::unique_ptr<UploadClient> client, UploaderOptions options)
      : client_(std::move(client)), options_(std::move(options)) {}
  std::unique_ptr<UploadClient> client_;
  const UploaderOptions options_;
};

}  // namespace att
