#include "capture/uploader.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "common/wire.h"

namespace att {

struct Uploader::Impl {
  std::unique_ptr<httplib::Client> client;
  std::string path;  // prefix + frames path
  std::string site_id;
};

Uploader::Uploader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Uploader::~Uploader() = default;

Result<std::unique_ptr<Uploader>> Uploader::create(const std::string& server_url,
                                                   std::string site_id,
                                                   std::chrono::milliseconds timeout) {
  const auto scheme_end = server_url.find("://");
  if (scheme_end == std::string::npos) return fail("server URL '" + server_url + "' has no scheme");
  const auto path_start = server_url.find('/', scheme_end + 3);
  const std::string origin = server_url.substr(0, path_start);
  std::string prefix = path_start == std::string::npos ? "" : server_url.substr(path_start);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();

  auto impl = std::make_unique<Impl>();
  impl->client = std::make_unique<httplib::Client>(origin);
  if (!impl->client->is_valid()) return fail("cannot use server URL '" + server_url + "'");
  impl->client->set_connection_timeout(timeout);
  impl->client->set_read_timeout(timeout);
  impl->client->set_write_timeout(timeout);
  impl->client->set_keep_alive(true);
  impl->path = prefix + wire::kFramesPath;
  impl->site_id = std::move(site_id);
  return std::unique_ptr<Uploader>(new Uploader(std::move(impl)));
}

UploadOutcome Uploader::send(const CapturedFrame& frame, std::int64_t sequence) {
  httplib::Headers headers = {
      {wire::kSiteHeader, impl_->site_id},
      {wire::kSequenceHeader, std::to_string(sequence)},
      {wire::kCaptureTimeHeader, std::to_string(frame.capture_time_ms)},
  };
  auto res = impl_->client->Post(impl_->path, headers, frame.jpeg, wire::kJpegContentType);
  UploadOutcome out;
  if (!res) {
    out.message = "no answer from the server: " + httplib::to_string(res.error());
    return out;
  }
  out.http_status = res->status;
  const auto body = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object()) {
    if (body.contains("count") && body["count"].is_number_integer()) out.count = body["count"];
    if (body.contains("error") && body["error"].is_string()) out.message = body["error"];
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
