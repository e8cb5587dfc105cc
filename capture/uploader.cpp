#include "capture/uploader.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/signing.h"
#include "common/time_util.h"
#include "common/wire.h"

namespace att {

struct Uploader::Impl {
  std::unique_ptr<httplib::Client> client;
  std::string prefix;  // path prefix of the server URL, without a trailing /
  UploaderOptions options;
};

Uploader::Uploader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Uploader::~Uploader() = default;

Result<std::unique_ptr<Uploader>> Uploader::create(UploaderOptions options) {
  const std::string& url = options.server_url;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return fail("server URL '" + url + "' has no scheme");
  const auto path_start = url.find('/', scheme_end + 3);
  const std::string origin = url.substr(0, path_start);
  std::string prefix = path_start == std::string::npos ? "" : url.substr(path_start);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();

  auto impl = std::make_unique<Impl>();
  impl->client = std::make_unique<httplib::Client>(origin);
  if (!impl->client->is_valid()) return fail("cannot use server URL '" + url + "'");
  impl->client->set_connection_timeout(options.timeout);
  impl->client->set_read_timeout(options.timeout);
  impl->client->set_write_timeout(options.timeout);
  impl->client->set_keep_alive(true);
  if (url.starts_with("https://")) {
    impl->client->enable_server_certificate_verification(true);
    if (!options.ca_file.empty()) impl->client->set_ca_cert_path(options.ca_file.string());
  }
  impl->prefix = std::move(prefix);
  impl->options = std::move(options);
  return std::unique_ptr<Uploader>(new Uploader(std::move(impl)));
}

void Uploader::abort() {
  impl_->client->stop();
}

UploadOutcome Uploader::send(const SpoolItem& item, std::int64_t spool_dropped) {
  const bool frame = item.kind != "health";
  const char* path = frame ? wire::kFramesPath : wire::kHealthPath;
  const std::string sequence = std::to_string(item.sequence);
  const std::string capture_time = std::to_string(item.capture_time_ms);
  const std::string extra = frame ? item.meta : std::to_string(spool_dropped);
  const SignedFields fields{path, impl_->options.site_id, sequence, capture_time, extra, item.body};
  httplib::Headers headers = {
      {wire::kSiteHeader, impl_->options.site_id},
      {wire::kSequenceHeader, sequence},
      {wire::kCaptureTimeHeader, capture_time},
      {wire::kSignatureHeader, sign_request(impl_->options.secret, fields)},
  };
  if (!extra.empty())
    headers.emplace(frame ? wire::kHealthHeader : wire::kSpoolDroppedHeader, extra);
  const std::int64_t sent_ms = now_ms();
  auto res = impl_->client->Post(impl_->prefix + path, headers, item.body,
                                 frame ? wire::kJpegContentType : wire::kJsonContentType);
  const std::int64_t answered_ms = now_ms();
  UploadOutcome out;
  if (!res) {
    out.message = "no answer from the server: " + httplib::to_string(res.error());
    if (res.error() == httplib::Error::SSLServerVerification) {
      out.message += " (the server's certificate is not trusted; check ca_file)";
    }
    return out;
  }
  out.http_status = res->status;
  const std::string server_time = res->get_header_value(wire::kServerTimeHeader);
  std::int64_t server_ms = 0;
  const auto [end, parsed] =
      std::from_chars(server_time.data(), server_time.data() + server_time.size(), server_ms);
  if (parsed == std::errc() && end == server_time.data() + server_time.size() &&
      !server_time.empty() && answered_ms - sent_ms < 5000) {
    out.clock_offset_ms = server_ms - (sent_ms + answered_ms) / 2;
  }
  if (res->has_header("Retry-After")) {
    out.retry_after_s =
        std::clamp(std::atoi(res->get_header_value("Retry-After").c_str()), 0, 3600);
  }
  const auto body = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object()) {
    if (body.contains("count") && body["count"].is_number_integer()) out.count = body["count"];
    if (body.contains("error") && body["error"].is_string()) out.message = body["error"];
    if (body.contains("code") && body["code"].is_string()) out.code = body["code"];
    if (body.contains("interval_s") && body["interval_s"].is_number()) {
      out.interval_s = body["interval_s"];
    }
    if (body.contains("dropped_recorded") && body["dropped_recorded"].is_number_integer()) {
      out.dropped_recorded = body["dropped_recorded"];
    }
  }
  if (res->status == 201) {
    out.kind = UploadOutcome::kStored;
  } else if (res->status == 200) {
    out.kind = UploadOutcome::kDuplicate;
  } else if (res->status >= 400 && res->status < 500 && res->status != 408 && res->status != 429) {
    out.kind = UploadOutcome::kRejected;
  } else {
    out.kind = UploadOutcome::kRetry;
  }
  if (out.message.empty() && out.kind != UploadOutcome::kStored &&
      out.kind != UploadOutcome::kDuplicate) {
    out.message = "HTTP " + std::to_string(res->status);
  }
  return out;
}

}  // namespace att
