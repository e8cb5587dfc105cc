#include "capture/uploader.h"

#include "common/log.h"

namespace att {

Result<std::unique_ptr<Uploader>> Uploader::create(UploaderOptions options) {
  auto client = UploadClient::create({options.server_url, options.timeout, {}, options.ca_file});
  if (!client) return std::unexpected(client.error());
  return std::unique_ptr<Uploader>(new Uploader(std::move(*client), std::move(options)));
}

UploadOutcome Uploader::send(const SpoolItem& item, std::int64_t spool_dropped, bool more) {
  NodeUpload upload;
  const bool heartbeat = item.kind == "health";
  upload.kind = heartbeat                 ? NodeUpload::Kind::kHeartbeat
                : item.kind == "count"    ? NodeUpload::Kind::kCount
                : item.kind == "evidence" ? NodeUpload::Kind::kEvidence
                                          : NodeUpload::Kind::kFrame;
  upload.site_id = options_.site_id;
  upload.sequence = item.sequence;
  upload.capture_time_ms = item.capture_time_ms;
  upload.body = item.body;
  upload.extra = heartbeat ? std::to_string(spool_dropped) : item.meta;
  upload.more = more;
  UploadOutcome out = client_->send(upload, options_.secret);
  if (out.setup && !trusts(*out.setup)) {
    log::get("uploader")
        ->error(
            "the service's answer carried a counting setup (version {}) not signed with this "
            "site's key: ignored",
            out.setup->version);
    out.setup.reset();
  }
  return out;
}

bool Uploader::trusts(const SignedSetup& setup) const {
  return setup_signature_matches(options_.secret, options_.site_id, setup);
}

}  // namespace att
