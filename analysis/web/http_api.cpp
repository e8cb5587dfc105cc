// HttpApi's transport: the cpp-httplib server (HTTP or HTTPS), its limits, the error and
// exception handlers, starting and stopping; the route table and the access check built from
// it, which runs before every route; and the health check and the nodes' signed uploads. The
// other handlers are in session_routes.cpp, site_routes.cpp, metrics_route.cpp and
// stream_routes.cpp (api_service.h).
#include "analysis/web/http_api.h"

#include <httplib.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <thread>

#include "analysis/web/api_service.h"
#include "analysis/web/http_util.h"
#include "analysis/web/request_checks.h"
#include "analysis/web/route_table.h"
#include "common/log.h"
#include "protocol/wire.h"

namespace att {

void ApiService::routes() {
  TlsContext tls;
  if (!options.tls_cert.empty()) {
    auto made = make_tls_context(options.tls_cert, options.tls_key);
    if (made) {
      tls = std::move(*made);
    } else {
      tls_error = made.error().message;
    }
  }
  this->server = std::make_unique<HttpServer>(options.connections, std::move(tls));
  HttpServer& server = *this->server;
  server.new_task_queue = [n = options.threads] { return new httplib::ThreadPool(n); };
  server.set_payload_max_length(static_cast<size_t>(options.max_body_bytes));
  // An answer is written as headers, then body: with Nagle's algorithm the body waits for the
  // ACK of the headers, which a client delays (40 ms) on a kept-alive connection.
  server.set_tcp_nodelay(true);
  // Before any route, the static files included: who may make this request (the table).
  server.set_pre_routing_handler(
      [this](const auto& req, auto& res) { return check_access(req, res); });
  routes_.emplace(table());
  routes_->install(server);

  if (!options.dashboard_dir.empty() &&
      !server.set_mount_point("/", options.dashboard_dir.string())) {
    log->error("dashboard directory {} not found; the web UI is not served",
               options.dashboard_dir.string());
  }

  // Errors without a body (no route, payload limit) get the same JSON shape as ours.
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    switch (res.status) {
      case 400:
        send_error(res, 400, "bad_request",
                   "the request could not be read (malformed, too slow, or its body ended early)");
        break;
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

// Every route of the service: method, path, who may call it, the capability the dashboard
// knows it by (GET /api/v1/session lists a caller's), and its handler.
RouteTable ApiService::table() {
  const auto own = [this](void (ApiService::*f)(const httplib::Request&, httplib::Response&)) {
    return [this, f](const httplib::Request& req, httplib::Response& res) { (this->*f)(req, res); };
  };
  const auto rec = [this](void (RecordsApi::*f)(const httplib::Request&, httplib::Response&)) {
    return
        [this, f](const httplib::Request& req, httplib::Response& res) { (records.*f)(req, res); };
  };
  // clang-format off
  return RouteTable({
    // method path                                  who may                         capability   handler
    {"GET",  "/healthz",                            kAnyone,                        "",          own(&ApiService::get_healthz)},
    // Signed by the site's node (HMAC, ingest.h), not by a session.
    {"POST", wire::kFramesPath,                     kAnyone,                        "",          own(&ApiService::post_frame)},
    {"POST", wire::kHealthPath,                     kAnyone,                        "",          own(&ApiService::post_heartbeat)},
    {"POST", wire::kCountsPath,                     kAnyone,                        "",          own(&ApiService::post_count)},
    {"POST", wire::kEvidencePath,                   kAnyone,                        "",          own(&ApiService::post_evidence)},
    {"POST", "/api/v1/login",                       kAnyone,                        "",          own(&ApiService::post_login)},
    {"GET",  "/api/v1/session",                     kAnyone,                        "",          own(&ApiService::get_session)},  // 401 itself without one
    {"POST", "/api/v1/logout",                      kEveryRole,                     "",          own(&ApiService::post_logout)},
    {"GET",  "/metrics",                            kTechnicians | kAdmins | kLoopback, "metrics", own(&ApiService::get_metrics)},
    // What every role sees: the province's sites, their counts and pictures, alerts, events.
    {"GET",  "/api/v1/status",                      kEveryRole,                     "sites",     own(&ApiService::get_status)},
    {"GET",  "/api/v1/sites",                       kEveryRole,                     "sites",     own(&ApiService::get_sites)},
    {"GET",  "/api/v1/sites/{site}/latest",         kEveryRole,                     "sites",     own(&ApiService::get_latest)},
    {"GET",  "/api/v1/sites/{site}/latest.jpg",     kEveryRole,                     "sites",     own(&ApiService::get_latest_jpeg)},
    {"GET",  "/api/v1/sites/{site}/timeline",       kEveryRole,                     "sites",     own(&ApiService::get_timeline)},
    {"GET",  "/api/v1/events",                      kEveryRole,                     "sites",     own(&ApiService::get_events)},
    {"GET",  "/api/v1/alerts",                      kEveryRole,                     "sites",     rec(&RecordsApi::get_alerts)},
    // Live view: the site's node is asked for a frame every half second.
    {"GET",  "/api/v1/sites/{site}/live.mjpeg",     kTechnicians | kAdmins,         "live",      own(&ApiService::get_live_mjpeg)},
    {"POST", "/api/v1/sites/{site}/live",           kTechnicians | kAdmins,         "live",      own(&ApiService::post_live)},
    // A site's counting setup: areas, empty-room reference (applied from the next frame).
    {"GET",  "/api/v1/sites/{site}/setup",          kTechnicians | kAdmins,         "setup",     own(&ApiService::get_setup)},
    {"GET",  "/api/v1/sites/{site}/setup/picture.jpg", kTechnicians | kAdmins,      "setup",     own(&ApiService::get_setup_picture)},
    {"POST", "/api/v1/sites/{site}/setup/preview",  kTechnicians | kAdmins,         "setup",     own(&ApiService::post_setup_preview)},
    {"POST", "/api/v1/sites/{site}/setup",          kTechnicians | kAdmins,         "setup",     own(&ApiService::post_setup)},
    // The attendance record.
    {"GET",  "/api/v1/roll-calls",                  kRecordReaders,                 "records",   rec(&RecordsApi::get_roll_calls)},
    {"GET",  "/api/v1/summaries",                   kRecordReaders,                 "records",   rec(&RecordsApi::get_summaries)},
    {"GET",  "/api/v1/rollup",                      kRecordReaders,                 "records",   rec(&RecordsApi::get_rollup)},
    {"GET",  "/api/v1/evidence/{site}/{file}.jpg",  kRecordReaders,                 "records",   rec(&RecordsApi::get_evidence)},
    {"GET",  "/api/v1/reports/sites/{site}.html",   kRecordReaders,                 "reports",   rec(&RecordsApi::get_site_report)},
    {"GET",  "/api/v1/reports/district.html",       kRecordReaders,                 "reports",   rec(&RecordsApi::get_district_report)},
    {"GET",  "/api/v1/ledger",                      kAuditors | kAdmins,            "ledger",    rec(&RecordsApi::get_ledger)},
    {"GET",  "/api/v1/ledger/verify",               kAuditors | kAdmins,            "ledger",    rec(&RecordsApi::get_ledger_verify)},
    {"GET",  "/api/v1/exports/{table}.csv",         kAuditors | kAdmins,            "exports",   rec(&RecordsApi::get_export)},
    {"POST", "/api/v1/roll-calls/corrections",      kAuditors,                      "correct",   rec(&RecordsApi::post_correction)},
    {"GET",  "/api/v1/roll-calls/to-check",         kAuditors,                      "correct",   rec(&RecordsApi::get_checks_to_do)},
    // Administration.
    {"GET",  "/api/v1/users",                       kAdmins,                        "users",     own(&ApiService::get_users)},
    {"POST", "/api/v1/users",                       kAdmins,                        "users",     own(&ApiService::post_user)},
    {"POST", "/api/v1/users/{user}",                kAdmins,                        "users",     own(&ApiService::post_user_change)},
  });
  // clang-format on
}

httplib::Server::HandlerResponse ApiService::check_access(const httplib::Request& req,
                                                          httplib::Response& res) {
  using Answer = httplib::Server::HandlerResponse;
  const bool has_body =
      req.has_header("Transfer-Encoding") ||
      (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
  // The body of a refused request is never read, so the connection must not be read on past
  // it (the body could hold another request): it ends after the answer.
  const auto refused = [&] {
    if (has_body) {
      res.set_header("Connection", "close");
      HttpServer::close_after_answer();
    }
    return Answer::Handled;
  };
  const auto refuse = [&](int status, const std::string& code, const std::string& message) {
    send_error(res, status, code, message);
    return refused();
  };
  // cpp-httplib 0.11 applies the body limit (set_payload_max_length) to a Content-Length but
  // not to a chunked body, which it would read whole into memory: bodies need a length.
  if (req.has_header("Transfer-Encoding")) {
    return refuse(411, "length_required", "a request body needs a Content-Length");
  }
  // A GET, HEAD or OPTIONS has no body; cpp-httplib would not read one.
  if (has_body && !changes_state(req.method)) {
    return refuse(400, "unexpected_body", "a " + req.method + " request has no body");
  }
  // Refused before it is read: cpp-httplib would read a body over the limit to skip it.
  if (has_body) {
    const std::string length = req.get_header_value("Content-Length");
    std::int64_t bytes = -1;
    const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), bytes);
    if (ec != std::errc() || end != length.data() + length.size() || bytes < 0) {
      return refuse(400, "bad_content_length", "Content-Length is not a number of bytes");
    }
    if (bytes > options.max_body_bytes) {
      return refuse(
          413, "body_too_large",
          "request body exceeds the limit of " + std::to_string(options.max_body_bytes) + " bytes");
    }
  }
  const std::optional<unsigned> allowed = routes_->access(req.method, req.path);
  if (!allowed) return refuse(404, "not_found", "no such resource");
  if (*allowed & kAnyone) return Answer::Unhandled;
  if ((*allowed & kLoopback) && is_loopback(client(req).address)) return Answer::Unhandled;
  const auto who = session_of(auth, req, res);  // 401 or 503 in res without one
  if (!who) return refused();
  if (!(*allowed & role_bit(who->role))) {
    return refuse(403, "forbidden",
                  "the role " + std::string(to_string(who->role)) + " may not " + req.method + " " +
                      req.path);
  }
  if (changes_state(req.method)) {
    if (!secrets_equal(req.get_header_value(kCsrfHeader), who->csrf_token)) {
      return refuse(403, "csrf",
                    std::string("a change needs the session's ") + kCsrfHeader +
                        " header (from the login or GET /api/v1/session)");
    }
    if (req.has_header("Origin") &&
        !origin_matches_host(req.get_header_value("Origin"), req.get_header_value("Host"))) {
      return refuse(403, "csrf", "a change must come from the dashboard's own pages (Origin)");
    }
  }
  return Answer::Unhandled;
}

void ApiService::get_healthz(const httplib::Request&, httplib::Response& res) {
  send_json(res, 200, {{"status", "ok"}});
}

void ApiService::post_frame(const httplib::Request& req, httplib::Response& res) {
  upload(req, res, wire::kFramesPath, &Ingest::handle_frame, "frames");
}

void ApiService::post_heartbeat(const httplib::Request& req, httplib::Response& res) {
  upload(req, res, wire::kHealthPath, &Ingest::handle_heartbeat, "health");
}

void ApiService::post_count(const httplib::Request& req, httplib::Response& res) {
  upload(req, res, wire::kCountsPath, &Ingest::handle_count, "counts");
}

void ApiService::post_evidence(const httplib::Request& req, httplib::Response& res) {
  upload(req, res, wire::kEvidencePath, &Ingest::handle_evidence, "evidence");
}

void ApiService::upload(const httplib::Request& req, httplib::Response& res, const char* path,
                        IngestReply (Ingest::*handle)(const Upload&), const char* endpoint) {
  Upload up;
  up.site_id = req.get_header_value(wire::kSiteHeader);
  up.sequence = req.get_header_value(wire::kSequenceHeader);
  up.capture_time = req.get_header_value(wire::kCaptureTimeHeader);
  up.signature = req.get_header_value(wire::kSignatureHeader);
  if (const char* extra = wire::extra_header(path)) up.extra = req.get_header_value(extra);
  up.content_type = req.get_header_value("Content-Type");
  up.body = req.body;
  const IngestReply reply = (ingest.*handle)(up);
  ingest.metrics().answered(endpoint, reply.status, reply.body.value("code", ""));
  if (reply.retry_after_s > 0) res.set_header("Retry-After", std::to_string(reply.retry_after_s));
  res.set_header(wire::kServerTimeHeader, std::to_string(ingest.now()));
  send_json(res, reply.status, reply.body);
}

HttpApi::HttpApi(const std::vector<Site>& sites, Ingest& ingest, Store& store, LiveHub& live,
                 Auth& auth, Attendance& roll_book, SiteSetups& setups, ApiOptions options,
                 WallClock clock)
    : impl_(std::make_unique<ApiService>(sites, ingest, store, live, auth, roll_book, setups,
                                         std::move(options), std::move(clock))) {
  impl_->routes();
}

HttpApi::~HttpApi() {
  stop();
}

Result<int> HttpApi::start(const std::string& host, int port) {
  auto& server = *impl_->server;
  if (!impl_->tls_error.empty()) return fail(impl_->tls_error);
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
  if (!impl_) return;
  // Streams wait on the hub, not on the socket: closing it ends them, so that the worker
  // threads can be joined.
  impl_->live.close();
  if (!impl_->listener.joinable()) return;
  impl_->server->stop();
  impl_->listener.join();
}

}  // namespace att
