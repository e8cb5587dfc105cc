// Feeds the input, as a GET of one of the API's routes, to the real service
// (analysis/app/service.h) over real HTTP on loopback: one Service made once per process in a
// scratch directory (on /dev/shm when there is one, so that the audit trail's fsyncs cost nothing),
// with a class morning in its ledger (frames of two sites, roll calls with evidence, summaries, the
// final report), an admin's session, and the service's clock fixed after the class. Every route
// that reads query parameters is reached through cpp-httplib's own parsing of the request
// target, so that what the fuzzer exercises is what a browser's request exercises: the
// parameters of analysis/web/records_api.cpp (site, date, period, district, name, from, limit,
// kind, open) and analysis/web/site_routes.cpp (from and to of the timeline), and the paths of the
// evidence route and the dashboard's files.
// Input: the first byte picks the route (modulo the routes below), the rest is the raw query
// string (or, for the evidence and dashboard routes, the rest of the path). Bytes that cannot
// stand in a request target (space, controls, '#', bytes >= 0x80, ...) are percent-encoded;
// '%' is kept, so that the fuzzer writes its own escapes (%00, %FF, %2e%2e%2f).
// Checks, beyond "does not crash":
//   - every request is answered, never with a 5xx, and with a status the API documents;
//   - a JSON answer parses; an error answer is a JSON object with a "code" and an "error";
//   - no answer carries the secret planted beside the data directory, inside it outside
//     evidence/, and beside the dashboard, nor the database file;
//   - the rows of observations, heartbeats, ledger, users, sessions and sites never change
//     (a GET reads), and the audit trail grows by at most one entry per request.
#include <fmt/format.h>
#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/app/service.h"
#include "analysis/web/auth.h"
#include "common/log.h"
#include "common/sha256.h"
#include "common/sqlite_db.h"
#include "common/time_util.h"
#include "counting/detector.h"
#include "counting/jpeg.h"
#include "fuzz/fuzz_support.h"
#include "protocol/signing.h"
#include "protocol/wire.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void check(bool ok, const char* what) {
  att::fuzz::check(ok, "fuzz_query", what);
}

constexpr char kSecret[] = "FUZZ-QUERY-SECRET-5d1e: must never leave the server";
const std::string kSqliteMagic("SQLite format 3\0", 16);
constexpr char kDate[] = "2027-07-12";
constexpr char kPassword[] = "fuzz-password-1";

// The routes; the evidence and dashboard routes take the input as the rest of their path.
struct Route {
  const char* path;
  bool path_input = false;
};
const Route kRoutes[] = {
    {"/api/v1/roll-calls"},
    {"/api/v1/alerts"},
    {"/api/v1/summaries"},
    {"/api/v1/rollup"},
    {"/api/v1/ledger"},
    {"/api/v1/sites/td-01/timeline"},
    {"/api/v1/exports/roll-calls.csv"},
    {"/api/v1/exports/alerts.csv"},
    {"/api/v1/exports/summaries.csv"},
    {"/api/v1/exports/rollups.csv"},
    {"/api/v1/reports/district.html"},
    {"/api/v1/reports/sites/td-02.html"},
    {"/api/v1/sites/td-01/latest"},
    {"/api/v1/sites"},
    {"/api/v1/evidence/", true},
    {"/", true},
};
constexpr size_t kRouteCount = sizeof kRoutes / sizeof kRoutes[0];

const std::set<int> kStatuses = {200, 400, 401, 403, 404, 410, 414};

// A stand-in detector: two people wherever it looks (the detector is not under test).
class TwoPeople final : public att::Detector {
 public:
  std::string name() const override { return "two-people"; }
  att::Result<std::vector<att::Box>> detect(const cv::Mat& bgr) override {
    const float w = static_cast<float>(bgr.cols) / 8, h = static_cast<float>(bgr.rows) / 5;
    return std::vector<att::Box>{{w, h, w, h, 0.9f}, {5 * w, h, w, h, 0.9f}};
  }
};

// The rows a GET must not change (the audit trail is counted apart).
struct Rows {
  std::int64_t observations = 0, heartbeats = 0, ledger = 0, users = 0, sessions = 0, sites = 0,
               audit = 0;
};

struct World {  // made once; the service is stopped at exit
  fs::path root, data;
  std::unique_ptr<att::Service> service;
  int port = 0;
  httplib::Headers session;
  std::unique_ptr<httplib::Client> client;
  att::sql::Db db;  // read-only, for the counts
  Rows rows;
};
World* world = nullptr;

// /dev/shm when it is there (tmpfs: fsync is free), else the scratch directory under $TMPDIR.
fs::path make_root() {
  std::error_code ec;
  if (fs::is_directory("/dev/shm", ec)) {
    std::string pattern = "/dev/shm/att-fuzz-query-XXXXXX";
    if (mkdtemp(pattern.data())) {
      static const fs::path dir = pattern;
      std::atexit([] {
        std::error_code e;
        fs::remove_all(dir, e);
      });
      return dir;
    }
  }
  return att::fuzz::scratch_dir();
}

void write(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::int64_t scalar(const std::string& sql) {
  auto stmt = att::sql::prepare(world->db.get(), sql.c_str());
  check(stmt.has_value(), "the database can be read");
  auto row = att::sql::step(world->db.get(), stmt->get(), "count");
  check(row && *row, "a count has a row");
  return att::sql::column_int64(stmt->get(), 0);
}

std::int64_t count(const char* table) {
  return scalar(std::string("SELECT COUNT(*) FROM ") + table);
}

Rows rows_now() {
  // The audit trail grows with every read: its last seq, not a count that scans it all.
  return {count("observations"),
          count("heartbeats"),
          count("ledger"),
          count("users"),
          count("sessions"),
          count("sites"),
          scalar("SELECT COALESCE(MAX(seq), 0) FROM audit_trail")};
}

// A small JPEG of a generated picture, enough for the detector and the evidence.
std::string picture() {
  cv::Mat img(180, 320, CV_8UC3, cv::Scalar(60, 90, 120));
  cv::rectangle(img, cv::Rect(100, 40, 60, 60), cv::Scalar(220, 220, 220), cv::FILLED);
  const auto out = att::encode_jpeg(img);
  return std::string(out.begin(), out.end());
}

void make_world() {
  world = new World();
  World& w = *world;
  w.root = make_root();
  w.data = w.root / "data";
  for (const fs::path& p : {w.root / "secret.jpg", w.root / "secret.txt", w.data / "secret.jpg",
                            w.data / "evidence" / "secret.jpg"}) {
    write(p, kSecret);
  }
  write(w.root / "dashboard" / "index.html", "<!doctype html><title>dashboard</title>");

  const std::int64_t midnight = att::local_to_utc_ms("Asia/Ho_Chi_Minh", kDate, 0).value();
  const auto at = [midnight](int h, int m) { return midnight + (h * 60 + m) * 60'000LL; };
  att::ServerConfig c;
  c.listen_host = "127.0.0.1";
  c.listen_port = 0;
  c.http_threads = 4;
  c.data_dir = w.data;
  c.dashboard_dir = w.root / "dashboard";
  c.province_name = "Lai Châu (fuzz)";
  c.sites = {{"td-01", "Trường THCS Bản Giang", "Tam Đường", att::SchoolLevel::kLowerSecondary,
              "Xã Bản Giang", 60, "IP camera"},
             {"td-02", "Trường Tiểu học Bình Lư", "Tam Đường", att::SchoolLevel::kPrimary,
              "Xã Bình Lư", 45, "USB camera"},
             {"mt-01", "Trường Mầm non Bum Nưa", "Mường Tè", att::SchoolLevel::kPreschool,
              "Xã Bum Nưa", 38, "IP camera"}};
  c.schedule.timezone = "Asia/Ho_Chi_Minh";
  c.schedule.days = {{kDate, {att::Period{"morning", 7 * 60 + 30, 11 * 60 + 30}}}};
  c.detector.workers = 1;
  c.counting.window_s = 60;
  c.counting.min_hits = 1;
  c.max_age_s = 0;
  c.storage.frame_days = 0;
  c.storage.heartbeat_days = 0;
  for (const att::Site& s : c.sites) c.site_keys[s.id] = att::sha256_hex("fuzz key of " + s.id);
  const auto keys = c.site_keys;

  att::ServiceHooks hooks;
  static std::atomic<std::int64_t> now{at(7, 40)};
  hooks.clock = [] { return now.load(); };
  att::DetectorChoice two;
  two.name = "two-people";
  two.make = []() -> att::Result<std::unique_ptr<att::Detector>> {
    return std::make_unique<TwoPeople>();
  };
  hooks.detector = two;
  auto service = att::Service::create(std::move(c), std::move(hooks));
  check(service.has_value(), "the service is made");
  w.service = std::move(*service);
  auto port = w.service->start();
  check(port.has_value(), "the service listens");
  w.port = *port;
  std::atexit([] {
    world->client.reset();  // its kept-alive connection would hold the stop for 5 s
    world->service->stop();
  });

  // The class morning: frames of td-01 and td-02, a heartbeat, the roll calls, the rest.
  httplib::Client node("127.0.0.1", w.port);
  const std::string jpeg = picture();
  const auto upload = [&](const std::string& path, const std::string& site, int seq, std::int64_t t,
                          const std::string& body, const char* type) {
    const std::string sequence = std::to_string(seq), time = std::to_string(t);
    httplib::Headers h = {{att::wire::kSiteHeader, site},
                          {att::wire::kSequenceHeader, sequence},
                          {att::wire::kCaptureTimeHeader, time}};
    h.emplace(att::wire::kSignatureHeader,
              att::sign_request(keys.at(site), {path, site, sequence, time, "", body, type}));
    auto res = node.Post(path, h, body, type);
    check(res && res->status == 201, "the morning's uploads are stored");
  };
  upload(att::wire::kFramesPath, "td-01", 1, at(7, 38), jpeg, att::wire::kJpegContentType);
  upload(att::wire::kFramesPath, "td-02", 1, at(7, 40), jpeg, att::wire::kJpegContentType);
  now = at(7, 44);
  upload(att::wire::kFramesPath, "td-01", 2, at(7, 44), jpeg, att::wire::kJpegContentType);
  upload(att::wire::kHealthPath, "td-01", 3, at(7, 44), R"({"state":"ok"})",
         att::wire::kJsonContentType);
  now = at(7, 48);
  check(w.service->tick_roll_book().has_value(), "the 07:45 roll calls are taken");
  now = at(11, 31);
  check(w.service->tick_roll_book().has_value(), "the morning is summed up");

  att::Auth auth(w.service->store(), att::AuthConfig{});
  check(auth.add_user("admin", att::Role::kAdmin, kPassword).has_value(), "the admin is added");
  auto login = node.Post("/api/v1/login", json{{"user", "admin"}, {"password", kPassword}}.dump(),
                         "application/json");
  check(login && login->status == 200, "the admin logs in");
  const std::string cookie = login->get_header_value("Set-Cookie");
  w.session = {{"Cookie", cookie.substr(0, cookie.find(';'))},
               {att::kCsrfHeader, json::parse(login->body)["csrf_token"].get<std::string>()}};

  w.client = std::make_unique<httplib::Client>("127.0.0.1", w.port);
  // A connection a request: the service closes an idle kept-alive one after
  // listen.keep_alive_s, and a request sent just then would meet a closed connection.
  w.client->set_keep_alive(false);
  w.client->set_tcp_nodelay(true);
  w.client->set_url_encode(false);  // the target goes as the fuzzer wrote it
  w.client->set_read_timeout(15, 0);
  w.client->set_default_headers(w.session);

  auto db = att::sql::open(w.data / "attendance.db", att::sql::read_only());
  check(db.has_value(), "the database opens read-only");
  w.db = std::move(*db);
  w.rows = rows_now();
  check(w.rows.ledger > 0 && w.rows.observations == 3, "the morning is in the database");
}

// The bytes as a request target: what may stand in one is kept ('%' too), the rest escaped.
std::string as_target(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      std::string_view("-._~!$&'()*+,;=:@/?%").find(static_cast<char>(c)) !=
                          std::string_view::npos;
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  att::log::setup("off");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (!world) make_world();
  World& w = *world;
  const Route& route = kRoutes[data[0] % kRouteCount];
  const std::string rest =
      as_target(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  const std::string target =
      route.path_input ? route.path + rest : std::string(route.path) + "?" + rest;

  auto res = w.client->Get(target);
  check(static_cast<bool>(res), "every request is answered");
  check(res->status < 500, "never a 5xx");
  check(kStatuses.contains(res->status), "a status the API documents");
  const std::string type = res->get_header_value("Content-Type");
  if (type.starts_with("application/json")) {
    const json body = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    check(!body.is_discarded(), "a JSON answer parses");
    if (res->status >= 400) {
      check(body.is_object() && body.contains("code") && body["code"].is_string() &&
                body.contains("error") && body["error"].is_string(),
            "an error has a code and a sentence");
    }
  } else if (res->status >= 400) {
    check(false, "an error answer is JSON");
  }
  for (const auto& [name, value] : res->headers) {
    check(!contains(value, kSecret), "no header carries the secret");
  }
  check(!contains(res->body, kSecret), "no answer carries a file from outside");
  check(!contains(res->body, kSqliteMagic), "the database is never served");

  const Rows now = rows_now();
  check(now.observations == w.rows.observations && now.heartbeats == w.rows.heartbeats &&
            now.ledger == w.rows.ledger && now.users == w.rows.users &&
            now.sessions == w.rows.sessions && now.sites == w.rows.sites,
        "a GET changes no row but the audit trail's");
  check(now.audit - w.rows.audit <= 1 && now.audit >= w.rows.audit,
        "a request is audited at most once");
  w.rows.audit = now.audit;
  return 0;
}
