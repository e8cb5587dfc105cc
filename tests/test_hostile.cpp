// The collected list of hostile requests, against the real service over real HTTP on loopback
// (a real SQLite store, real files, the service's clock in the test's hand). The list is a
// table per group of rows, one request each: what is sent (a request line, or a builder where
// the request needs the running service: a signed upload, the morning's evidence URL; or a raw
// socket where cpp-httplib's client cannot say it: a lying Content-Length, an oversized header,
// a chunked flood), who sends it (nobody, a role's session, a node with its key or another's),
// the exact answer (status and the JSON "code"), and what it may change: the rows of
// observations, heartbeats, ledger, audit trail, users and sessions, the stored frame files and
// the schema are counted before and after, and must differ by exactly what the row says (most:
// nothing). Every answer is also checked never to carry a planted secret: files beside the data
// directory and the dashboard, inside the data directory outside evidence/, and the database
// itself. A test runs a group's rows in order, naming a failing row; after each group the ledger
// and the audit trail still verify.
//
// The list is printed as a Markdown table at the end (name | request | caller | answer), for
// docs/reliability.md.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <concepts>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/app/service.h"
#include "analysis/domain/ledger.h"
#include "analysis/store/ledger_file.h"
#include "analysis/web/auth.h"
#include "analysis/web/records_api.h"
#include "common/sha256.h"
#include "common/time_util.h"
#include "protocol/signing.h"
#include "protocol/wire.h"
#include "tests/support/fake_detector.h"
#include "tests/support/raw_http.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using namespace std::string_literals;
using Answer = testing::HttpAnswer;
using testing::chunked_flood;
using testing::from_result;
using testing::raw_exchange;

constexpr char kZone[] = "Asia/Ho_Chi_Minh";
constexpr char kDate[] = "2027-07-12";
constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kMaxBody = 256 * 1024;  // the service's limit on a request body here
constexpr char kSecret[] = "HOSTILE-SECRET-7f3a9c: must never leave the server";
// The first bytes of every SQLite database file: the database itself must never be served.
const std::string kSqliteMagic("SQLite format 3\0", 16);

// ----------------------------------------------------------------------------------------
// The service under attack

// Rows and files the entries may change; every entry says by how much (most: not at all).
struct Counts {
  std::int64_t observations = 0, heartbeats = 0, ledger = 0, audit = 0, users = 0, sessions = 0,
               frame_files = 0, schema = 0;
  bool operator==(const Counts&) const = default;
};
using Delta = Counts;

std::ostream& operator<<(std::ostream& out, const Counts& c) {
  return out << "{observations " << c.observations << ", heartbeats " << c.heartbeats << ", ledger "
             << c.ledger << ", audit " << c.audit << ", users " << c.users << ", sessions "
             << c.sessions << ", frame files " << c.frame_files << ", schema " << c.schema << "}";
}

Counts operator-(const Counts& a, const Counts& b) {
  return {a.observations - b.observations,
          a.heartbeats - b.heartbeats,
          a.ledger - b.ledger,
          a.audit - b.audit,
          a.users - b.users,
          a.sessions - b.sessions,
          a.frame_files - b.frame_files,
          a.schema - b.schema};
}

// One request as the test sends it.
struct Request {
  std::string method = "GET";
  std::string target;  // path and query, byte for byte
  httplib::Headers headers;
  std::string body;
  std::string content_type;
  std::vector<std::string> without;     // the caller's headers left out (X-CSRF-Token)
  std::function<Answer(int port)> raw;  // set: the entry speaks to the socket itself
};

class Env {
 public:
  bool ready = false;

  // ms of a local time on the class day, from its midnight (the zone has no clock change).
  std::int64_t at(int hour, int minute) const { return midnight_ + (hour * 60 + minute) * kMinute; }
  std::int64_t now() const { return now_.load(); }
  void advance(std::int64_t ms) { now_ += ms; }
  int port() const { return port_; }
  Service& service() { return *service_; }
  const fs::path& dir() const { return dir_.path(); }
  fs::path data() const { return dir_ / "data"; }
  fs::path db() const { return data() / "attendance.db"; }
  const std::string& jpeg() const { return jpeg_; }
  const std::string& other_jpeg() const { return other_jpeg_; }
  const std::string& evidence_url() const { return evidence_url_; }
  const std::string& roll_call_subject() const { return roll_call_subject_; }
  const httplib::Headers& caller() const { return caller_; }

  void start() {
    midnight_ = local_to_utc_ms(kZone, kDate, 0).value();
    // The secrets: beside the data directory and the dashboard, and inside the data directory
    // outside evidence/<site>/. Named .jpg and .txt, as the evidence route and the dashboard
    // would serve them.
    for (const fs::path& p :
         {dir() / "secret.jpg", dir() / "secret.txt", data() / "secret.jpg",
          data() / "evidence" / "secret.jpg", data() / "evidence" / "td-01.jpg"}) {
      testing::write_file(p, kSecret);
    }
    testing::write_file(dir() / "dashboard" / "index.html",
                        "<!doctype html><title>Điểm danh</title><script src=js/app.js></script>");
    testing::write_file(dir() / "dashboard" / "js" / "app.js", "console.log('dashboard');\n");

    ServerConfig config = testing::test_server_config(dir());
    config.dashboard_dir = dir() / "dashboard";
    config.schedule.days = {{kDate, {Period{"morning", 7 * 60 + 30, 11 * 60 + 30}}}};
    config.max_body_bytes = kMaxBody;
    config.max_future_s = 300;  // the defaults of server.yaml, which test configs turn off
    config.max_age_s = 30 * 86400;
    config.counting.window_s = 60;
    config.counting.min_hits = 1;
    ServiceHooks hooks;
    hooks.clock = [this] { return now_.load(); };
    hooks.detector = testing::FakeDetector::fixed_people(3).choice();  // not under test
    now_ = at(7, 36);
    auto service = Service::create(std::move(config), std::move(hooks));
    ASSERT_TRUE(service) << service.error().message;
    service_ = std::move(*service);
    auto port = service_->start();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;

    // A class morning: frames from two of the three sites and a heartbeat, the 07:45 roll
    // call taken with evidence, then the rest of the morning and the final report. After
    // that nothing more is due, so that the ledger only changes when an entry says so.
    httplib::Client node("127.0.0.1", port_);
    const auto upload = [&](const std::string& site, int seq, std::int64_t t) {
      auto res = testing::post_signed(node, wire::kFramesPath, site, std::to_string(seq),
                                      std::to_string(t), jpeg_, wire::kJpegContentType);
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 201) << res->body;
    };
    upload("td-01", 1, at(7, 38));
    now_ = at(7, 44);
    upload("td-01", 2, at(7, 44));
    upload("td-02", 1, at(7, 43));
    auto hb = testing::post_signed(node, wire::kHealthPath, "td-01", "3", std::to_string(now()),
                                   R"({"state":"ok"})", wire::kJsonContentType, "0");
    ASSERT_TRUE(hb);
    ASSERT_EQ(hb->status, 201) << hb->body;
    now_ = at(7, 48);
    ASSERT_TRUE(service_->tick_roll_book());
    now_ = at(11, 31);
    ASSERT_TRUE(service_->tick_roll_book());

    // Users the entries need besides one per role.
    Auth auth(service_->store(), AuthConfig{});
    for (const char* name : {"disabled-user", "throttle-me"}) {
      testing::add_user(service_->store(), name, Role::kAuditor);
    }
    ASSERT_TRUE(auth.disable_user("disabled-user"));

    httplib::Client reader("127.0.0.1", port_);
    reader.set_default_headers(session(Role::kAuditor));
    auto calls = reader.Get("/api/v1/roll-calls?site=td-01");
    ASSERT_TRUE(calls);
    ASSERT_EQ(calls->status, 200) << calls->body;
    const json first = json::parse(calls->body)["roll_calls"].at(0);
    ASSERT_TRUE(first["evidence_url"].is_string()) << first.dump();
    evidence_url_ = first["evidence_url"];
    roll_call_subject_ = first["subject"];
    ready = true;
  }

  void stop() {
    if (service_) service_->stop();
    service_.reset();
  }

  // A live session of `role` (a user named after it, logged in once and again when it ended).
  httplib::Headers session(Role role) {
    httplib::Client client("127.0.0.1", port_);
    auto& h = sessions_[role];
    if (!h.empty()) {
      auto res = client.Get("/api/v1/session", h);
      if (res && res->status == 200) return h;
    }
    h = testing::log_in_as(client, service_->store(), role);
    return h;
  }

  // A fresh session of a user of its own, made for one entry.
  httplib::Headers own_session(const std::string& name, Role role = Role::kAuditor) {
    auto found = service_->store().find_user(name);
    EXPECT_TRUE(found);
    if (found && !*found) testing::add_user(service_->store(), name, role);
    httplib::Client client("127.0.0.1", port_);
    return testing::log_in(client, name);
  }

  void set_caller(httplib::Headers h) { caller_ = std::move(h); }

  Counts counts() {
    testing::RawDb raw(db());
    Counts c;
    c.observations = raw.integer("SELECT COUNT(*) FROM observations");
    c.heartbeats = raw.integer("SELECT COUNT(*) FROM heartbeats");
    c.ledger = raw.integer("SELECT COUNT(*) FROM ledger");
    c.audit = raw.integer("SELECT COUNT(*) FROM audit_trail");
    c.users = raw.integer("SELECT COUNT(*) FROM users");
    c.sessions = raw.integer("SELECT COUNT(*) FROM sessions");
    c.schema = raw.integer("SELECT COUNT(*) FROM sqlite_master");
    std::error_code ec;
    if (fs::exists(data() / "frames")) {
      for (const auto& e : fs::recursive_directory_iterator(data() / "frames", ec)) {
        if (e.is_regular_file()) ++c.frame_files;
      }
    }
    return c;
  }

  Answer send(const Request& r) {
    if (r.raw) return r.raw(port_);
    httplib::Client client("127.0.0.1", port_);
    client.set_url_encode(false);  // the target goes as written
    client.set_read_timeout(15, 0);
    httplib::Request req;
    req.method = r.method;
    req.path = r.target;
    for (const auto& [k, v] : caller_) {
      if (std::find(r.without.begin(), r.without.end(), k) == r.without.end()) {
        req.headers.emplace(k, v);
      }
    }
    for (const auto& [k, v] : r.headers) req.headers.emplace(k, v);
    if (!r.content_type.empty()) req.headers.emplace("Content-Type", r.content_type);
    req.body = r.body;
    return from_result(client.send(req));
  }

 private:
  testing::TempDir dir_;
  std::int64_t midnight_ = 0;
  std::atomic<std::int64_t> now_{0};
  std::unique_ptr<Service> service_;
  int port_ = 0;
  std::map<Role, httplib::Headers> sessions_;
  httplib::Headers caller_;
  const std::string jpeg_ = testing::synthetic_jpeg(320, 180);
  const std::string other_jpeg_ = testing::synthetic_jpeg(320, 176);
  std::string evidence_url_, roll_call_subject_;
};

// ----------------------------------------------------------------------------------------
// Building the requests

// The session cookie and CSRF token of the caller, as header lines for a raw request.
std::string cookie_lines(const httplib::Headers& caller) {
  std::string out;
  for (const auto& [k, v] : caller) out += k + ": " + v + "\r\n";
  return out;
}

Request get(std::string target) {
  Request r;
  r.target = std::move(target);
  return r;
}

Request post_json(std::string target, std::string body) {
  Request r;
  r.method = "POST";
  r.target = std::move(target);
  r.body = std::move(body);
  r.content_type = "application/json";
  return r;
}

Request login(const std::string& user, const std::string& password) {
  return post_json("/api/v1/login", json{{"user", user}, {"password", password}}.dump());
}

Request correction(const std::string& subject, const json& counted, const std::string& reason) {
  return post_json("/api/v1/roll-calls/corrections",
                   json{{"subject", subject}, {"counted", counted}, {"reason", reason}}.dump());
}

// An upload as a capture node sends it: signed (protocol/signing.h) over the fields as they are
// when sign() is called; changing a field afterwards is a tampering on the way.
struct Upload {
  std::string path = wire::kFramesPath;  // the endpoint it is signed for, and sent to
  std::string site = "td-01";
  std::string sequence;
  std::string capture_time;
  std::string extra;  // X-Health for frames, X-Spool-Dropped for heartbeats
  std::string body;
  std::string content_type = wire::kJpegContentType;
  std::string signature;  // "" after sign(): no X-Signature header

  Upload& sign(const std::string& key) {
    signature = sign_request(key, {path, site, sequence, capture_time, extra, body, content_type});
    return *this;
  }
  Upload& sign() { return sign(testing::site_secret(site)); }

  Request request(const std::string& to = "") const {
    Request r;
    r.method = "POST";
    r.target = to.empty() ? path : to;
    if (!site.empty()) r.headers.emplace(wire::kSiteHeader, site);
    if (!sequence.empty()) r.headers.emplace(wire::kSequenceHeader, sequence);
    if (!capture_time.empty()) r.headers.emplace(wire::kCaptureTimeHeader, capture_time);
    if (!extra.empty()) {
      r.headers.emplace(path == wire::kFramesPath ? wire::kHealthHeader : wire::kSpoolDroppedHeader,
                        extra);
    }
    if (!signature.empty()) r.headers.emplace(wire::kSignatureHeader, signature);
    r.body = body;
    r.content_type = content_type;
    return r;
  }
};

// A frame of td-01 captured a minute ago under sequence `seq`, not yet signed.
Upload frame(Env& e, int seq, const std::string& body = "") {
  Upload u;
  u.sequence = std::to_string(seq);
  u.capture_time = std::to_string(e.now() - kMinute);
  u.body = body.empty() ? e.jpeg() : body;
  return u;
}

Upload heartbeat(Env& e, int seq, const std::string& report = R"({"state":"ok"})") {
  Upload u;
  u.path = wire::kHealthPath;
  u.sequence = std::to_string(seq);
  u.capture_time = std::to_string(e.now() - kMinute);
  u.body = report;
  u.content_type = wire::kJsonContentType;
  return u;
}

// The raw bytes of a signed upload with the body given separately: the entry decides the
// Content-Length and framing.
std::string upload_head(const Upload& u, const std::string& framing) {
  std::string head = "POST " + u.path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  head += "Content-Type: " + u.content_type + "\r\n";
  head += std::string(wire::kSiteHeader) + ": " + u.site + "\r\n";
  head += std::string(wire::kSequenceHeader) + ": " + u.sequence + "\r\n";
  head += std::string(wire::kCaptureTimeHeader) + ": " + u.capture_time + "\r\n";
  if (!u.signature.empty())
    head += std::string(wire::kSignatureHeader) + ": " + u.signature + "\r\n";
  return head + framing + "\r\n";
}

// A JPEG whose frame header declares `width` x `height` (the pixels are the small picture's).
std::string declared_size(std::string jpeg, int width, int height) {
  for (size_t i = 2; i + 9 < jpeg.size(); ++i) {
    const auto m = static_cast<unsigned char>(jpeg[i + 1]);
    if (static_cast<unsigned char>(jpeg[i]) == 0xFF && (m == 0xC0 || m == 0xC2)) {
      jpeg[i + 5] = static_cast<char>(height >> 8);
      jpeg[i + 6] = static_cast<char>(height & 0xFF);
      jpeg[i + 7] = static_cast<char>(width >> 8);
      jpeg[i + 8] = static_cast<char>(width & 0xFF);
      return jpeg;
    }
  }
  ADD_FAILURE() << "no frame header in the JPEG";
  return jpeg;
}

// ----------------------------------------------------------------------------------------
// The list: a table of rows per group

struct Caller {
  std::string_view label;    // for the table
  std::optional<Role> role;  // its session's cookie and CSRF token go with the request
};
constexpr Caller kNobody{"nobody", std::nullopt};
constexpr Caller kOrganizer{"organizer", Role::kOrganizer};
constexpr Caller kAuditor{"auditor", Role::kAuditor};
constexpr Caller kTechnician{"technician", Role::kTechnician};
constexpr Caller kAdmin{"admin", Role::kAdmin};
constexpr Caller kNode{"node td-01 (its key)", std::nullopt};
constexpr Caller kWrongKey{"node td-01 (td-02's key)", std::nullopt};

constexpr Delta kOneFrame{.observations = 1, .frame_files = 1};
constexpr Delta kOneRead{.audit = 1};

// Builds a request that needs the running service or a raw socket. It may set up what it needs
// first (a login, a first upload): that runs before the counts are taken.
using Build = Request (*)(Env&);
// More checks on the answer or on the state after it.
using Check = void (*)(Env&, const Answer&);

// What a row sends: a line "METHOD target" or "METHOD target body" (the target byte for byte
// up to the next space, the rest the body; a POST goes as application/json), or a builder.
class Send {
 public:
  constexpr Send(const char* line) : line_(line) {}
  template <std::convertible_to<Build> F>
  constexpr Send(F build) : build_(build) {}

  Request request(Env& e) const {
    if (build_) return build_(e);
    const size_t method_end = line_.find(' ');
    const size_t target_end = line_.find(' ', method_end + 1);
    Request r;
    r.method = line_.substr(0, method_end);
    r.target = line_.substr(method_end + 1, target_end - method_end - 1);
    if (target_end != std::string_view::npos) r.body = line_.substr(target_end + 1);
    if (r.method == "POST") r.content_type = "application/json";
    return r;
  }

 private:
  std::string_view line_;
  Build build_ = nullptr;
};

struct Case {
  // A row shown in the table as its request line.
  constexpr Case(std::string_view name_, Caller caller_, const char* line, int status_,
                 std::string_view code_, Delta delta_ = {}, Check also_ = nullptr)
      : Case(name_, line, caller_, line, status_, code_, delta_, also_) {}
  constexpr Case(std::string_view name_, std::string_view request_, Caller caller_, Send send_,
                 int status_, std::string_view code_, Delta delta_ = {}, Check also_ = nullptr)
      : name(name_),
        request(request_),
        caller(caller_),
        send(send_),
        status(status_),
        code(code_),
        delta(delta_),
        also(also_) {}

  std::string_view name;
  std::string_view request;  // for the table
  Caller caller;
  Send send;
  int status;             // 0: the connection is closed without an answer
  std::string_view code;  // the JSON answer's "code"; "" for an answer that has none
  Delta delta;            // what may change, exactly
  Check also;             // may be null
};

// Forged or missing signatures, unknown sites, missing headers (nodes' uploads)
constexpr Case kSignatures[] = {
    {"frame signed with another site's key", "POST /api/v1/frames, X-Signature under td-02's key",
     kWrongKey, [](Env& e) { return frame(e, 100).sign(testing::site_secret("td-02")).request(); },
     401, "bad_signature"},
    {"frame signed with a made-up key", "POST /api/v1/frames, key 64 x 'a'", kNobody,
     [](Env& e) { return frame(e, 101).sign(std::string(64, 'a')).request(); }, 401,
     "bad_signature"},
    {"signature of another body", "POST /api/v1/frames, body swapped after signing", kNode,
     [](Env& e) {
       Upload u = frame(e, 102).sign();
       u.body = e.other_jpeg();
       return u.request();
     },
     401, "bad_signature"},
    {"truncated signature", "POST /api/v1/frames, first 32 hex digits only", kNode,
     [](Env& e) {
       Upload u = frame(e, 103).sign();
       u.signature.resize(32);
       return u.request();
     },
     401, "bad_signature"},
    {"signature with one more digit", "POST /api/v1/frames, signature + '0'", kNode,
     [](Env& e) {
       Upload u = frame(e, 104).sign();
       u.signature += "0";
       return u.request();
     },
     401, "bad_signature"},
    {"signature over another capture time",
     "POST /api/v1/frames, X-Capture-Time +1 ms after signing", kNode,
     [](Env& e) {
       Upload u = frame(e, 105).sign();
       u.capture_time = std::to_string(std::stoll(u.capture_time) + 1);
       return u.request();
     },
     401, "bad_signature"},
    {"signature over another sequence", "POST /api/v1/frames, X-Sequence changed after signing",
     kNode,
     [](Env& e) {
       Upload u = frame(e, 106).sign();
       u.sequence = "107";
       return u.request();
     },
     401, "bad_signature"},
    {"signature over another X-Health", "POST /api/v1/frames, X-Health changed after signing",
     kNode,
     [](Env& e) {
       Upload u = frame(e, 108);
       u.extra = R"({"flags":[]})";
       u.sign();
       u.extra = R"({"flags":["dark"]})";
       return u.request();
     },
     401, "bad_signature"},
    {"signed X-Health left out", "POST /api/v1/frames, X-Health dropped", kNode,
     [](Env& e) {
       Upload u = frame(e, 109);
       u.extra = R"({"flags":[]})";
       u.sign();
       u.extra.clear();
       return u.request();
     },
     401, "bad_signature"},
    {"frame's signature sent to the heartbeat endpoint",
     "POST /api/v1/health with a frame's signed headers", kNode,
     [](Env& e) {
       Upload u = heartbeat(e, 110);
       u.path = wire::kFramesPath;  // signed as a frame...
       u.sign();
       u.path = wire::kHealthPath;  // ...sent as a heartbeat
       return u.request();
     },
     401, "bad_signature"},
    {"signature of another site's upload",
     "POST /api/v1/frames, X-Site-Id td-02 with td-01's signed request", kNode,
     [](Env& e) {
       Upload u = frame(e, 111).sign();
       u.site = "td-02";
       return u.request();
     },
     401, "bad_signature"},
    {"no signature", "POST /api/v1/frames without X-Signature", kNobody,
     [](Env& e) { return frame(e, 112).request(); }, 401, "bad_signature"},
    {"signature not hex", "POST /api/v1/frames, X-Signature: 64 x 'z'", kNobody,
     [](Env& e) {
       Upload u = frame(e, 113);
       u.signature = std::string(64, 'z');
       return u.request();
     },
     401, "bad_signature"},
    {"unknown site", "POST /api/v1/frames, X-Site-Id: zz-99", kNobody,
     [](Env& e) {
       Upload u = frame(e, 114);
       u.site = "zz-99";
       return u.sign(testing::site_secret("zz-99")).request();
     },
     401, "bad_signature"},
    {"SQL as the site", "POST /api/v1/frames, X-Site-Id: td-01' OR '1'='1", kNobody,
     [](Env& e) {
       Upload u = frame(e, 115);
       u.site = "td-01' OR '1'='1";
       return u.sign(testing::site_secret("td-01")).request();
     },
     401, "bad_signature"},
    {"site id not UTF-8", "POST /api/v1/frames, X-Site-Id: td-01\\xff", kNobody,
     [](Env& e) {
       Upload u = frame(e, 116);
       u.site = "td-01\xff";
       return u.sign().request();
     },
     401, "bad_signature"},
    {"no site header", "POST /api/v1/frames without X-Site-Id", kNobody,
     [](Env& e) {
       Upload u = frame(e, 117).sign();
       u.site.clear();
       return u.request();
     },
     400, "missing_site"},
    {"no sequence header", "POST /api/v1/frames without X-Sequence", kNode,
     [](Env& e) {
       Upload u = frame(e, 118);
       u.sequence.clear();
       return u.sign().request();
     },
     400, "bad_sequence"},
    {"negative sequence", "POST /api/v1/frames, X-Sequence: -1", kNode,
     [](Env& e) {
       Upload u = frame(e, 0);
       u.sequence = "-1";
       return u.sign().request();
     },
     400, "bad_sequence"},
    {"sequence past int64", "POST /api/v1/frames, X-Sequence: 2^64", kNode,
     [](Env& e) {
       Upload u = frame(e, 0);
       u.sequence = "18446744073709551616";
       return u.sign().request();
     },
     400, "bad_sequence"},
    {"no capture time header", "POST /api/v1/frames without X-Capture-Time", kNode,
     [](Env& e) {
       Upload u = frame(e, 119);
       u.capture_time.clear();
       return u.sign().request();
     },
     400, "bad_capture_time"},
    {"heartbeat with another drop count",
     "POST /api/v1/health, X-Spool-Dropped changed after signing", kNode,
     [](Env& e) {
       Upload u = heartbeat(e, 120);
       u.extra = "0";
       u.sign();
       u.extra = "1000";
       return u.request();
     },
     401, "bad_signature"},

};

// Replays: the same sequence again, old requests, capture times out of bounds
constexpr Case kReplays[] = {
    {"same sequence, other bytes",
     "POST /api/v1/frames seq 200 again with another JPEG, signed",
     kNode,
     [](Env& e) {
       httplib::Client node("127.0.0.1", e.port());
       auto first = testing::post_signed(node, wire::kFramesPath, "td-01", "200",
                                         std::to_string(e.now() - kMinute), e.jpeg(),
                                         wire::kJpegContentType);
       EXPECT_TRUE(first && first->status == 201);
       return frame(e, 200, e.other_jpeg()).sign().request();
     },
     409,
     "sequence_conflict",
     {},
     [](Env& e, const Answer&) {
       auto kept = e.service().store().find_observation("td-01", 200);
       ASSERT_TRUE(kept && *kept);
       EXPECT_EQ((*kept)->frame_sha256, sha256_hex(e.jpeg())) << "the first one is kept";
       EXPECT_EQ(testing::read_file(e.data() / (*kept)->frame_path), e.jpeg());
     }},
    {"stored upload replayed as it was",
     "POST /api/v1/frames seq 201, the same signed bytes twice",
     kNode,
     [](Env& e) {
       const Request r = frame(e, 201).sign().request();
       EXPECT_EQ(e.send(r).status, 201);
       return r;
     },
     200,
     "",
     {},
     [](Env&, const Answer& a) { EXPECT_EQ(a.body_json()["status"], "duplicate"); }},
    {"stored heartbeat replayed with another report",
     "POST /api/v1/health seq 202 again, other report, signed", kNode,
     [](Env& e) {
       EXPECT_EQ(e.send(heartbeat(e, 202).sign().request()).status, 201);
       return heartbeat(e, 202, R"({"state":"stopping"})").sign().request();
     },
     409, "sequence_conflict"},
    {"heartbeat's sequence reused by a frame",
     "POST /api/v1/frames with the sequence of a stored heartbeat", kNode,
     [](Env& e) {
       EXPECT_EQ(e.send(heartbeat(e, 203).sign().request()).status, 201);
       return frame(e, 203).sign().request();
     },
     201, "", kOneFrame},
    {"capture time 10 min ahead", "POST /api/v1/frames, X-Capture-Time now + 600 s", kNode,
     [](Env& e) {
       Upload u = frame(e, 204);
       u.capture_time = std::to_string(e.now() + 600'000);
       return u.sign().request();
     },
     400, "capture_time_in_future"},
    {"capture time just within the future bound", "POST /api/v1/frames, X-Capture-Time now + 299 s",
     kNode,
     [](Env& e) {
       Upload u = frame(e, 205);
       u.capture_time = std::to_string(e.now() + 299'000);
       return u.sign().request();
     },
     201, "", kOneFrame},
    {"capture time 31 days old (an old request replayed)",
     "POST /api/v1/frames, X-Capture-Time now - 31 days", kNode,
     [](Env& e) {
       Upload u = frame(e, 206);
       u.capture_time = std::to_string(e.now() - 31LL * 86'400'000);
       return u.sign().request();
     },
     400, "capture_time_too_old"},
    {"capture time at int64 max", "POST /api/v1/frames, X-Capture-Time: 2^63-1", kNode,
     [](Env& e) {
       Upload u = frame(e, 207);
       u.capture_time = "9223372036854775807";
       return u.sign().request();
     },
     400, "capture_time_in_future"},
    {"capture time zero", "POST /api/v1/frames, X-Capture-Time: 0", kNode,
     [](Env& e) {
       Upload u = frame(e, 208);
       u.capture_time = "0";
       return u.sign().request();
     },
     400, "bad_capture_time"},
    {"capture time in seconds with a fraction", "POST /api/v1/frames, X-Capture-Time: 1783830000.5",
     kNode,
     [](Env& e) {
       Upload u = frame(e, 209);
       u.capture_time = "1783830000.5";
       return u.sign().request();
     },
     400, "bad_capture_time"},

};

// Sizes: bodies, lengths, headers, pictures
constexpr Case kSizes[] = {
    {"body over the limit (Content-Length)", "POST /api/v1/frames, 300 KiB body (limit 256 KiB)",
     kNode, [](Env& e) { return frame(e, 300, std::string(300 * 1024, 'x')).sign().request(); },
     413, "body_too_large"},
    {"Content-Length over the limit, no body sent",
     "POST /api/v1/frames, Content-Length: 1 GiB, then end of stream", kNode,
     [](Env& e) {
       const Upload u = frame(e, 301).sign();
       Request r;
       r.raw = [head = upload_head(u, "Content-Length: 1073741824\r\n")](int port) {
         return raw_exchange(port, head, "", true);
       };
       return r;
     },
     413, "body_too_large"},
    {"Content-Length longer than the body",
     "POST /api/v1/frames, Content-Length 1000 more than sent, then end of stream", kNode,
     [](Env& e) {
       const Upload u = frame(e, 302).sign();
       Request r;
       r.raw = [head = upload_head(
                    u, "Content-Length: " + std::to_string(u.body.size() + 1000) + "\r\n"),
                body = u.body](int port) { return raw_exchange(port, head, body, true); };
       return r;
     },
     400, "bad_request"},
    {"Content-Length shorter than the body",
     "POST /api/v1/frames, Content-Length half the JPEG, the rest a smuggled GET /api/v1/users",
     kNode,
     [](Env& e) {
       const Upload u = frame(e, 303).sign();
       Request r;
       const std::string half = u.body.substr(0, u.body.size() / 2);
       r.raw = [head = upload_head(u, "Content-Length: " + std::to_string(half.size()) + "\r\n"),
                half](int port) {
         return raw_exchange(port, head, half + "GET /api/v1/users HTTP/1.1\r\nHost: x\r\n\r\n");
       };
       return r;
     },
     401,
     "bad_signature",
     {},
     [](Env&, const Answer& a) { EXPECT_EQ(a.body.find("\"users\""), std::string::npos); }},
    {"negative Content-Length", "POST /api/v1/login, Content-Length: -1", kNobody,
     [](Env&) {
       Request r;
       r.raw = [](int port) {
         return raw_exchange(port,
                             "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                             "Content-Type: application/json\r\nContent-Length: -1\r\n\r\n",
                             "{}", true);
       };
       return r;
     },
     400, "bad_content_length"},
    {"chunked body over the limit",
     "POST /api/v1/frames, Transfer-Encoding: chunked, 8 MiB in 64 KiB chunks, signed", kNode,
     [](Env& e) {
       const Upload u = frame(e, 304, std::string(8u << 20, 'x')).sign();
       Request r;
       r.raw = [head = upload_head(u, "Transfer-Encoding: chunked\r\n")](int port) {
         return chunked_flood(port, head, 8u << 20);
       };
       return r;
     },
     411, "length_required"},
    {"chunked body over the limit, unsigned", "POST /api/v1/frames, no X-Signature, chunked, 8 MiB",
     kNobody,
     [](Env& e) {
       Request r;
       r.raw = [head = upload_head(frame(e, 305), "Transfer-Encoding: chunked\r\n")](int port) {
         return chunked_flood(port, head, 8u << 20);
       };
       return r;
     },
     411, "length_required"},
    {"a frame sent chunked", "POST /api/v1/frames, a signed JPEG in one chunk", kNode,
     [](Env& e) {
       const Upload u = frame(e, 306).sign();
       Request r;
       r.raw = [head = upload_head(u, "Transfer-Encoding: chunked\r\n"), body = u.body](int port) {
         return raw_exchange(port, head,
                             fmt::format("{:x}\r\n", body.size()) + body + "\r\n0\r\n\r\n");
       };
       return r;
     },
     411, "length_required"},
    {"chunk size that overflows", "POST /api/v1/login, chunked, chunk size ffffffffffffffffff",
     kNobody,
     [](Env&) {
       Request r;
       r.raw = [](int port) {
         return raw_exchange(port,
                             "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                             "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                             "\r\n",
                             "ffffffffffffffffff\r\n{}\r\n0\r\n\r\n", true);
       };
       return r;
     },
     411, "length_required"},
    {"Content-Length and chunked together",
     "POST /api/v1/login, Content-Length: 4 and Transfer-Encoding: chunked", kNobody,
     [](Env&) {
       Request r;
       r.raw = [](int port) {
         return raw_exchange(port,
                             "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                             "Content-Type: application/json\r\nContent-Length: 4\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n",
                             "2\r\n{}\r\n0\r\n\r\n", true);
       };
       return r;
     },
     411, "length_required"},
    {"oversized header", "GET /api/v1/status, one 64 KiB header", kOrganizer,
     [](Env& e) {
       Request r;
       r.raw = [cookies = cookie_lines(e.caller())](int port) {
         return raw_exchange(port, "GET /api/v1/status HTTP/1.1\r\nHost: x\r\n" + cookies +
                                       "X-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n");
       };
       return r;
     },
     431, "headers_too_large"},
    {"oversized request line", "GET /api/v1/status?x=<64 KiB>", kOrganizer,
     [](Env& e) {
       Request r;
       r.raw = [cookies = cookie_lines(e.caller())](int port) {
         return raw_exchange(port, "GET /api/v1/status?x=" + std::string(64 * 1024, 'a') +
                                       " HTTP/1.1\r\nHost: x\r\n" + cookies + "\r\n");
       };
       return r;
     },
     431, "headers_too_large"},
    {"ten thousand headers (over the 64 KiB limit of a request's line and headers)",
     "GET /api/v1/status with 10,000 headers", kOrganizer,
     [](Env& e) {
       Request r;
       std::string many;
       for (int i = 0; i < 10000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
       r.raw = [cookies = cookie_lines(e.caller()), many](int port) {
         return raw_exchange(
             port, "GET /api/v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + cookies +
                       many + "\r\n");
       };
       return r;
     },
     431, "headers_too_large"},
    {"JPEG of 100 scans", "POST /api/v1/frames, a progressive JPEG of 100 scans, signed", kNode,
     [](Env& e) { return frame(e, 306, testing::jpeg_with_scans(100)).sign().request(); }, 413,
     "image_too_large"},
    {"corrupt JPEG (truncated)", "POST /api/v1/frames, first half of a JPEG", kNode,
     [](Env& e) { return frame(e, 310, e.jpeg().substr(0, e.jpeg().size() / 2)).sign().request(); },
     422, "bad_jpeg"},
    {"not a JPEG", "POST /api/v1/frames, a PNG signature and zeros", kNode,
     [](Env& e) {
       return frame(e, 311, std::string("\x89PNG\r\n\x1a\n", 8) + std::string(100, '\0'))
           .sign()
           .request();
     },
     422, "bad_jpeg"},
    {"pixel bomb", "POST /api/v1/frames, a 320x180 JPEG declaring 60000x60000", kNode,
     [](Env& e) { return frame(e, 312, declared_size(e.jpeg(), 60000, 60000)).sign().request(); },
     413, "image_too_large"},
    {"JPEG sent as text/plain", "POST /api/v1/frames, Content-Type: text/plain", kNode,
     [](Env& e) {
       Upload u = frame(e, 313);
       u.content_type = "text/plain";
       return u.sign().request();
     },
     415, "unsupported_media_type"},
    {"empty frame", "POST /api/v1/frames, empty body, signed", kNode,
     [](Env& e) {
       Upload u = frame(e, 314);
       u.body.clear();
       return u.sign().request();
     },
     400, "empty_body"},
    {"heartbeat report over 64 KiB", "POST /api/v1/health, a 70 KiB JSON report", kNode,
     [](Env& e) {
       return heartbeat(e, 315, R"({"pad":")" + std::string(70 * 1024, 'x') + "\"}")
           .sign()
           .request();
     },
     413, "body_too_large"},
    {"X-Health over 4 KiB", "POST /api/v1/frames, X-Health of 5000 bytes", kNode,
     [](Env& e) {
       Upload u = frame(e, 316);
       u.extra = R"({"pad":")" + std::string(5000, 'x') + "\"}";
       return u.sign().request();
     },
     400, "bad_health"},
    {"X-Health nested 2,000 deep", "POST /api/v1/frames, X-Health {\"a\":[[[... 2,000 deep", kNode,
     [](Env& e) {
       Upload u = frame(e, 319);
       u.extra = R"({"a":)" + std::string(2000, '[') + std::string(2000, ']') + "}";
       return u.sign().request();
     },
     400, "bad_health"},
    {"heartbeat nested 33 deep", "POST /api/v1/health, report {\"a\":[[... 33 deep", kNode,
     [](Env& e) {
       return heartbeat(e, 320, R"({"a":)" + std::string(32, '[') + std::string(32, ']') + "}")
           .sign()
           .request();
     },
     400, "bad_report"},
    {"heartbeat nested 32 deep (the limit)",
     "POST /api/v1/health, report {\"a\":[[... 32 deep",
     kNode,
     [](Env& e) {
       return heartbeat(e, 321, R"({"a":)" + std::string(31, '[') + std::string(31, ']') + "}")
           .sign()
           .request();
     },
     201,
     "",
     {.heartbeats = 1}},
    {"heartbeat arrays nested 32,000 deep, then read back",
     "POST /api/v1/health, report {\"a\":[[[... 32,000 deep (64 KiB); GET /api/v1/sites and "
     "/metrics",
     kNode,
     [](Env& e) {
       const std::string deep =
           R"({"a":)" + std::string(32000, '[') + std::string(32000, ']') + "}";
       return heartbeat(e, 318, deep).sign().request();
     },
     400,
     "bad_report",
     {},
     [](Env& e, const Answer&) {
       httplib::Client c("127.0.0.1", e.port());
       c.set_default_headers(e.session(Role::kAdmin));
       for (const char* path : {"/api/v1/sites", "/metrics"}) {
         auto res = c.Get(path);
         ASSERT_TRUE(res) << path << ": " << httplib::to_string(res.error());
         EXPECT_EQ(res->status, 200) << path << ": " << res->body.substr(0, 200);
       }
     }},

    {"login body nested 100,000 deep", "POST /api/v1/login, [[[[... 100,000 deep", kNobody,
     [](Env&) {
       return post_json("/api/v1/login", std::string(100000, '[') + std::string(100000, ']'));
     },
     400, "bad_request"},
    {"200 KiB password", "POST /api/v1/login {\"user\": \"auditor\", 200 KiB password}", kNobody,
     [](Env&) { return login("auditor", std::string(200 * 1024, 'p')); }, 401, "bad_credentials"},
    {"200 KiB user name", "POST /api/v1/login, a user name of 200 KiB", kNobody,
     [](Env&) { return login(std::string(200 * 1024, 'a'), testing::kTestPassword); }, 401,
     "bad_credentials"},

};

// SQL, quotes, NULs and bytes that are not UTF-8 in parameters
constexpr Case kSql[] = {
    {"a query of 8,000 bytes, audited", "GET /api/v1/roll-calls?x=<8,000 bytes>", kAuditor,
     [](Env&) { return get("/api/v1/roll-calls?x=" + std::string(8000, 'a')); }, 200, "", kOneRead,
     [](Env& e, const Answer&) {
       // The audit trail keeps the start of the target and its length, not all of it.
       const std::string subject = testing::RawDb(e.db()).scalar(
           "SELECT subject FROM audit_trail ORDER BY seq DESC LIMIT 1");
       EXPECT_LE(subject.size(), kMaxAuditedTarget + 32);
       EXPECT_TRUE(subject.starts_with("/api/v1/roll-calls?x=aaa")) << subject;
       EXPECT_TRUE(subject.ends_with("... (8021 bytes)")) << subject;
     }},
    {"SQL in ?site= of roll calls", "GET /api/v1/roll-calls?site=';DROP TABLE ledger;--", kAuditor,
     "GET /api/v1/roll-calls?site=%27%3BDROP%20TABLE%20ledger%3B--", 404, "unknown_site"},
    {"tautology in ?site=", "GET /api/v1/roll-calls?site=td-01' OR '1'='1", kAuditor,
     "GET /api/v1/roll-calls?site=td-01%27%20OR%20%271%27%3D%271", 404, "unknown_site"},
    {"NUL in ?site=", kAuditor, "GET /api/v1/roll-calls?site=td-01%00", 404, "unknown_site"},
    {"?site= not UTF-8", kAuditor, "GET /api/v1/roll-calls?site=%FF", 404, "unknown_site"},
    {"?site= cut inside a character", "GET /api/v1/alerts?site=<63 x>ế", kAuditor,
     [](Env&) { return get("/api/v1/alerts?site=" + std::string(63, 'x') + "%E1%BA%BF"); }, 404,
     "unknown_site"},
    {"SQL in ?date=", "GET /api/v1/roll-calls?date=2027-07-12' OR '1'='1", kAuditor,
     "GET /api/v1/roll-calls?date=2027-07-12%27%20OR%20%271%27%3D%271", 400, "bad_date"},
    {"1 OR 1=1 as ?date=", "GET /api/v1/summaries?date=1 OR 1=1", kAuditor,
     "GET /api/v1/summaries?date=1%20OR%201%3D1", 400, "bad_date"},
    {"NUL after a valid ?date=", kAuditor, "GET /api/v1/roll-calls?date=2027-07-12%00x", 400,
     "bad_date"},
    {"SQL in ?period=", "GET /api/v1/roll-calls?period=morning'--", kAuditor,
     "GET /api/v1/roll-calls?period=morning%27--", 400, "bad_period"},
    {"SQL in ?period= of a roll-up", "GET /api/v1/rollup?date=2027-07-12&period=x' OR 1=1",
     kOrganizer, "GET /api/v1/rollup?date=2027-07-12&period=x%27%20OR%201%3D1", 400, "bad_period"},
    {"SQL in ?kind= of the ledger", "GET /api/v1/ledger?kind=' OR '1'='1", kAuditor,
     "GET /api/v1/ledger?kind=%27%20OR%20%271%27%3D%271", 200, "", kOneRead,
     [](Env&, const Answer& a) { EXPECT_EQ(a.body_json()["entries"], json::array()); }},
    {"NUL in ?kind=", kAuditor, "GET /api/v1/ledger?kind=roll_call%00", 200, "", kOneRead,
     [](Env&, const Answer& a) { EXPECT_EQ(a.body_json()["entries"], json::array()); }},
    {"1 OR 1=1 as ?from=", "GET /api/v1/ledger?from=1 OR 1=1", kAuditor,
     "GET /api/v1/ledger?from=1%20OR%201%3D1", 400, "bad_parameter"},
    {"statement after ?limit=", "GET /api/v1/ledger?limit=10;DROP TABLE ledger", kAuditor,
     "GET /api/v1/ledger?limit=10%3BDROP%20TABLE%20ledger", 400, "bad_parameter"},
    {"?limit= past int64", kAuditor, "GET /api/v1/ledger?limit=99999999999999999999", 400,
     "bad_parameter"},
    {"1 OR 1=1 as ?from= of a timeline", "GET /api/v1/sites/td-01/timeline?from=0 OR 1=1&to=1",
     kOrganizer, "GET /api/v1/sites/td-01/timeline?from=0%20OR%201%3D1&to=1", 400, "bad_parameter"},
    {"?from= of a timeline not UTF-8", kOrganizer, "GET /api/v1/sites/td-01/timeline?from=%FF&to=1",
     400, "bad_parameter"},
    {"timeline span that overflows", "GET /api/v1/sites/td-01/timeline?from=-2^63&to=2^63-1",
     kOrganizer,
     "GET /api/v1/sites/td-01/timeline?from=-9223372036854775808&to=9223372036854775807", 400,
     "bad_parameter"},
    {"SQL in ?site= of an export", "GET /api/v1/exports/roll-calls.csv?site=' OR 1=1--", kAuditor,
     "GET /api/v1/exports/roll-calls.csv?site=%27%20OR%201%3D1--", 404, "no_sites"},
    {"SQL in ?district= of an export", "GET /api/v1/exports/alerts.csv?district=Tam' OR '1'='1",
     kAuditor, "GET /api/v1/exports/alerts.csv?district=Tam%27%20OR%20%271%27%3D%271", 404,
     "no_sites"},
    {"?district= not UTF-8", kAuditor, "GET /api/v1/exports/summaries.csv?district=%C3", 404,
     "no_sites"},
    {"SQL in ?name= of a district report", "GET /api/v1/reports/district.html?name=' OR 1=1--",
     kAuditor, "GET /api/v1/reports/district.html?name=%27%20OR%201%3D1--", 404,
     "unknown_district"},
    {"SQL as a login name", "POST /api/v1/login {\"user\": \"admin' --\"}", kNobody,
     [](Env&) { return login("admin' --", "anything-at-all"); }, 401, "bad_credentials"},
    {"tautology as a login", "POST /api/v1/login {\"user\": \"' OR '1'='1\", ...}", kNobody,
     [](Env&) { return login("' OR '1'='1", "' OR '1'='1"); }, 401, "bad_credentials"},
    {"NUL after a real login name",
     "POST /api/v1/login {\"user\": \"auditor\\u0000x\", right password}", kNobody,
     [](Env& e) {
       e.session(Role::kAuditor);  // the user exists
       return login("auditor\0x"s, testing::kTestPassword);
     },
     401, "bad_credentials"},
    {"NUL after the right password",
     "POST /api/v1/login {\"user\": \"auditor\", password + \"\\u0000x\"}", kNobody,
     [](Env&) { return login("auditor", std::string(testing::kTestPassword) + "\0x"s); }, 401,
     "bad_credentials"},
    {"SQL in a correction's subject",
     "POST /api/v1/roll-calls/corrections {\"subject\": \"...0745' OR '1'='1\"}", kAuditor,
     [](Env& e) { return correction(e.roll_call_subject() + "' OR '1'='1", 5, "recount"); }, 404,
     "unknown_roll_call"},
    {"NUL in a correction's subject",
     "POST /api/v1/roll-calls/corrections {\"subject\": \"<real subject>\\u0000\"}", kAuditor,
     [](Env& e) { return correction(e.roll_call_subject() + std::string(1, '\0'), 5, "recount"); },
     404, "unknown_roll_call"},
    {"SQL as a correction's count",
     "POST /api/v1/roll-calls/corrections {\"counted\": \"5; DROP TABLE ledger\"}", kAuditor,
     [](Env& e) { return correction(e.roll_call_subject(), "5; DROP TABLE ledger", "recount"); },
     400, "bad_request"},
    {"correction's count past int", "POST /api/v1/roll-calls/corrections {\"counted\": 2^40}",
     kAuditor, [](Env& e) { return correction(e.roll_call_subject(), 1LL << 40, "recount"); }, 400,
     "bad_correction"},
    {"correction not UTF-8", "POST /api/v1/roll-calls/corrections, a \\xff in the subject",
     kAuditor,
     [](Env&) {
       return post_json(
           "/api/v1/roll-calls/corrections",
           "{\"subject\": \"roll_call/td-01\xff\", \"counted\": 5, \"reason\": \"r\"}");
     },
     400, "bad_request"},
    {"quotes, SQL and NUL in a correction's reason (taken as text)",
     "POST /api/v1/roll-calls/corrections {\"reason\": \"'); DROP TABLE ledger;--\\\"\\u0000\"}",
     kAuditor,
     [](Env& e) {
       return correction(e.roll_call_subject(), 7, "'); DROP TABLE ledger;--\"\0 end"s);
     },
     201,
     "",
     {.ledger = 1},
     [](Env& e, const Answer&) {
       httplib::Client c("127.0.0.1", e.port());
       c.set_default_headers(e.session(Role::kAuditor));
       auto res = c.Get("/api/v1/roll-calls?site=td-01");
       ASSERT_TRUE(res);
       const json first = json::parse(res->body)["roll_calls"][0];
       EXPECT_EQ(first["correction"]["reason"], "'); DROP TABLE ledger;--\"\0 end"s);
       EXPECT_EQ(first["counted"], 7);
     }},

};

// Path traversal: evidence pictures and the dashboard's files
constexpr Case kTraversal[] = {
    {"real evidence picture (the control)", "GET <evidence_url of 07:45>", kAuditor,
     [](Env& e) { return get(e.evidence_url()); }, 200, "", kOneRead,
     [](Env&, const Answer& a) { EXPECT_EQ(a.header("Content-Type"), "image/jpeg"); }},
    {"../ in an evidence path", kAuditor, "GET /api/v1/evidence/td-01/../../secret.jpg", 404,
     "not_found"},
    {"%2e%2e/ in an evidence path", kAuditor,
     "GET /api/v1/evidence/td-01/%2e%2e/%2e%2e/%2e%2e/secret.jpg", 404, "not_found"},
    {"%2e%2e%2f in an evidence path", kAuditor,
     "GET /api/v1/evidence/td-01/%2e%2e%2f%2e%2e%2fsecret.jpg", 404, "not_found"},
    {"double-encoded ../ in an evidence path", kAuditor,
     "GET /api/v1/evidence/td-01/%252e%252e%252f%252e%252e%252fsecret.jpg", 404, "not_found"},
    {".%2e in an evidence path", kAuditor, "GET /api/v1/evidence/td-01/.%2e/.%2e/secret.jpg", 404,
     "not_found"},
    {"....// in an evidence path", kAuditor, "GET /api/v1/evidence/td-01/....//....//secret.jpg",
     404, "not_found"},
    {"backslashes in an evidence path", kAuditor, "GET /api/v1/evidence/td-01/..%5c..%5csecret.jpg",
     404, "not_found"},
    {"absolute path as evidence", "GET /api/v1/evidence/%2F<temp dir>/secret.jpg", kAuditor,
     [](Env& e) {
       return get("/api/v1/evidence/%2F" + e.dir().string().substr(1) + "/secret.jpg");
     },
     404, "not_found"},
    {"absolute path after the site", "GET /api/v1/evidence/td-01//<temp dir>/secret.jpg", kAuditor,
     [](Env& e) { return get("/api/v1/evidence/td-01/" + e.dir().string() + "/secret.jpg"); }, 404,
     "not_found"},
    {"the temp dir's path under the site (stays inside evidence/td-01/)",
     "GET /api/v1/evidence/td-01<temp dir>/secret.jpg", kAuditor,
     [](Env& e) { return get("/api/v1/evidence/td-01" + e.dir().string() + "/secret.jpg"); }, 404,
     "not_found", kOneRead},
    {"evidence/ itself as a site", kAuditor, "GET /api/v1/evidence/secret.jpg", 404, "not_found"},
    {"a file named like a site", kAuditor, "GET /api/v1/evidence/td-01.jpg", 404, "not_found"},
    {"NUL in an evidence path", kAuditor,
     "GET /api/v1/evidence/td-01/2027-07-12/morning-0745.jpg%00.txt", 404, "not_found"},
    {"NUL then ../ in an evidence path", kAuditor,
     "GET /api/v1/evidence/td-01/x%00/../../../secret.jpg", 404, "not_found"},
    {"the database as evidence", kAuditor, "GET /api/v1/evidence/td-01/../../attendance.db", 404,
     "not_found"},
    {"another site's evidence through ../", kAuditor,
     "GET /api/v1/evidence/td-02/../td-01/2027-07-12/morning-0745.jpg", 404, "not_found"},
    {"the dashboard's page (the control)",
     kNobody,
     "GET /index.html",
     200,
     "",
     {},
     [](Env&, const Answer& a) { EXPECT_THAT(a.body, HasSubstr("Điểm danh")); }},
    {"../ out of the dashboard", kNobody, "GET /../secret.txt", 404, "not_found"},
    {"%2e%2e/ out of the dashboard", kNobody, "GET /%2e%2e/secret.txt", 404, "not_found"},
    {"%2e%2e%2f out of the dashboard", kNobody, "GET /%2e%2e%2fsecret.txt", 404, "not_found"},
    {"../ after a directory of the dashboard", kNobody, "GET /js/../../secret.txt", 404,
     "not_found"},
    {"double-encoded ../ out of the dashboard", kNobody, "GET /%252e%252e/secret.txt", 404,
     "not_found"},
    {"backslash out of the dashboard", kNobody, "GET /..%5csecret.txt", 404, "not_found"},
    {"absolute path in the dashboard", "GET //<temp dir>/secret.txt", kNobody,
     [](Env& e) { return get("/" + e.dir().string() + "/secret.txt"); }, 404, "not_found"},
    {"NUL in a dashboard path", kNobody, "GET /index.html%00/../../secret.txt", 404, "not_found"},
    {"absolute-form target", kNobody, "GET http://127.0.0.1/../secret.txt", 404, "not_found"},
    {"traversal in a report's site", kAuditor, "GET /api/v1/reports/sites/..%2f..%2fsecret.html",
     404, "not_found"},
    {"traversal in an export's name", kAuditor, "GET /api/v1/exports/..%2f..%2fsecret.csv", 404,
     "not_found"},

};

// Sessions and CSRF
constexpr Case kSessions[] = {
    {"forged session cookie", "GET /api/v1/roll-calls, att_session=<64 random hex>", kNobody,
     [](Env&) {
       Request r = get("/api/v1/roll-calls");
       r.headers.emplace("Cookie", std::string("att_session=") + sha256_hex("forged"));
       return r;
     },
     401, "login_required"},
    {"SQL as the session cookie", "GET /api/v1/ledger, att_session=' OR '1'='1", kNobody,
     [](Env&) {
       Request r = get("/api/v1/ledger");
       r.headers.emplace("Cookie", "att_session=' OR '1'='1");
       return r;
     },
     401, "login_required"},
    {"the session's token under another cookie name",
     "GET /api/v1/ledger, xatt_session=<a live token>", kNobody,
     [](Env& e) {
       const auto h = e.session(Role::kAuditor);
       Request r = get("/api/v1/ledger");
       r.headers.emplace("Cookie", "x" + h.find("Cookie")->second);
       return r;
     },
     401, "login_required"},
    {"the CSRF token as the session", "GET /api/v1/ledger, att_session=<its CSRF token>", kNobody,
     [](Env& e) {
       const auto h = e.session(Role::kAuditor);
       Request r = get("/api/v1/ledger");
       r.headers.emplace("Cookie", "att_session=" + h.find(kCsrfHeader)->second);
       return r;
     },
     401, "login_required"},
    {"logged-out session", "GET /api/v1/roll-calls with the cookie of a session that logged out",
     kNobody,
     [](Env& e) {
       const auto h = e.own_session("leaver");
       httplib::Client c("127.0.0.1", e.port());
       auto out = c.Post("/api/v1/logout", h, "", "application/json");
       EXPECT_TRUE(out && out->status == 200);
       Request r = get("/api/v1/roll-calls");
       r.headers = h;
       return r;
     },
     401, "login_required"},
    {"idle session",
     "GET /api/v1/roll-calls, session last used 12 h 1 min ago",
     kNobody,
     [](Env& e) {
       const auto h = e.own_session("idler");
       testing::RawDb(e.db()).exec(
           "UPDATE sessions SET last_seen_ms = " + std::to_string(e.now() - 721 * kMinute) +
           " WHERE user = 'idler'");
       Request r = get("/api/v1/roll-calls");
       r.headers = h;
       return r;
     },
     401,
     "login_required",
     {.sessions = -1}},
    {"expired session",
     "GET /api/v1/roll-calls, session past its 168 h end",
     kNobody,
     [](Env& e) {
       const auto h = e.own_session("expired");
       testing::RawDb(e.db()).exec("UPDATE sessions SET expires_ms = " + std::to_string(e.now()) +
                                   " WHERE user = 'expired'");
       Request r = get("/api/v1/roll-calls");
       r.headers = h;
       return r;
     },
     401,
     "login_required",
     {.sessions = -1}},
    {"session of a user disabled since",
     "GET /api/v1/roll-calls with the cookie of a user disabled after login", kNobody,
     [](Env& e) {
       const auto h = e.own_session("soon-disabled");
       EXPECT_TRUE(Auth(e.service().store(), AuthConfig{}).disable_user("soon-disabled"));
       Request r = get("/api/v1/roll-calls");
       r.headers = h;
       return r;
     },
     401, "login_required"},
    {"change without X-CSRF-Token", "POST /api/v1/roll-calls/corrections, cookie only", kAuditor,
     [](Env& e) {
       Request r = correction(e.roll_call_subject(), 9, "recount");
       r.without = {kCsrfHeader};
       return r;
     },
     403, "csrf"},
    {"another session's X-CSRF-Token",
     "POST /api/v1/roll-calls/corrections, the admin's token with the auditor's cookie", kAuditor,
     [](Env& e) {
       Request r = correction(e.roll_call_subject(), 9, "recount");
       r.without = {kCsrfHeader};
       r.headers.emplace(kCsrfHeader, e.session(Role::kAdmin).find(kCsrfHeader)->second);
       return r;
     },
     403, "csrf"},
    {"X-CSRF-Token cut short", "POST /api/v1/roll-calls/corrections, first 63 digits of the token",
     kAuditor,
     [](Env& e) {
       Request r = correction(e.roll_call_subject(), 9, "recount");
       r.without = {kCsrfHeader};
       r.headers.emplace(kCsrfHeader, e.caller().find(kCsrfHeader)->second.substr(0, 63));
       return r;
     },
     403, "csrf"},
    {"foreign Origin", "POST /api/v1/roll-calls/corrections, Origin: https://evil.example",
     kAuditor,
     [](Env& e) {
       Request r = correction(e.roll_call_subject(), 9, "recount");
       r.headers.emplace("Origin", "https://evil.example");
       return r;
     },
     403, "csrf"},
    {"Origin: null", "POST /api/v1/roll-calls/corrections, Origin: null", kAuditor,
     [](Env& e) {
       Request r = correction(e.roll_call_subject(), 9, "recount");
       r.headers.emplace("Origin", "null");
       return r;
     },
     403, "csrf"},
    {"Origin of another port",
     "POST /api/v1/roll-calls/corrections, Origin: http://127.0.0.1:<port+1>", kAuditor,
     [](Env& e) {
       Request r = correction(e.roll_call_subject(), 9, "recount");
       r.headers.emplace("Origin", "http://127.0.0.1:" + std::to_string(e.port() + 1));
       return r;
     },
     403, "csrf"},
    {"logout without X-CSRF-Token", "POST /api/v1/logout, cookie only", kAuditor,
     [](Env&) {
       Request r = post_json("/api/v1/logout", "");
       r.without = {kCsrfHeader};
       return r;
     },
     403, "csrf"},
    {"login as a disabled user", "POST /api/v1/login, disabled-user, right password", kNobody,
     [](Env&) { return login("disabled-user", testing::kTestPassword); }, 401, "bad_credentials"},
    {"login after five failures",
     "POST /api/v1/login, right password after 5 wrong ones",
     kNobody,
     [](Env& e) {
       httplib::Client c("127.0.0.1", e.port());
       for (int i = 0; i < 5; ++i) {
         auto res = c.Post(
             "/api/v1/login",
             json{{"user", "throttle-me"}, {"password", "wrong-" + std::to_string(i)}}.dump(),
             "application/json");
         EXPECT_TRUE(res && res->status == 401);
       }
       return login("throttle-me", testing::kTestPassword);
     },
     429,
     "too_many_attempts",
     {},
     [](Env&, const Answer& a) {
       EXPECT_EQ(a.header("Retry-After"), "1");  // a second after the fifth; then longer
       EXPECT_EQ(a.header("Set-Cookie"), "");
     }},
    {"a role in the login body",
     "POST /api/v1/login {..., \"role\": \"admin\"} as an auditor",
     kNobody,
     [](Env& e) {
       e.session(Role::kAuditor);
       return post_json(
           "/api/v1/login",
           json{{"user", "auditor"}, {"password", testing::kTestPassword}, {"role", "admin"}}
               .dump());
     },
     200,
     "",
     {.sessions = 1},
     [](Env&, const Answer& a) { EXPECT_EQ(a.body_json()["role"], "auditor"); }},
    {"login as a form", "POST /api/v1/login, application/x-www-form-urlencoded", kNobody,
     [](Env&) {
       Request r = post_json("/api/v1/login", "user=admin&password=x");
       r.content_type = "application/x-www-form-urlencoded";
       return r;
     },
     415, "unsupported_media_type"},
    {"organizer reads the ledger", kOrganizer, "GET /api/v1/ledger", 403, "forbidden"},
    {"technician reads evidence", "GET <evidence_url>", kTechnician,
     [](Env& e) { return get(e.evidence_url()); }, 403, "forbidden"},
    {"admin corrects a roll call", "POST /api/v1/roll-calls/corrections", kAdmin,
     [](Env& e) { return correction(e.roll_call_subject(), 9, "recount"); }, 403, "forbidden"},
    {"organizer lists users", kOrganizer, "GET /api/v1/users", 403, "forbidden"},
    {"auditor asks for live view", kAuditor, "POST /api/v1/sites/td-01/live", 403, "forbidden"},
    {"nobody lists users", kNobody, "GET /api/v1/users", 401, "login_required"},

};

// Methods not allowed, unknown paths (default deny)
constexpr Case kMethods[] = {
    {"DELETE the sites", kAdmin, "DELETE /api/v1/sites", 404, "not_found"},
    {"PUT a correction", "PUT /api/v1/roll-calls/corrections", kAuditor,
     [](Env& e) {
       Request r = correction(e.roll_call_subject(), 9, "recount");
       r.method = "PUT";
       return r;
     },
     404, "not_found"},
    {"PATCH the users", kAdmin, "PATCH /api/v1/users", 404, "not_found"},
    {"POST to the ledger", "POST /api/v1/ledger", kAuditor, "POST /api/v1/ledger {}", 404,
     "not_found"},
    {"GET the upload endpoint", kAdmin, "GET /api/v1/frames", 404, "not_found"},
    {"OPTIONS on the records", kAuditor, "OPTIONS /api/v1/roll-calls", 404, "not_found"},
    {"HEAD of the ledger (a read, audited)", kAuditor, "HEAD /api/v1/ledger", 200, "", kOneRead},
    {"TRACE (a method the server does not take)", kNobody, "TRACE /", 400, "bad_request"},
    {"unknown method", kAdmin, "FOO /api/v1/sites", 400, "bad_request"},
    {"unknown /api path", kAdmin, "GET /api/v1/admin", 404, "not_found"},
    {"another API version", kAdmin, "GET /api/v2/sites", 404, "not_found"},
    {"trailing slash", kAdmin, "GET /api/v1/users/", 404, "not_found"},
    {"empty segment", kAdmin, "GET /api/v1//users", 404, "not_found"},
    {"upper-case API path", kOrganizer, "GET /API/v1/users", 404, "not_found"},
    {"the users through reports/../", kOrganizer, "GET /api/v1/reports/../users", 404, "not_found"},
    {"the users through evidence/%2e%2e/", kOrganizer, "GET /api/v1/evidence/%2e%2e/users", 404,
     "not_found"},
    {"the ledger through latest/../", kTechnician, "GET /api/v1/sites/td-01/latest/../../../ledger",
     404, "not_found"},
    {"the API through /metrics/../", kNobody, "GET /metrics/../api/v1/users", 404, "not_found"},
};

// ----------------------------------------------------------------------------------------
// Running the list

struct Ran {
  std::string name, request, caller, answer;
};

// The answer, and what it changed when it changed anything (nothing, unless said).
std::string answer_text(const Case& c) {
  std::string out = c.status == 0    ? "none: the connection is closed"
                    : c.code.empty() ? std::to_string(c.status)
                                     : std::to_string(c.status) + " `" + std::string(c.code) + "`";
  std::string changed;
  const auto add = [&](std::int64_t n, const char* what) {
    if (n == 0) return;
    changed += (changed.empty() ? "" : ", ") + std::string(n > 0 ? "+" : "") + std::to_string(n) +
               " " + what;
  };
  add(c.delta.observations, "observation");
  add(c.delta.frame_files, "frame file");
  add(c.delta.heartbeats, "heartbeat");
  add(c.delta.ledger, "ledger entry");
  add(c.delta.audit, "audit entry");
  add(c.delta.users, "user");
  add(c.delta.sessions, "session");
  return changed.empty() ? out : out + "; " + changed;
}

// A table cell: '|' would end it and '<' open an HTML tag in the rendered Markdown.
std::string cell(std::string text) {
  std::string out;
  for (char ch : text) {
    if (ch == '|' || ch == '<') out += '\\';
    out += ch;
  }
  return out;
}

class Hostile : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = new Env();
    env_->start();
  }
  static void TearDownTestSuite() {
    if (env_) env_->stop();
    delete env_;
    env_ = nullptr;
    std::cout << "\n| name | request | caller | answer |\n|---|---|---|---|\n";
    for (const Ran& r : ran_) {
      std::cout << "| " << cell(r.name) << " | " << cell(r.request) << " | " << cell(r.caller)
                << " | " << cell(r.answer) << " |\n";
    }
    std::cout << std::flush;
  }
  void SetUp() override { ASSERT_TRUE(env_ && env_->ready) << "the service did not start"; }

  // Runs the rows of a group in order; a failure names its row.
  void run(std::span<const Case> group) {
    Env& e = *env_;
    for (const Case& c : group) {
      SCOPED_TRACE(c.name);
      e.set_caller(c.caller.role ? e.session(*c.caller.role) : httplib::Headers{});
      const Request request = c.send.request(e);
      const Counts before = e.counts();
      const Answer a = e.send(request);
      const Counts after = e.counts();
      EXPECT_EQ(a.status, c.status) << a.describe();
      EXPECT_EQ(a.code(), c.code) << a.describe();
      EXPECT_EQ(after - before, c.delta) << "before " << before << ", after " << after;
      // Nothing from outside evidence/ or the dashboard, and never the database.
      for (const auto& [k, v] : a.headers) {
        EXPECT_EQ(v.find(kSecret), std::string::npos) << k;
      }
      EXPECT_EQ(a.body.find(kSecret), std::string::npos) << "a planted secret was served";
      EXPECT_EQ(a.body.find(kSqliteMagic), std::string::npos) << "the database was served";
      if (a.status >= 400 && a.status != 0 && !request.raw) {
        EXPECT_TRUE(a.body_json().is_object()) << "an error without a JSON body: " << a.body;
      }
      if (c.also) c.also(e, a);
      // A login counts against its name and address; the next entries start afresh.
      if (request.target == "/api/v1/login") e.advance(16 * kMinute);
      ran_.push_back({std::string(c.name), std::string(c.request), std::string(c.caller.label),
                      answer_text(c)});
    }
    auto report = verify_database(e.db());
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_TRUE(report->problems.empty()) << "the ledger no longer verifies";
  }

  static Env* env_;
  static std::vector<Ran> ran_;
};

Env* Hostile::env_ = nullptr;
std::vector<Ran> Hostile::ran_;

TEST_F(Hostile, ForgedSignaturesUnknownSitesAndMissingHeaders) {
  run(kSignatures);
}
TEST_F(Hostile, ReplaysAndCaptureTimesOutOfBounds) {
  run(kReplays);
}
TEST_F(Hostile, HugeLyingAndMalformedBodiesAndHeaders) {
  run(kSizes);
}
TEST_F(Hostile, SqlQuotesNulsAndBadUtf8InParameters) {
  run(kSql);
}
TEST_F(Hostile, PathTraversalInEvidenceAndDashboardUrls) {
  run(kTraversal);
}
TEST_F(Hostile, ForgedExpiredAndCrossSiteSessions) {
  run(kSessions);
}
TEST_F(Hostile, MethodsNotAllowedAndUnknownPaths) {
  run(kMethods);
}

}  // namespace
}  // namespace att
