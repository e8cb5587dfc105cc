#include "analysis/http_api.h"

#include <httplib.h>

#include <thread>

#include "analysis/jpeg.h"
#include "common/files.h"
#include "common/log.h"
#include "common/wire.h"

namespace att {
namespace {

using nlohmann::json;

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

void send_error(httplib::Response& res, int status, const std::string& code,
                const std::string& message) {
  send_json(res, status, {{"error", message}, {"code", code}});
}

json latest_json(const Observation& o) {
  return {
      {"count", o.count},
      {"frame_count", o.frame_count},
      {"sequence", o.sequence},
      {"captured_at_ms", o.captured_at_ms},
      {"captured_at", iso8601_utc(o.captured_at_ms)},
      {"received_at_ms", o.received_at_ms},
      {"health", o.health.empty() ? json(nullptr)
                                  : json::parse(o.health, nullptr, /*allow_exceptions=*/false)}};
}

// A node's latest heartbeat: its own report (camera, health, spool, counters) and its age.
json node_json(const Heartbeat& h, std::int64_t now) {
  return {{"sequence", h.sequence},
          {"reported_at_ms", h.captured_at_ms},
          {"received_at_ms", h.received_at_ms},
          {"age_ms", now - h.captured_at_ms},
          {"report", json::parse(h.report, nullptr, /*allow_exceptions=*/false)}};
}

}  // namespace

struct HttpApi::Impl {
  std::vector<const Site*> sites;  // config order
  std::map<std::string, const Site*> by_id;
  Ingest& ingest;
  Store& store;
  ApiOptions options;
  WallClock clock;
  std::unique_ptr<httplib::Server> server;  // an SSLServer with TLS files
  std::thread listener;
  std::shared_ptr<spdlog::logger> log = log::get("http");

  Impl(const std::vector<Site>& all, Ingest& i, Store& s, ApiOptions o, WallClock c)
      : ingest(i), store(s), options(std::move(o)), clock(std::move(c)) {
    for (const Site& site : all) {
      sites.push_back(&site);
      by_id[site.id] = &site;
    }
  }

  void routes();
  void post_upload(const httplib::Request& req, httplib::Response& res, bool frame);
  void get_sites(httplib::Response& res);
  void get_metrics(httplib::Response& res);
  std::optional<Observation> latest_or_error(const std::string& id, httplib::Response& res);
  void get_latest(const std::string& id, httplib::Response& res);
  void get_latest_jpeg(const std::string& id, httplib::Response& res);
};

void HttpApi::Impl::routes() {
  if (!options.tls_cert.empty()) {
    server =
        std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(), options.tls_key.c_str());
  } else {
    server = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *this->server;
  server.new_task_queue = [n = options.threads] { return new httplib::ThreadPool(n); };
  server.set_payload_max_length(static_cast<size_t>(options.max_body_bytes));
  server.set_read_timeout(std::chrono::seconds(30));
  server.set_write_timeout(std::chrono::seconds(30));

  server.Post(wire::kFramesPath,
              [this](const auto& req, auto& res) { post_upload(req, res, /*frame=*/true); });
  server.Post(wire::kHealthPath,
              [this](const auto& req, auto& res) { post_upload(req, res, /*frame=*/false); });
  // Live view: the site's node is asked for frames every live_interval_s for a while (the
  // dashboard repeats the request while the view is open). No connection goes to the site.
  server.Post(R"(/api/v1/sites/([a-z0-9_-]{1,32})/live)", [this](const auto& req, auto& res) {
    const std::string id = req.matches[1];
    if (!by_id.contains(id)) return send_error(res, 404, "unknown_site", "no site '" + id + "'");
    const std::int64_t until = ingest.request_live(id);
    send_json(res, 200,
              {{"site_id", id}, {"live_until_ms", until}, {"interval_s", ingest.interval_for(id)}});
  });
  server.Get("/healthz", [](const auto&, auto& res) { send_json(res, 200, {{"status", "ok"}}); });
  server.Get("/metrics", [this](const auto&, auto& res) { get_metrics(res); });
  server.Get("/api/v1/status", [this](const auto&, auto& res) {
    send_json(res, 200,
              {{"service", "attendance-server"},
               {"version", ATTENDANCE_VERSION},
               {"province", options.province_name},
               {"timezone", options.timezone},
               {"server_time_ms", clock()},
               {"sites", sites.size()},
               {"detector",
                {{"name", options.detector_name},
                 {"degraded", options.detector_degraded},
                 {"message", options.detector_message}}}});
  });
  server.Get("/api/v1/sites", [this](const auto&, auto& res) { get_sites(res); });
  server.Get(R"(/api/v1/sites/([a-z0-9_-]{1,32})/latest)",
             [this](const auto& req, auto& res) { get_latest(req.matches[1], res); });
  server.Get(R"(/api/v1/sites/([a-z0-9_-]{1,32})/latest\.jpg)",
             [this](const auto& req, auto& res) { get_latest_jpeg(req.matches[1], res); });

  if (!options.dashboard_dir.empty() &&
      !server.set_mount_point("/", options.dashboard_dir.string())) {
    log->error("dashboard directory {} not found; the web UI is not served",
               options.dashboard_dir.string());
  }

  // Errors without a body (no route, payload limit) get the same JSON shape as ours.
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    switch (res.status) {
      case 404:
        send_error(res, 404, "not_found", "no such resource");
        break;
      case 413:
        send_error(res, 413, "body_too_large", "request body exceeds the configured limit");
        break;
      default:
        send_error(res, res.status, "http_error", "HTTP error " + std::to_string(res.status));
    }
  });
  // The one place exceptions stop: a throwing handler becomes a 500, never a dead thread.
  server.set_exception_handler(
      [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        log->error("{} {}: {}", req.method, req.path, what);
        send_error(res, 500, "internal_error", "internal error");
      });
  server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    log->debug("{} {} -> {}", req.method, req.path, res.status);
  });
}

void HttpApi::Impl::post_upload(const httplib::Request& req, httplib::Response& res, bool frame) {
  Upload up;
  up.site_id = req.get_header_value(wire::kSiteHeader);
  up.sequence = req.get_header_value(wire::kSequenceHeader);
  up.capture_time = req.get_header_value(wire::kCaptureTimeHeader);
  up.signature = req.get_header_value(wire::kSignatureHeader);
  up.extra = req.get_header_value(frame ? wire::kHealthHeader : wire::kSpoolDroppedHeader);
  up.content_type = req.get_header_value("Content-Type");
  up.body = req.body;
  const IngestReply reply = frame ? ingest.handle_frame(up) : ingest.handle_heartbeat(up);
  ingest.metrics().answered(frame ? "frames" : "health", reply.status,
                            reply.body.value("code", ""));
  if (reply.retry_after_s > 0) res.set_header("Retry-After", std::to_string(reply.retry_after_s));
  send_json(res, reply.status, reply.body);
}

void HttpApi::Impl::get_sites(httplib::Response& res) {
  auto latest = store.latest_per_site();
  if (!latest) {
    log->error("sites: {}", latest.error().message);
    return send_error(res, 503, "storage_failed", "cannot read observations");
  }
  auto heartbeats = store.latest_heartbeat_per_site();
  if (!heartbeats) {
    log->error("sites: {}", heartbeats.error().message);
    return send_error(res, 503, "storage_failed", "cannot read heartbeats");
  }
  std::map<std::string, const Observation*> latest_by_site;
  for (const auto& o : *latest) latest_by_site[o.site_id] = &o;
  std::map<std::string, const Heartbeat*> heartbeat_by_site;
  for (const auto& h : *heartbeats) heartbeat_by_site[h.site_id] = &h;
  const std::int64_t now = clock();
  json list = json::array();
  for (const Site* s : sites) {
    auto it = latest_by_site.find(s->id);
    auto hb = heartbeat_by_site.find(s->id);
    list.push_back(
        {{"id", s->id},
         {"name", s->name},
         {"district", s->district},
         {"school_level", to_string(s->level)},
         {"expected_attendees", s->expected_attendees},
         {"latest", it == latest_by_site.end() ? json(nullptr) : latest_json(*it->second)},
         {"node", hb == heartbeat_by_site.end() ? json(nullptr) : node_json(*hb->second, now)}});
  }
  send_json(res, 200, {{"server_time_ms", clock()}, {"sites", std::move(list)}});
}

// Prometheus text format: the ingest counters, the queue, and per site the age of its latest
// frame and heartbeat and its node's spool drops (as the node last reported them).
void HttpApi::Impl::get_metrics(httplib::Response& res) {
  std::string out = ingest.metrics().render();
  const IngestQueueStats q = ingest.queue_stats();
  const IngestQueueLimits& limits = ingest.queue_limits();
  out += "# HELP attendance_queue_frames Frames in hand for detection, by state.\n";
  out += "# TYPE attendance_queue_frames gauge\n";
  out += fmt::format("attendance_queue_frames{{state=\"waiting\"}} {}\n", q.waiting);
  out += fmt::format("attendance_queue_frames{{state=\"detecting\"}} {}\n", q.running);
  out += "# HELP attendance_queue_capacity Frames the queue holds before answering 503.\n";
  out += "# TYPE attendance_queue_capacity gauge\n";
  out += fmt::format("attendance_queue_capacity {}\n", limits.capacity);
  out += "# HELP attendance_detectors Detectors working in parallel.\n";
  out += "# TYPE attendance_detectors gauge\n";
  out += fmt::format("attendance_detectors {}\n", limits.workers);

  const std::int64_t now = clock();
  auto latest = store.latest_per_site();
  auto heartbeats = store.latest_heartbeat_per_site();
  if (!latest || !heartbeats) {
    log->error("metrics: {}", (!latest ? latest.error() : heartbeats.error()).message);
    return send_error(res, 503, "storage_failed", "cannot read observations");
  }
  out += "# HELP attendance_site_frame_age_seconds Since the site's latest frame was received.\n";
  out += "# TYPE attendance_site_frame_age_seconds gauge\n";
  for (const Observation& o : *latest) {
    out += fmt::format("attendance_site_frame_age_seconds{{site=\"{}\"}} {:.1f}\n", o.site_id,
                       (now - o.received_at_ms) / 1000.0);
  }
  out += "# HELP attendance_site_heartbeat_age_seconds Since the site's node last reported.\n";
  out += "# TYPE attendance_site_heartbeat_age_seconds gauge\n";
  for (const Heartbeat& h : *heartbeats) {
    out += fmt::format("attendance_site_heartbeat_age_seconds{{site=\"{}\"}} {:.1f}\n", h.site_id,
                       (now - h.received_at_ms) / 1000.0);
  }
  out +=
      "# HELP attendance_node_dropped Items a node dropped (its spool full, its camera "
      "queue behind), as it last reported them.\n";
  out += "# TYPE attendance_node_dropped gauge\n";
  for (const Heartbeat& h : *heartbeats) {
    const json r = json::parse(h.report, nullptr, /*allow_exceptions=*/false);
    if (!r.is_object()) continue;
    const auto number = [&](const char* group, const char* key) -> std::int64_t {
      return r.contains(group) && r[group].is_object() && r[group].contains(key) &&
                     r[group][key].is_number_integer()
                 ? r[group][key].get<std::int64_t>()
                 : 0;
    };
    out += fmt::format("attendance_node_dropped{{site=\"{}\",reason=\"spool_full\"}} {}\n",
                       h.site_id, number("spool", "dropped"));
    out += fmt::format("attendance_node_dropped{{site=\"{}\",reason=\"queue\"}} {}\n", h.site_id,
                       number("counters", "queue_dropped"));
    out += fmt::format("attendance_node_dropped{{site=\"{}\",reason=\"disk\"}} {}\n", h.site_id,
                       number("counters", "spool_failed"));
  }
  res.set_header("Cache-Control", "no-store");
  res.set_content(out, "text/plain; version=0.0.4; charset=utf-8");
}

// The site's latest observation, or nothing with the error already in `res`.
std::optional<Observation> HttpApi::Impl::latest_or_error(const std::string& id,
                                                          httplib::Response& res) {
  if (!by_id.contains(id)) {
    send_error(res, 404, "unknown_site", "no site '" + id + "'");
    return std::nullopt;
  }
  auto latest = store.latest_observation(id);
  if (!latest) {
    log->error("site {}: {}", id, latest.error().message);
    send_error(res, 503, "storage_failed", "cannot read observations");
    return std::nullopt;
  }
  if (!*latest) send_error(res, 404, "no_observation", "site '" + id + "' has sent no frame yet");
  return *latest;
}

void HttpApi::Impl::get_latest(const std::string& id, httplib::Response& res) {
  const auto latest = latest_or_error(id, res);
  if (!latest) return;
  const Observation& o = *latest;
  json body = latest_json(o);
  json boxes = json::array();
  for (const Box& b : o.boxes) {
    boxes.push_back({{"x", b.x}, {"y", b.y}, {"w", b.w}, {"h", b.h}, {"score", b.score}});
  }
  body["site_id"] = id;
  body["server_time_ms"] = clock();
  body["age_ms"] = clock() - o.captured_at_ms;
  body["boxes"] = std::move(boxes);
  body["detector"] = o.detector;
  body["width"] = o.width;
  body["height"] = o.height;
  body["frame_url"] = "/api/v1/sites/" + id + "/latest.jpg";
  send_json(res, 200, body);
}

void HttpApi::Impl::get_latest_jpeg(const std::string& id, httplib::Response& res) {
  const auto latest = latest_or_error(id, res);
  if (!latest) return;
  const auto jpeg = read_file(options.data_dir / latest->frame_path);
  auto frame = jpeg ? decode_jpeg(std::span(reinterpret_cast<const unsigned char*>(jpeg->data()),
                                            jpeg->size()),
                                  std::int64_t{1} << 40)
                    : std::unexpected(jpeg.error());
  if (!frame) {
    log->error("site {}: stored frame {} unreadable: {}", id, latest->frame_path,
               frame.error().message);
    return send_error(res, 500, "frame_unreadable", "the stored frame cannot be read");
  }
  // The reported count, and what this frame alone showed (the boxes drawn).
  const std::string label = std::to_string(latest->count) + " (" +
                            std::to_string(latest->frame_count) + " in this frame)";
  const auto out = encode_jpeg(annotate(*frame, latest->boxes, label), 85);
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::string(out.begin(), out.end()), "image/jpeg");
}

HttpApi::HttpApi(const std::vector<Site>& sites, Ingest& ingest, Store& store, ApiOptions options,
                 WallClock clock)
    : impl_(std::make_unique<Impl>(sites, ingest, store, std::move(options), std::move(clock))) {
  impl_->routes();
}

HttpApi::~HttpApi() {
  stop();
}

Result<int> HttpApi::start(const std::string& host, int port) {
  auto& server = *impl_->server;
  // OpenSSL itself only compares a key with a certificate of the same type: an EC key
  // beside an RSA certificate would load, and every handshake would then fail.
  const bool tls = !impl_->options.tls_cert.empty();
  if (!server.is_valid() ||
      (tls &&
       SSL_CTX_check_private_key(static_cast<httplib::SSLServer&>(server).ssl_context()) != 1)) {
    return fail("cannot use the TLS certificate " + impl_->options.tls_cert.string() + " and key " +
                impl_->options.tls_key.string() + " (unreadable, not PEM, or not a pair)");
  }
  const int bound = port == 0                         ? server.bind_to_any_port(host)
                    : server.bind_to_port(host, port) ? port
                                                      : -1;
  if (bound < 0) return fail("cannot listen on " + host + ":" + std::to_string(port));
  impl_->listener = std::thread([&server] { server.listen_after_bind(); });
  for (int i = 0; !server.is_running(); ++i) {
    if (i == 5000) {
      stop();
      return fail("the HTTP listener did not start on " + host + ":" + std::to_string(bound));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->log->info("listening on {}://{}:{}", impl_->options.tls_cert.empty() ? "http" : "https",
                   host, bound);
  return bound;
}

void HttpApi::stop() {
  if (!impl_ || !impl_->listener.joinable()) return;
  impl_->server->stop();
  impl_->listener.join();
}

}  // namespace att
