#include "protocol/upload_client.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/time_util.h"
#include "protocol/wire.h"

namespace att {

std::vector<std::pair<std::string, std::string>> signed_upload_headers(const SignedFields& fields,
                                                                       std::string_view secret) {
  std::vector<std::pair<std::string, std::string>> h;
  if (!fields.site_id.empty()) h.emplace_back(wire::kSiteHeader, fields.site_id);
  if (!fields.sequence.empty()) h.emplace_back(wire::kSequenceHeader, fields.sequence);
  if (!fields.capture_time.empty()) h.emplace_back(wire::kCaptureTimeHeader, fields.capture_time);
  if (const char* header = wire::extra_header(fields.path); header && !fields.extra.empty()) {
    h.emplace_back(header, fields.extra);
  }
  h.emplace_back(wire::kSignatureHeader, sign_request(secret, fields));
  return h;
}

struct UploadClient::Impl {
  std::unique_ptr<httplib::Client> client;
  std::string prefix;  // path prefix of the server URL, without a trailing /
};

UploadClient::UploadClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UploadClient::~UploadClient() = default;

Result<std::unique_ptr<UploadClient>> UploadClient::create(UploadClientOptions options) {
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
  impl->client->set_connection_timeout(options.connect_timeout.count() > 0 ? options.connect_timeout
                                                                           : options.timeout);
  impl->client->set_read_timeout(options.timeout);
  impl->client->set_write_timeout(options.timeout);
  impl->client->set_keep_alive(true);
  // A request goes out as headers, then body (two TLS records): with Nagle's algorithm the
  // body would wait for the server's delayed ACK of the headers (40 ms).
  impl->client->set_tcp_nodelay(true);
  if (url.starts_with("https://")) {
    impl->client->enable_server_certificate_verification(true);
    if (!options.ca_file.empty()) impl->client->set_ca_cert_path(options.ca_file.string());
  }
  impl->prefix = std::move(prefix);
  return std::unique_ptr<UploadClient>(new UploadClient(std::move(impl)));
}

void UploadClient::abort() {
  impl_->client->stop();
}

UploadOutcome UploadClient::send(const NodeUpload& upload, std::string_view secret) {
  const bool jpeg =
      upload.kind == NodeUpload::Kind::kFrame || upload.kind == NodeUpload::Kind::kEvidence;
  const char* path = upload.kind == NodeUpload::Kind::kFrame      ? wire::kFramesPath
                     : upload.kind == NodeUpload::Kind::kEvidence ? wire::kEvidencePath
                     : upload.kind == NodeUpload::Kind::kCount    ? wire::kCountsPath
                                                                  : wire::kHealthPath;
  const std::string sequence = std::to_string(upload.sequence);
  const std::string capture_time = std::to_string(upload.capture_time_ms);
  const char* content_type = jpeg ? wire::kJpegContentType : wire::kJsonContentType;
  const SignedFields fields{path,         upload.site_id, sequence,    capture_time,
                            upload.extra, upload.body,    content_type};
  httplib::Headers headers;
  for (auto& [name, value] : signed_upload_headers(fields, secret)) headers.emplace(name, value);
  if (!upload.more) headers.emplace("Connection", "close");
  const std::int64_t sent_ms = now_ms();
  auto res = impl_->client->Post(impl_->prefix + path, headers, upload.body, content_type);
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
    if (body.contains("roll_calls_ms") && body["roll_calls_ms"].is_array()) {
      for (const auto& t : body["roll_calls_ms"]) {
        if (t.is_number_integer() && out.roll_calls_ms.size() < 64) {
          out.roll_calls_ms.push_back(t.get<std::int64_t>());
        }
      }
      out.roll_calls_known = true;
    }
    if (body.contains("live_until_ms") && body["live_until_ms"].is_number_integer()) {
      out.live_until_ms = body["live_until_ms"];
    }
    if (body.contains("setup_version") && body["setup_version"].is_number_integer()) {
      out.setup_version = body["setup_version"];
    }
    // The site's setup, as sent: the node checks its signature before it uses it.
    if (body.contains("setup")) out.setup = signed_setup_from(body["setup"]);
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
