#include "analysis/web/http_api.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <thread>

#include "analysis/domain/attendance.h"
#include "analysis/domain/rollup.h"
#include "analysis/domain/site_state.h"
#include "analysis/web/http_util.h"
#include "analysis/web/route_table.h"
#include "common/files.h"
#include "common/log.h"
#include "counting/jpeg.h"
#include "protocol/node_report.h"
#include "protocol/wire.h"

namespace att {
namespace {

using nlohmann::json;

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

using SteadyClock = std::chrono::steady_clock;

SteadyClock::duration seconds_of(double s) {
  return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
}

// The separator of MJPEG parts (multipart/x-mixed-replace); never occurs in a part's headers.
constexpr char kMjpegBoundary[] = "attendance-live-frame";

// A node's latest heartbeat: its own report (camera, health, spool, counters), its age, and
// the items it lost (NodeReport::items_lost).
json node_json(const Heartbeat& h, const std::optional<NodeReport>& report, std::int64_t now) {
  const std::optional<std::int64_t> lost = report ? report->items_lost() : std::nullopt;
  return {{"sequence", h.sequence},
          {"reported_at_ms", h.captured_at_ms},
          {"received_at_ms", h.received_at_ms},
          {"age_ms", now - h.captured_at_ms},
          {"items_lost", lost ? json(*lost) : json(nullptr)},
          {"report", report ? json::parse(report->to_json()) : json(nullptr)}};
}

// A required whole-number parameter, or none with a 400 in `res`.
std::optional<std::int64_t> required_number(const httplib::Request& req, httplib::Response& res,
                                            const char* name, const char* what) {
  const std::string text = req.get_param_value(name);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    send_error(res, 400, "bad_parameter",
               std::string(name) + " must be " + what + " (got '" + text.substr(0, 32) + "')");
    return std::nullopt;
  }
  return v;
}

// The most points one timeline answer holds: 24 h of a frame every 5 s fit.
constexpr int kTimelinePoints = 20000;
constexpr std::int64_t kTimelineSpanMs = 24 * 3600 * 1000;

}  // namespace

struct HttpApi::Impl {
  std::vector<const Site*> sites;  // config order
  std::map<std::string, const Site*> by_id;
  Ingest& ingest;
  Store& store;
  LiveHub& live;
  Auth& auth;
  Attendance& roll_book;
  ApiOptions options;
  WallClock clock;
  std::unique_ptr<httplib::Server> server;  // an SSLServer with TLS files
  std::thread listener;
  std::shared_ptr<spdlog::logger> log = log::get("http");

  log::RateLimit stream_log{std::chrono::seconds(10)};
  RecordsApi records;

  Impl(const std::vector<Site>& all, Ingest& i, Store& s, LiveHub& l, Auth& a, Attendance& r,
       ApiOptions o, WallClock c)
      : ingest(i),
        store(s),
        live(l),
        auth(a),
        roll_book(r),
        options(std::move(o)),
        clock(std::move(c)),
        records(all, s, a, options.records, clock) {
    for (const Site& site : all) {
      sites.push_back(&site);
      by_id[site.id] = &site;
    }
  }

  void routes();
  RouteTable table();
  httplib::Server::HandlerResponse check_access(const httplib::Request& req,
                                                httplib::Response& res);
  std::string session_cookie(const std::string& token, bool end) const;
  // The handlers of the routes (the route table says who may call which).
  void post_login(const httplib::Request& req, httplib::Response& res);
  void post_logout(const httplib::Request& req, httplib::Response& res);
  void get_session(const httplib::Request& req, httplib::Response& res);
  void get_users(const httplib::Request& req, httplib::Response& res);
  void get_healthz(const httplib::Request& req, httplib::Response& res);
  void get_status(const httplib::Request& req, httplib::Response& res);
  void post_frame(const httplib::Request& req, httplib::Response& res);
  void post_heartbeat(const httplib::Request& req, httplib::Response& res);
  void post_live(const httplib::Request& req, httplib::Response& res);
  void get_timeline(const httplib::Request& req, httplib::Response& res);
  void get_sites(const httplib::Request& req, httplib::Response& res);
  void get_metrics(const httplib::Request& req, httplib::Response& res);
  void get_latest(const httplib::Request& req, httplib::Response& res);
  void get_latest_jpeg(const httplib::Request& req, httplib::Response& res);
  void get_events(const httplib::Request& req, httplib::Response& res);
  void get_live_mjpeg(const httplib::Request& req, httplib::Response& res);

  void upload(const httplib::Request& req, httplib::Response& res, bool frame);
  std::optional<Observation> latest_or_error(const std::string& id, httplib::Response& res);
  Result<std::shared_ptr<const LiveFrame>> stored_frame(const Observation& o);

  std::optional<RouteTable> routes_;  // made by routes()
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
  // An answer is written as headers, then body: with Nagle's algorithm the body waits for the
  // ACK of the headers, which a client delays (40 ms) on a kept-alive connection.
  server.set_tcp_nodelay(true);
  server.set_read_timeout(std::chrono::seconds(30));
  server.set_write_timeout(std::chrono::seconds(30));
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
RouteTable HttpApi::Impl::table() {
  const auto own = [this](void (Impl::*f)(const httplib::Request&, httplib::Response&)) {
    return [this, f](const httplib::Request& req, httplib::Response& res) { (this->*f)(req, res); };
  };
  const auto rec = [this](void (RecordsApi::*f)(const httplib::Request&, httplib::Response&)) {
    return
        [this, f](const httplib::Request& req, httplib::Response& res) { (records.*f)(req, res); };
  };
  // clang-format off
  return RouteTable({
    // method path                                  who may                         capability   handler
    {"GET",  "/healthz",                            kAnyone,                        "",          own(&Impl::get_healthz)},
    // Signed by the site's node (HMAC, ingest.h), not by a session.
    {"POST", wire::kFramesPath,                     kAnyone,                        "",          own(&Impl::post_frame)},
    {"POST", wire::kHealthPath,                     kAnyone,                        "",          own(&Impl::post_heartbeat)},
    {"POST", "/api/v1/login",                       kAnyone,                        "",          own(&Impl::post_login)},
    {"GET",  "/api/v1/session",                     kAnyone,                        "",          own(&Impl::get_session)},  // 401 itself without one
    {"POST", "/api/v1/logout",                      kEveryRole,                     "",          own(&Impl::post_logout)},
    {"GET",  "/metrics",                            kTechnicians | kAdmins | kLoopback, "metrics", own(&Impl::get_metrics)},
    // What every role sees: the province's sites, their counts and pictures, alerts, events.
    {"GET",  "/api/v1/status",                      kEveryRole,                     "sites",     own(&Impl::get_status)},
    {"GET",  "/api/v1/sites",                       kEveryRole,                     "sites",     own(&Impl::get_sites)},
    {"GET",  "/api/v1/sites/{site}/latest",         kEveryRole,                     "sites",     own(&Impl::get_latest)},
    {"GET",  "/api/v1/sites/{site}/latest.jpg",     kEveryRole,                     "sites",     own(&Impl::get_latest_jpeg)},
    {"GET",  "/api/v1/sites/{site}/timeline",       kEveryRole,                     "sites",     own(&Impl::get_timeline)},
    {"GET",  "/api/v1/events",                      kEveryRole,                     "sites",     own(&Impl::get_events)},
    {"GET",  "/api/v1/alerts",                      kEveryRole,                     "sites",     rec(&RecordsApi::get_alerts)},
    // Live view: the site's node is asked for a frame every half second.
    {"GET",  "/api/v1/sites/{site}/live.mjpeg",     kTechnicians | kAdmins,         "live",      own(&Impl::get_live_mjpeg)},
    {"POST", "/api/v1/sites/{site}/live",           kTechnicians | kAdmins,         "live",      own(&Impl::post_live)},
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
    // Administration.
    {"GET",  "/api/v1/users",                       kAdmins,                        "users",     own(&Impl::get_users)},
  });
  // clang-format on
}

httplib::Server::HandlerResponse HttpApi::Impl::check_access(const httplib::Request& req,
                                                             httplib::Response& res) {
  using Answer = httplib::Server::HandlerResponse;
  // The body of a refused request is never read, so the connection must not be read on past
  // it: the client is told to close it.
  const auto refused = [&] {
    if (req.has_header("Transfer-Encoding") ||
        (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0")) {
      res.set_header("Connection", "close");
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
  const std::optional<unsigned> allowed = routes_->access(req.method, req.path);
  if (!allowed) return refuse(404, "not_found", "no such resource");
  if (*allowed & kAnyone) return Answer::Unhandled;
  if ((*allowed & kLoopback) && is_loopback(req.remote_addr)) return Answer::Unhandled;
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

// The session cookie: the token, or (end) an empty one that the browser drops at once.
std::string HttpApi::Impl::session_cookie(const std::string& token, bool end) const {
  std::string cookie =
      std::string(kSessionCookie) + "=" + token + "; Path=/; HttpOnly; SameSite=Strict";
  if (end) cookie += "; Max-Age=0";
  if (!options.tls_cert.empty()) cookie += "; Secure";
  return cookie;
}

// {"user", "password"} -> the session's cookie and {"user", "role", "capabilities",
// "csrf_token", "expires_ms"}; 401 bad_credentials whatever was wrong; 429 too_many_attempts.
void HttpApi::Impl::post_login(const httplib::Request& req, httplib::Response& res) {
  std::string type = req.get_header_value("Content-Type");
  type = type.substr(0, type.find(';'));
  std::ranges::transform(type, type.begin(), [](unsigned char c) { return std::tolower(c); });
  while (type.ends_with(' ')) type.pop_back();
  if (type != "application/json") {
    return send_error(res, 415, "unsupported_media_type",
                      "a login is JSON: Content-Type: application/json");
  }
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("user") || !body["user"].is_string() ||
      !body.contains("password") || !body["password"].is_string()) {
    return send_error(res, 400, "bad_request", "expected JSON {\"user\": ..., \"password\": ...}");
  }
  auto login = auth.login(body["user"].get<std::string>(), body["password"].get<std::string>(),
                          req.remote_addr);
  if (!login) {
    log->error("login: {}", login.error().message);
    return send_error(res, 503, "storage_failed", "cannot log in now; try again");
  }
  switch (login->outcome) {
    case LoginResult::Outcome::kThrottled:
      res.set_header("Retry-After", std::to_string(login->retry_after_s));
      return send_error(res, 429, "too_many_attempts",
                        "too many failed logins for this user or from this address; try again "
                        "in " +
                            std::to_string(login->retry_after_s) + " s");
    case LoginResult::Outcome::kBadCredentials:
      return send_error(res, 401, "bad_credentials", "wrong user name or password");
    case LoginResult::Outcome::kOk:
      break;
  }
  const Identity& who = login->identity;
  res.set_header("Set-Cookie", session_cookie(login->token, /*end=*/false));
  send_json(res, 200,
            {{"user", who.user},
             {"role", to_string(who.role)},
             {"capabilities", routes_->capabilities(who.role)},
             {"csrf_token", who.csrf_token},
             {"expires_ms", who.expires_ms}});
}

void HttpApi::Impl::post_logout(const httplib::Request& req, httplib::Response& res) {
  if (auto ended = auth.logout(cookie_value(req, kSessionCookie)); !ended) {
    log->error("logout: {}", ended.error().message);
    return send_error(res, 503, "storage_failed", "cannot log out now; try again");
  }
  res.set_header("Set-Cookie", session_cookie("", /*end=*/true));
  send_json(res, 200, {{"status", "logged_out"}});
}

void HttpApi::Impl::get_session(const httplib::Request& req, httplib::Response& res) {
  const auto who = session_of(auth, req, res);
  if (!who) return;
  send_json(res, 200,
            {{"user", who->user},
             {"role", to_string(who->role)},
             {"capabilities", routes_->capabilities(who->role)},
             {"csrf_token", who->csrf_token},
             {"expires_ms", who->expires_ms}});
}

void HttpApi::Impl::get_healthz(const httplib::Request&, httplib::Response& res) {
  send_json(res, 200, {{"status", "ok"}});
}

void HttpApi::Impl::get_status(const httplib::Request&, httplib::Response& res) {
  send_json(res, 200,
            {{"service", "attendance-server"},
             {"version", ATTENDANCE_VERSION},
             {"province", options.province_name},
             {"timezone", options.timezone},
             {"server_time_ms", clock()},
             {"sites", sites.size()},
             // What a site's state is judged by (analysis/domain/site_state.h), for legends.
             {"site_state",
              {{"under_fraction", options.records.under_fraction},
               {"frame_current_s", kFrameCurrentMs / 1000},
               {"node_current_s", kNodeCurrentMs / 1000}}},
             {"detector",
              {{"name", options.detector_name},
               {"degraded", options.detector_degraded},
               {"message", options.detector_message}}}});
}

// Live view: the site's node is asked for frames every live_interval_s for a while (the
// dashboard repeats the request while the view is open). No connection goes to the site.
void HttpApi::Impl::post_live(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  if (!by_id.contains(id)) return send_error(res, 404, "unknown_site", "no site '" + id + "'");
  const std::int64_t until = ingest.request_live(id);
  send_json(res, 200,
            {{"site_id", id}, {"live_until_ms", until}, {"interval_s", ingest.interval_for(id)}});
}

void HttpApi::Impl::get_users(const httplib::Request&, httplib::Response& res) {
  auto users = store.users();
  if (!users) {
    log->error("users: {}", users.error().message);
    return send_error(res, 503, "storage_failed", "cannot read the users");
  }
  json list = json::array();
  for (const User& u : *users) {  // never the hash
    list.push_back({{"name", u.name},
                    {"role", u.role},
                    {"disabled", u.disabled},
                    {"created_ms", u.created_ms}});
  }
  send_json(res, 200, {{"users", std::move(list)}});
}

// The site's counts between ?from= and ?to= (ms since epoch, UTC; at most 24 h apart), a point
// per stored frame, oldest first: the window's count, the frame's detections and the health
// flags its node raised. At most kTimelinePoints ("truncated": the oldest of them).
void HttpApi::Impl::get_timeline(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  if (!by_id.contains(id)) return send_error(res, 404, "unknown_site", "no site '" + id + "'");
  const auto from = required_number(req, res, "from", "a time in ms since the epoch (UTC)");
  if (!from) return;
  const auto to = required_number(req, res, "to", "a time in ms since the epoch (UTC)");
  if (!to) return;
  if (*to <= *from) return send_error(res, 400, "bad_parameter", "to must be after from");
  // In unsigned arithmetic: to - from overflows int64 for far-apart values (INT64_MIN, INT64_MAX).
  if (static_cast<std::uint64_t>(*to) - static_cast<std::uint64_t>(*from) >
      static_cast<std::uint64_t>(kTimelineSpanMs)) {
    return send_error(res, 400, "bad_parameter",
                      "from and to are at most 24 h (86400000 ms) apart");
  }
  auto rows = store.observations_between(id, *from, *to, kTimelinePoints + 1);
  if (!rows) {
    log->error("site {}: timeline: {}", id, rows.error().message);
    return send_error(res, 503, "storage_failed", "cannot read observations");
  }
  const bool truncated = rows->size() > static_cast<size_t>(kTimelinePoints);
  if (truncated) rows->pop_back();
  json points = json::array();
  for (const Observation& o : *rows) {
    points.push_back({{"t", o.captured_at_ms},
                      {"count", o.count},
                      {"detections", o.boxes.size()},
                      {"flags", json(health_flags(o.health))}});
  }
  send_json(res, 200,
            {{"site_id", id},
             {"from_ms", *from},
             {"to_ms", *to},
             {"truncated", truncated},
             {"points", std::move(points)}});
}

void HttpApi::Impl::post_frame(const httplib::Request& req, httplib::Response& res) {
  upload(req, res, /*frame=*/true);
}

void HttpApi::Impl::post_heartbeat(const httplib::Request& req, httplib::Response& res) {
  upload(req, res, /*frame=*/false);
}

void HttpApi::Impl::upload(const httplib::Request& req, httplib::Response& res, bool frame) {
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
  res.set_header(wire::kServerTimeHeader, std::to_string(ingest.now()));
  send_json(res, reply.status, reply.body);
}

void HttpApi::Impl::get_sites(const httplib::Request&, httplib::Response& res) {
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
  const double under_fraction = options.records.under_fraction;
  json list = json::array();
  std::vector<SiteFigure> figures;  // the live totals: each site's current count
  for (const Site* s : sites) {
    const auto it = latest_by_site.find(s->id);
    const Observation* o = it == latest_by_site.end() ? nullptr : it->second;
    const auto hb = heartbeat_by_site.find(s->id);
    const Heartbeat* h = hb == heartbeat_by_site.end() ? nullptr : hb->second;
    std::optional<NodeReport> report;
    if (h) {
      if (auto parsed = parse_node_report(h->report)) report = std::move(*parsed);
    }
    SiteFacts facts;
    facts.expected = s->expected_attendees;
    if (o) facts.frame = {o->captured_at_ms, o->received_at_ms, o->count, health_flags(o->health)};
    if (h) {
      facts.node = {h->received_at_ms, report && report->camera_gives_nothing(),
                    report && report->health ? report->health->flags : std::vector<std::string>{}};
    }
    const Attendance::Standing standing = roll_book.standing(s->id, now);
    facts.in_class = standing.in_class;
    facts.offline_alert_open = standing.offline_alert_open;
    const SiteAssessment now_at = assess_site(facts, now, under_fraction);
    json latest = nullptr;
    if (o) {
      latest = latest_json(*o);
      latest["current"] = now_at.frame_current;
    }
    list.push_back({{"id", s->id},
                    {"name", s->name},
                    {"district", s->district},
                    {"school_level", to_string(s->level)},
                    {"expected_attendees", s->expected_attendees},
                    {"state", to_string(now_at.state)},
                    {"problems", now_at.problems},
                    {"latest", std::move(latest)},
                    {"node", h ? node_json(*h, report, now) : json(nullptr)}});
    figures.push_back({s, now_at.frame_current ? std::optional(o->count) : std::nullopt});
  }
  send_json(res, 200,
            {{"server_time_ms", now},
             {"sites", std::move(list)},
             {"totals", roll_up(figures, under_fraction).to_json()}});
}

// Prometheus text format: the ingest counters, the queue, and per site the age of its latest
// frame and heartbeat and its node's spool drops (as the node last reported them).
void HttpApi::Impl::get_metrics(const httplib::Request&, httplib::Response& res) {
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
  out += live.render_metrics();
  const WriteStats w = store.write_stats();
  out += "# HELP attendance_store_write_queue Writes waiting for the database's writer thread.\n";
  out += "# TYPE attendance_store_write_queue gauge\n";
  out += fmt::format("attendance_store_write_queue {}\n", w.queued);
  out += "# HELP attendance_store_writes_total Writes committed, and failed (rolled back).\n";
  out += "# TYPE attendance_store_writes_total counter\n";
  out += fmt::format("attendance_store_writes_total{{result=\"committed\"}} {}\n", w.writes);
  out += fmt::format("attendance_store_writes_total{{result=\"failed\"}} {}\n", w.failed);
  out += "# HELP attendance_store_transactions_total Transactions committed (group commit).\n";
  out += "# TYPE attendance_store_transactions_total counter\n";
  out += fmt::format("attendance_store_transactions_total {}\n", w.transactions);
  out += "# HELP attendance_store_commit_seconds_total Time spent committing (disk flushes).\n";
  out += "# TYPE attendance_store_commit_seconds_total counter\n";
  out += fmt::format("attendance_store_commit_seconds_total {:.3f}\n", w.commit_seconds);
  if (options.extra_metrics) out += options.extra_metrics();
  out += auth.render_metrics();

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
    const auto r = parse_node_report(h.report);
    if (!r) continue;
    const NodeCounters c = r->counters.value_or(NodeCounters{});
    out += fmt::format("attendance_node_dropped{{site=\"{}\",reason=\"spool_full\"}} {}\n",
                       h.site_id, r->spool ? r->spool->dropped : 0);
    out += fmt::format("attendance_node_dropped{{site=\"{}\",reason=\"queue\"}} {}\n", h.site_id,
                       c.queue_dropped);
    out += fmt::format("attendance_node_dropped{{site=\"{}\",reason=\"disk\"}} {}\n", h.site_id,
                       c.spool_failed);
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

void HttpApi::Impl::get_latest(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
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
  body["frame_url"] = o.frame_path.empty() ? json(nullptr)  // deleted by retention
                                           : json("/api/v1/sites/" + id + "/latest.jpg");
  send_json(res, 200, body);
}

// The observation's frame as it was received, from the data directory.
Result<std::shared_ptr<const LiveFrame>> HttpApi::Impl::stored_frame(const Observation& o) {
  if (o.frame_path.empty())
    return fail("the picture was deleted by retention (storage.frame_days)");
  auto jpeg = read_file(options.data_dir / o.frame_path);
  if (!jpeg) return std::unexpected(jpeg.error());
  return LiveFrame::make(o, std::make_shared<const std::string>(std::move(*jpeg)));
}

void HttpApi::Impl::get_latest_jpeg(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  const auto latest = latest_or_error(id, res);
  if (!latest) return;
  if (latest->frame_path.empty()) {
    return send_error(res, 410, "frame_expired",
                      "the latest frame's picture was deleted by retention (storage.frame_days)");
  }
  auto frame = stored_frame(*latest);
  const Result<std::string> annotated =
      frame ? (*frame)->annotated() : std::unexpected(frame.error());
  if (!annotated) {
    log->error("site {}: stored frame {} unreadable: {}", id, latest->frame_path,
               annotated.error().message);
    return send_error(res, 500, "frame_unreadable", "the stored frame cannot be read");
  }
  res.set_header("Cache-Control", "no-store");
  res.set_content(*annotated, "image/jpeg");
}

// Server-Sent Events: every event the hub publishes, from the moment of the request (or after
// the Last-Event-ID a reconnecting browser sends). Ends when the client goes away (a write
// fails; an idle stream writes a comment every live.keepalive_s) or the hub closes.
void HttpApi::Impl::get_events(const httplib::Request& req, httplib::Response& res) {
  std::optional<std::string> last_event_id;
  if (req.has_header("Last-Event-ID")) last_event_id = req.get_header_value("Last-Event-ID");
  auto subscribed = live.subscribe_events(last_event_id);
  if (!subscribed) {
    return send_error(res, 503, subscribed.error().code, subscribed.error().message);
  }
  std::shared_ptr<EventSubscription> events = std::move(*subscribed);
  const auto keepalive = seconds_of(live.options().keepalive_s);
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");  // a reverse proxy must pass events on at once
  res.set_chunked_content_provider(
      "text/event-stream",
      [events, keepalive, opened = false](size_t, httplib::DataSink& sink) mutable {
        std::string out;
        if (!opened) {
          // At once: the client knows it is subscribed; a browser retries 3 s after a drop.
          out = "retry: 3000\n: subscribed\n\n";
          opened = true;
        } else {
          // Returning without writing is fine: cpp-httplib checks its stop flag, calls again.
          auto batch = events->next(SteadyClock::now() + keepalive);
          if (batch.closed) return false;
          if (batch.events.empty()) out = ": keep-alive\n\n";
          for (const LiveEvent& e : batch.events) out += to_sse(e);
        }
        return sink.write(out.data(), out.size());
      });
}

// MJPEG live view of one site: the stored latest frame at once, then each new one, annotated.
// While open, the site's node is kept at the live interval (request_live, renewed half-way
// through each grant). An idle stream repeats its last frame every live.keepalive_s, which
// also finds a client that went away; a stream ends after live.mjpeg_max_s.
void HttpApi::Impl::get_live_mjpeg(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  if (!by_id.contains(id)) return send_error(res, 404, "unknown_site", "no site '" + id + "'");
  // Watching before the stored frame is read: a frame stored meanwhile is not missed, and
  // the same frame (same sequence) is not sent twice.
  auto watching = live.watch_frames(id);
  if (!watching) return send_error(res, 503, watching.error().code, watching.error().message);

  struct Stream {
    std::unique_ptr<FrameSubscription> watch;
    std::shared_ptr<const LiveFrame> first;  // the stored latest frame, sent before any other
    std::shared_ptr<const LiveFrame> last;   // the last one sent
    SteadyClock::time_point last_sent_at;
    SteadyClock::time_point renew_at;  // when to ask the node for live frames again
    SteadyClock::time_point end;
  };
  auto stream = std::make_shared<Stream>();
  stream->watch = std::move(*watching);
  stream->end = SteadyClock::now() + seconds_of(live.options().mjpeg_max_s);
  if (auto latest = store.latest_observation(id); !latest) {
    log->error("site {}: {}", id, latest.error().message);
  } else if (*latest) {
    auto frame = stored_frame(**latest);
    if (frame) {
      stream->first = std::move(*frame);
    } else {
      log->error("site {}: stored frame {} unreadable: {}", id, (*latest)->frame_path,
                 frame.error().message);
    }
  }
  const auto renew = [this, id](Stream& s) {
    const std::int64_t until = ingest.request_live(id);
    s.renew_at = SteadyClock::now() +
                 std::chrono::milliseconds(std::max<std::int64_t>((until - clock()) / 2, 1000));
  };
  renew(*stream);
  log->debug("site {}: MJPEG live view opened", id);

  res.set_header("Cache-Control", "no-store");
  res.set_chunked_content_provider(
      std::string("multipart/x-mixed-replace; boundary=") + kMjpegBoundary,
      [this, id, stream, renew, keepalive = seconds_of(live.options().keepalive_s)](
          size_t, httplib::DataSink& sink) {
        Stream& s = *stream;
        const auto now = SteadyClock::now();
        if (now >= s.end) {  // the dashboard opens a new one
          const std::string tail = std::string("--") + kMjpegBoundary + "--\r\n";
          sink.write(tail.data(), tail.size());
          sink.done();
          return true;
        }
        if (now >= s.renew_at) renew(s);
        std::shared_ptr<const LiveFrame> frame = std::move(s.first);
        s.first.reset();
        if (!frame) {
          const auto next = s.watch->next(std::min({s.end, s.renew_at, now + keepalive}));
          if (next.closed) return false;
          frame = next.frame;
          if (frame && s.last && frame->sequence == s.last->sequence) return true;  // sent
          if (!frame) {
            // Nothing new: httplib checks its stop flag and calls again. Idle too long: the
            // same picture once more.
            if (!s.last || SteadyClock::now() < s.last_sent_at + keepalive) return true;
            frame = s.last;
          }
        }
        const Result<std::string>& jpeg = frame->annotated();
        if (!jpeg) {
          long long suppressed = 0;
          if (stream_log.allow(suppressed)) {
            log->error("site {}: frame {} cannot be shown live: {}", id, frame->sequence,
                       jpeg.error().message);
          }
          return true;
        }
        std::string part =
            fmt::format("--{}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                        kMjpegBoundary, jpeg->size());
        part += *jpeg;
        part += "\r\n";
        s.last = std::move(frame);
        s.last_sent_at = SteadyClock::now();
        return sink.write(part.data(), part.size());
      });
}

HttpApi::HttpApi(const std::vector<Site>& sites, Ingest& ingest, Store& store, LiveHub& live,
                 Auth& auth, Attendance& roll_book, ApiOptions options, WallClock clock)
    : impl_(std::make_unique<Impl>(sites, ingest, store, live, auth, roll_book, std::move(options),
                                   std::move(clock))) {
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
  if (!impl_) return;
  // Streams wait on the hub, not on the socket: closing it ends them, so that the worker
  // threads can be joined.
  impl_->live.close();
  if (!impl_->listener.joinable()) return;
  impl_->server->stop();
  impl_->listener.join();
}

}  // namespace att
