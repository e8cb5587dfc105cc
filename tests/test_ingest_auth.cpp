// The service's side of the capture-node protocol (protocol/wire.h), over real HTTP on
// loopback with a real SQLite store and real files: request signatures, sites without a key,
// frames with health scores, heartbeats and their spool drops, the live view and its expiry,
// the site keys file and the `attendance-server keys` command, and HTTPS. Every refusal is
// checked to have stored nothing.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "analysis/app/service.h"
#include "analysis/domain/site_keys.h"
#include "common/time_util.h"
#include "protocol/node_report.h"
#include "protocol/signing.h"
#include "protocol/wire.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTime[] = "1783830000000";
constexpr char kBadSignature[] =
    "X-Signature does not match this request under the key of the site it names";

// The intervals the service is configured to tell nodes: distinct, so that an answer shows
// which one it carries.
constexpr double kSampleInterval = 7;
constexpr double kLiveInterval = 0.5;
constexpr double kLiveDuration = 60;

ServerConfig config_for(const fs::path& dir) {
  ServerConfig config = testing::test_server_config(dir);
  config.nodes.sample_interval_s = kSampleInterval;
  config.nodes.live_interval_s = kLiveInterval;
  config.nodes.live_duration_s = kLiveDuration;
  return config;
}

// One request as a capture node builds it, signed under a key and then possibly tampered
// with before it is sent.
struct NodeRequest {
  std::string path = wire::kFramesPath;  // the endpoint it is signed for
  std::string site = "td-01";
  std::string sequence = "1";
  std::string capture_time = kTime;
  std::string extra;  // X-Health for frames, X-Spool-Dropped for heartbeats
  std::string body;
  std::string content_type = wire::kJpegContentType;
  std::string signature;  // empty: no X-Signature header

  NodeRequest& sign(const std::string& secret) {
    signature =
        sign_request(secret, {path, site, sequence, capture_time, extra, body, content_type});
    return *this;
  }
  NodeRequest& sign() { return sign(testing::site_secret(site)); }
};

// Sends `r` to `to` (default: the path it was signed for), headers as protocol/wire.h says.
httplib::Result send(httplib::Client& client, const NodeRequest& r, const std::string& to = "") {
  const std::string path = to.empty() ? r.path : to;
  httplib::Headers h;
  h.emplace(wire::kSiteHeader, r.site);
  h.emplace(wire::kSequenceHeader, r.sequence);
  h.emplace(wire::kCaptureTimeHeader, r.capture_time);
  if (!r.extra.empty()) {
    h.emplace(path == wire::kFramesPath ? wire::kHealthHeader : wire::kSpoolDroppedHeader, r.extra);
  }
  if (!r.signature.empty()) h.emplace(wire::kSignatureHeader, r.signature);
  return client.Post(path, h, r.body, r.content_type);
}

json body_of(const httplib::Result& res) {
  return json::parse(res->body, nullptr, /*allow_exceptions=*/false);
}

class IngestAuthTest : public ::testing::Test {
 protected:
  void SetUp() override { start(config_for(dir_.path())); }

  void start(ServerConfig config) {
    auto service = Service::create(std::move(config));
    ASSERT_TRUE(service) << service.error().message;
    service_ = std::move(*service);
    auto port = service_->start();
    ASSERT_TRUE(port) << port.error().message;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
    testing::log_in_as(*client_, service_->store(), Role::kTechnician);  // reads, live view
  }

  Store& store() { return service_->store(); }

  NodeRequest frame(const std::string& site = "td-01", const std::string& seq = "1") const {
    NodeRequest r;
    r.site = site;
    r.sequence = seq;
    r.body = jpeg_;
    return r;
  }

  NodeRequest heartbeat(const std::string& site = "td-01", const std::string& seq = "1",
                        const std::string& dropped = "") const {
    NodeRequest r;
    r.path = wire::kHealthPath;
    r.site = site;
    r.sequence = seq;
    r.extra = dropped;
    r.body = NodeReport{.state = NodeState::kOk, .spool = NodeSpool{3, 4096, 1 << 20, 0}}.to_json();
    r.content_type = wire::kJsonContentType;
    return r;
  }

  // Status, error code and message of a refused request; asserts nothing was stored.
  void expect_refused(const httplib::Result& res, int status, const std::string& code,
                      const std::string& message_part) {
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, status) << res->body;
    const json body = body_of(res);
    EXPECT_EQ(body.value("code", ""), code) << res->body;
    EXPECT_THAT(body.value("error", ""), HasSubstr(message_part));
    EXPECT_FALSE(body.contains("interval_s")) << "only successes carry an interval";
    expect_nothing_stored();
  }

  void expect_nothing_stored() {
    for (const auto& site : testing::small_province()) {
      EXPECT_EQ(store().observation_count(site.id).value_or(-1), 0) << site.id;
      EXPECT_EQ(store().heartbeat_count(site.id).value_or(-1), 0) << site.id;
      EXPECT_EQ(store().spool_dropped_total(site.id).value_or(-1), 0) << site.id;
    }
    EXPECT_FALSE(fs::exists(dir_ / "data" / "frames"));
  }

  testing::TempDir dir_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<httplib::Client> client_;
  const std::string jpeg_ = testing::synthetic_jpeg(320, 240);
};

// ----------------------------------------------------------------------------------------
// Signatures

TEST_F(IngestAuthTest, AFrameWithoutASignatureIsRefused) {
  expect_refused(send(*client_, frame()), 401, "bad_signature", "X-Signature does not match");
}

TEST_F(IngestAuthTest, AnUnknownSiteAndABadSignatureAreAnsweredAlike) {
  // Nobody learns which sites exist: the same status and body for a site not in the list,
  // a missing signature and a wrong one (a site without a key: IngestNoKey).
  NodeRequest unknown = frame();
  unknown.site = "zz-99";
  NodeRequest wrong = frame();
  wrong.sign(std::string(64, 'a'));
  const auto a = send(*client_, unknown.sign());
  const auto b = send(*client_, frame());
  const auto c = send(*client_, wrong);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->status, 401);
  EXPECT_EQ(b->status, 401);
  EXPECT_EQ(c->status, 401);
  EXPECT_EQ(a->body, c->body);
  EXPECT_EQ(b->body, c->body);
  expect_nothing_stored();
}

TEST_F(IngestAuthTest, AFrameSignedWithAnotherSitesKeyIsRefused) {
  expect_refused(send(*client_, frame().sign(testing::site_secret("td-02"))), 401, "bad_signature",
                 kBadSignature);
}

TEST_F(IngestAuthTest, AFrameWhoseBodyChangedAfterSigningIsRefused) {
  NodeRequest r = frame().sign();
  r.body[r.body.size() / 2] ^= 0x01;
  expect_refused(send(*client_, r), 401, "bad_signature", kBadSignature);
}

TEST_F(IngestAuthTest, AFrameWhoseContentTypeChangedAfterSigningIsRefused) {
  // The media type is signed: a proxy or an attacker changing it is caught, not obeyed.
  NodeRequest r = frame().sign();
  r.content_type = "image/jpeg; charset=binary";
  expect_refused(send(*client_, r), 401, "bad_signature", kBadSignature);
}

TEST_F(IngestAuthTest, AFrameWhoseHealthHeaderChangedAfterSigningIsRefused) {
  NodeRequest r = frame();
  r.extra = R"({"brightness":0.4,"sharpness":0.8})";
  r.sign();
  r.extra = R"({"brightness":0.9,"sharpness":0.8})";
  expect_refused(send(*client_, r), 401, "bad_signature", kBadSignature);
  // Dropping the signed header is a change too.
  r.extra.clear();
  expect_refused(send(*client_, r), 401, "bad_signature", kBadSignature);
}

TEST_F(IngestAuthTest, AFrameWhoseCaptureTimeChangedAfterSigningIsRefused) {
  NodeRequest r = frame().sign();
  r.capture_time = "1783830000001";
  expect_refused(send(*client_, r), 401, "bad_signature", kBadSignature);
}

TEST_F(IngestAuthTest, AFrameWhoseSequenceOrSiteChangedAfterSigningIsRefused) {
  NodeRequest r = frame().sign();
  r.sequence = "2";
  expect_refused(send(*client_, r), 401, "bad_signature", kBadSignature);
  r = frame().sign();
  r.site = "td-02";  // moved to another site: its own key does not match
  expect_refused(send(*client_, r), 401, "bad_signature", kBadSignature);
}

TEST_F(IngestAuthTest, ARequestSignedForOneEndpointIsRefusedAtTheOther) {
  // Signed as a heartbeat (path /api/v1/health), replayed as a frame: same headers, same
  // JPEG, the right key; only the signed path differs.
  NodeRequest as_heartbeat = frame();
  as_heartbeat.path = wire::kHealthPath;
  as_heartbeat.sign();
  expect_refused(send(*client_, as_heartbeat, wire::kFramesPath), 401, "bad_signature",
                 kBadSignature);

  // And a heartbeat signed for /api/v1/frames is refused at /api/v1/health.
  NodeRequest as_frame = heartbeat();
  as_frame.path = wire::kFramesPath;
  as_frame.sign();
  expect_refused(send(*client_, as_frame, wire::kHealthPath), 401, "bad_signature", kBadSignature);
}

TEST_F(IngestAuthTest, AnUppercaseHexSignatureIsAccepted) {
  NodeRequest r = frame().sign();
  std::ranges::transform(r.signature, r.signature.begin(),
                         [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  ASSERT_NE(r.signature, frame().sign().signature);
  auto res = send(*client_, r);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 201) << res->body;
  EXPECT_EQ(store().observation_count("td-01").value_or(-1), 1);
}

TEST_F(IngestAuthTest, AFrameSignedByTheSitesOwnKeyIsStored) {
  auto res = send(*client_, frame().sign());
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 201) << res->body;
  EXPECT_EQ(body_of(res)["status"], "stored");
  EXPECT_EQ(store().observation_count("td-01").value_or(-1), 1);
}

// ----------------------------------------------------------------------------------------
// Capture times far from the server's clock

class IngestClockTest : public IngestAuthTest {
 protected:
  void SetUp() override {
    ServerConfig config = config_for(dir_.path());
    config.max_future_s = 300;
    config.max_age_s = 30 * 86400;
    start(std::move(config));
  }
  NodeRequest frame_at(std::int64_t capture_time_ms) {
    NodeRequest r = frame();
    r.capture_time = std::to_string(capture_time_ms);
    return r;
  }
};

TEST_F(IngestClockTest, ACaptureTimeAheadOfTheServersClockIsRefused) {
  expect_refused(send(*client_, frame_at(now_ms() + 600'000).sign()), 400, "capture_time_in_future",
                 "s ahead of the server's clock (at most 300 s)");
}

TEST_F(IngestClockTest, ACaptureTimeOlderThanTheLimitIsRefused) {
  expect_refused(send(*client_, frame_at(now_ms() - 31LL * 86'400'000).sign()), 400,
                 "capture_time_too_old", "31 days behind the server's clock (at most 30 days)");
}

TEST_F(IngestClockTest, AFrameFromASpoolDaysOldOrAClockAMinuteFastIsTaken) {
  auto old = send(*client_, frame_at(now_ms() - 2LL * 86'400'000).sign());
  ASSERT_TRUE(old);
  EXPECT_EQ(old->status, 201) << old->body;
  NodeRequest fast = frame_at(now_ms() + 60'000);
  fast.sequence = "2";
  auto res = send(*client_, fast.sign());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 201) << res->body;
}

// ----------------------------------------------------------------------------------------
// A site without a key

TEST(IngestNoKey, ASiteOfTheProvinceWithoutAKeyIsRefused) {
  testing::TempDir dir;
  ServerConfig config = config_for(dir.path());
  config.site_keys.erase("td-02");
  auto service = Service::create(std::move(config));
  ASSERT_TRUE(service) << service.error().message;
  auto port = (*service)->start();
  ASSERT_TRUE(port) << port.error().message;
  httplib::Client client("127.0.0.1", *port);

  NodeRequest r;
  r.site = "td-02";
  r.body = testing::synthetic_jpeg(320, 240);
  // Signed with the key the node holds; the service has none to check it with.
  auto res = send(client, r.sign());
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 401) << res->body;
  EXPECT_EQ(body_of(res)["code"], "bad_signature");
  // A heartbeat is refused the same way.
  NodeRequest hb;
  hb.path = wire::kHealthPath;
  hb.site = "td-02";
  hb.body = "{}";
  hb.content_type = wire::kJsonContentType;
  auto hb_res = send(client, hb.sign());
  ASSERT_TRUE(hb_res);
  EXPECT_EQ(hb_res->status, 401) << hb_res->body;
  EXPECT_EQ(body_of(hb_res)["code"], "bad_signature");

  EXPECT_EQ((*service)->store().observation_count("td-02").value_or(-1), 0);
  EXPECT_EQ((*service)->store().heartbeat_count("td-02").value_or(-1), 0);
  EXPECT_FALSE(fs::exists(dir / "data" / "frames"));
  // The sites that have a key still upload.
  NodeRequest ok;
  ok.body = testing::synthetic_jpeg(320, 240);
  auto ok_res = send(client, ok.sign());
  ASSERT_TRUE(ok_res);
  EXPECT_EQ(ok_res->status, 201) << ok_res->body;
}

// ----------------------------------------------------------------------------------------
// Frames: health scores and the interval

TEST_F(IngestAuthTest, AHealthHeaderThatIsNotAJsonObjectIsRefused) {
  for (const std::string health : {"[1,2]", "not json", "42", "\"text\"", "{\"a\":1"}) {
    NodeRequest r = frame();
    r.extra = health;
    expect_refused(send(*client_, r.sign()), 400, "bad_health",
                   "X-Health must be a JSON object of at most 4096 bytes");
  }
}

TEST_F(IngestAuthTest, AHealthHeaderOver4096BytesIsRefused) {
  NodeRequest r = frame();
  r.extra = R"({"note":")" + std::string(4100, 'x') + R"("})";
  expect_refused(send(*client_, r.sign()), 400, "bad_health", "at most 4096 bytes");
}

TEST_F(IngestAuthTest, TheHealthScoresAreStoredAndServedBackAsAnObject) {
  NodeRequest r = frame();
  r.extra = R"({"brightness":0.42,"sharpness":0.81,"covered":false})";
  auto res = send(*client_, r.sign());
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 201) << res->body;

  auto obs = store().find_observation("td-01", 1);
  ASSERT_TRUE(obs && *obs);
  EXPECT_EQ((*obs)->health, r.extra);  // kept as sent

  auto latest = client_->Get("/api/v1/sites/td-01/latest");
  ASSERT_TRUE(latest);
  ASSERT_EQ(latest->status, 200) << latest->body;
  const json health = body_of(latest)["health"];
  ASSERT_TRUE(health.is_object()) << latest->body;
  EXPECT_EQ(health, json::parse(r.extra));
  EXPECT_DOUBLE_EQ(health["brightness"].get<double>(), 0.42);
  EXPECT_EQ(health["covered"], false);
}

TEST_F(IngestAuthTest, AFrameWithoutHealthIsServedWithNullHealth) {
  auto res = send(*client_, frame().sign());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  auto latest = client_->Get("/api/v1/sites/td-01/latest");
  ASSERT_TRUE(latest);
  EXPECT_TRUE(body_of(latest)["health"].is_null()) << latest->body;
}

TEST_F(IngestAuthTest, AStoredFrameAndItsRetryCarryTheConfiguredInterval) {
  auto res = send(*client_, frame().sign());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  EXPECT_DOUBLE_EQ(body_of(res)["interval_s"].get<double>(), kSampleInterval);
  auto again = send(*client_, frame().sign());
  ASSERT_TRUE(again);
  ASSERT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(body_of(again)["status"], "duplicate");
  EXPECT_DOUBLE_EQ(body_of(again)["interval_s"].get<double>(), kSampleInterval);
}

// ----------------------------------------------------------------------------------------
// Heartbeats

TEST_F(IngestAuthTest, AHeartbeatIsStoredWithItsSpoolDrops) {
  auto res = send(*client_, heartbeat("td-01", "3", "4").sign());
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 201) << res->body;
  const json body = body_of(res);
  EXPECT_EQ(body["status"], "stored");
  EXPECT_EQ(body["sequence"], 3);
  EXPECT_EQ(body["dropped_recorded"], 4);
  EXPECT_DOUBLE_EQ(body["interval_s"].get<double>(), kSampleInterval);
  EXPECT_EQ(store().heartbeat_count("td-01").value_or(-1), 1);
  EXPECT_EQ(store().spool_dropped_total("td-01").value_or(-1), 4);
  EXPECT_EQ(store().observation_count("td-01").value_or(-1), 0);
}

TEST_F(IngestAuthTest, AHeartbeatWithoutSpoolDropsRecordsZero) {
  auto res = send(*client_, heartbeat("td-01", "3").sign());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  EXPECT_EQ(body_of(res)["dropped_recorded"], 0);
  EXPECT_EQ(store().spool_dropped_total("td-01").value_or(-1), 0);
}

TEST_F(IngestAuthTest, AHeartbeatRetryIsADuplicateAndItsDropsAreCountedOnce) {
  ASSERT_EQ(send(*client_, heartbeat("td-01", "5", "4").sign())->status, 201);
  // The node lost the answer; meanwhile its spool dropped more, and the retry says so.
  auto retry = send(*client_, heartbeat("td-01", "5", "9").sign());
  ASSERT_TRUE(retry) << httplib::to_string(retry.error());
  ASSERT_EQ(retry->status, 200) << retry->body;
  const json body = body_of(retry);
  EXPECT_EQ(body["status"], "duplicate");
  EXPECT_EQ(body["sequence"], 5);
  EXPECT_EQ(body["dropped_recorded"], 4);
  EXPECT_DOUBLE_EQ(body["interval_s"].get<double>(), kSampleInterval);
  EXPECT_EQ(store().heartbeat_count("td-01").value_or(-1), 1);
  EXPECT_EQ(store().spool_dropped_total("td-01").value_or(-1), 4);
}

TEST_F(IngestAuthTest, AReusedHeartbeatSequenceWithAnotherReportIsAConflict) {
  ASSERT_EQ(send(*client_, heartbeat("td-01", "5", "4").sign())->status, 201);
  NodeRequest other = heartbeat("td-01", "5", "4");
  other.body = R"({"state":"no_frames"})";
  auto res = send(*client_, other.sign());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409) << res->body;
  EXPECT_EQ(body_of(res)["code"], "sequence_conflict");
  EXPECT_THAT(body_of(res)["error"].get<std::string>(),
              HasSubstr("sequence 5 was already stored for this site with a different report"));
  EXPECT_EQ(store().heartbeat_count("td-01").value_or(-1), 1);
  EXPECT_EQ(store().spool_dropped_total("td-01").value_or(-1), 4);
}

TEST_F(IngestAuthTest, AHeartbeatThatIsNotAJsonObjectIsRefused) {
  for (const std::string report : {"[1,2]", "not json", "7", "{\"camera\":"}) {
    NodeRequest r = heartbeat();
    r.body = report;
    expect_refused(send(*client_, r.sign()), 400, "bad_report",
                   "the heartbeat must be a JSON object");
  }
}

TEST_F(IngestAuthTest, AHeartbeatOutsideTheNodeReportsSchemaIsRefusedNamingTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"state":"sleeping"})", "state must be one of"},
      {R"({"spool":{"items":"3","bytes":0,"max_bytes":0,"dropped":0}})", "spool.items"},
      {R"({"counters":{"frames":1}})", "counters.spooled is missing"},
      {R"({"camera":"ok"})", "camera must be an object"}};
  for (const auto& [report, field] : cases) {
    NodeRequest r = heartbeat();
    r.body = report;
    expect_refused(send(*client_, r.sign()), 400, "bad_report", field);
  }
}

TEST_F(IngestAuthTest, AHeartbeatThatIsNotJsonByContentTypeIsRefused) {
  NodeRequest r = heartbeat();
  r.content_type = wire::kJpegContentType;
  expect_refused(send(*client_, r.sign()), 415, "unsupported_media_type",
                 "Content-Type must be application/json (got 'image/jpeg')");
}

TEST_F(IngestAuthTest, AContentTypeWithACharsetIsTheSameMediaType) {
  NodeRequest r = heartbeat();
  r.content_type = "application/json; charset=utf-8";
  auto res = send(*client_, r.sign());
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 201) << res->body;
  EXPECT_EQ(store().heartbeat_count("td-01").value_or(-1), 1);
}

TEST_F(IngestAuthTest, AMalformedSpoolDropCountIsRefused) {
  for (const std::string dropped : {"-1", "abc", "4x", "1.5"}) {
    expect_refused(send(*client_, heartbeat("td-01", "1", dropped).sign()), 400, "bad_dropped",
                   "X-Spool-Dropped must be a non-negative whole number");
  }
}

TEST_F(IngestAuthTest, AHeartbeatWhoseSpoolDropCountChangedAfterSigningIsRefused) {
  NodeRequest r = heartbeat("td-01", "1", "4").sign();
  r.extra = "0";  // a relay hiding the drops
  expect_refused(send(*client_, r), 401, "bad_signature", kBadSignature);
}

TEST_F(IngestAuthTest, AnOversizedHeartbeatIsRefused) {
  NodeRequest r = heartbeat();
  r.body = R"({"pad":")" + std::string(70 * 1024, 'x') + R"("})";
  expect_refused(send(*client_, r.sign()), 413, "body_too_large", "exceeds the limit of 65536");
}

TEST_F(IngestAuthTest, SitesShowsEachNodesLatestReport) {
  const std::int64_t t = now_ms() - 5000;
  NodeRequest first = heartbeat("td-01", "1");
  first.capture_time = std::to_string(t - 30000);
  first.body = R"({"state":"ok","uptime_s":1})";
  ASSERT_EQ(send(*client_, first.sign())->status, 201);
  NodeRequest second = heartbeat("td-01", "2", "3");
  second.capture_time = std::to_string(t);
  second.body =
      NodeReport{.state = NodeState::kOk, .spool = NodeSpool{2, 2048, 1 << 20, 0}}.to_json();
  ASSERT_EQ(send(*client_, second.sign())->status, 201);

  auto res = client_->Get("/api/v1/sites");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = body_of(res);
  ASSERT_EQ(body["sites"].size(), 3u);
  std::map<std::string, json> by_id;
  for (const auto& s : body["sites"]) by_id[s["id"]] = s;
  const json node = by_id["td-01"]["node"];
  ASSERT_TRUE(node.is_object()) << res->body;
  EXPECT_EQ(node["sequence"], 2);
  EXPECT_EQ(node["reported_at_ms"], t);
  ASSERT_TRUE(node["report"].is_object()) << res->body;
  EXPECT_EQ(node["report"], json::parse(second.body));
  const std::int64_t age = node["age_ms"].get<std::int64_t>();
  EXPECT_GE(age, 5000);
  EXPECT_LT(age, 60000);
  EXPECT_TRUE(by_id["td-02"]["node"].is_null()) << res->body;
  EXPECT_TRUE(by_id["mt-01"]["node"].is_null()) << res->body;
  EXPECT_TRUE(by_id["td-01"]["latest"].is_null()) << "a heartbeat is not an observation";
}

// ----------------------------------------------------------------------------------------
// Live view

TEST_F(IngestAuthTest, LiveViewShortensTheIntervalOfThatSiteOnly) {
  const std::int64_t before = now_ms();
  auto res = client_->Post("/api/v1/sites/td-01/live");
  const std::int64_t after = now_ms();
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  const json live = body_of(res);
  EXPECT_EQ(live["site_id"], "td-01");
  EXPECT_DOUBLE_EQ(live["interval_s"].get<double>(), kLiveInterval);
  const auto until = live["live_until_ms"].get<std::int64_t>();
  const auto duration_ms = static_cast<std::int64_t>(kLiveDuration * 1000);
  EXPECT_GE(until, before + duration_ms);
  EXPECT_LE(until, after + duration_ms);

  auto td01 = send(*client_, frame("td-01", "1").sign());
  ASSERT_TRUE(td01);
  ASSERT_EQ(td01->status, 201) << td01->body;
  EXPECT_DOUBLE_EQ(body_of(td01)["interval_s"].get<double>(), kLiveInterval);
  auto td02 = send(*client_, frame("td-02", "1").sign());
  ASSERT_TRUE(td02);
  ASSERT_EQ(td02->status, 201) << td02->body;
  EXPECT_DOUBLE_EQ(body_of(td02)["interval_s"].get<double>(), kSampleInterval);
  // Heartbeats carry the site's interval too.
  auto hb = send(*client_, heartbeat("td-01", "2").sign());
  ASSERT_TRUE(hb);
  ASSERT_EQ(hb->status, 201) << hb->body;
  EXPECT_DOUBLE_EQ(body_of(hb)["interval_s"].get<double>(), kLiveInterval);
}

TEST_F(IngestAuthTest, LiveViewOfAnUnknownSiteIsA404) {
  auto res = client_->Post("/api/v1/sites/nope/live");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404) << res->body;
  EXPECT_EQ(body_of(res)["code"], "unknown_site");
  EXPECT_THAT(body_of(res)["error"].get<std::string>(), HasSubstr("no site 'nope'"));
}

TEST(IngestLiveExpiry, TheNormalIntervalIsBackWhenTheLiveViewEnds) {
  testing::TempDir dir;
  ServerConfig config = config_for(dir.path());
  config.nodes.live_interval_s = 0.25;
  config.nodes.live_duration_s = 0.5;  // below the YAML's minimum: not checked from C++
  auto service = Service::create(std::move(config));
  ASSERT_TRUE(service) << service.error().message;
  auto port = (*service)->start();
  ASSERT_TRUE(port) << port.error().message;
  httplib::Client client("127.0.0.1", *port);
  testing::log_in_as(client, (*service)->store(), Role::kTechnician);

  auto beat = [&](const std::string& seq) {
    NodeRequest r;
    r.path = wire::kHealthPath;
    r.sequence = seq;
    r.body = "{}";
    r.content_type = wire::kJsonContentType;
    auto res = send(client, r.sign());
    EXPECT_TRUE(res && res->status == 201) << (res ? res->body : httplib::to_string(res.error()));
    return res ? body_of(res).value("interval_s", -1.0) : -1.0;
  };

  const auto start = std::chrono::steady_clock::now();
  auto live = client.Post("/api/v1/sites/td-01/live");
  ASSERT_TRUE(live);
  ASSERT_EQ(live->status, 200) << live->body;
  EXPECT_DOUBLE_EQ(body_of(live)["interval_s"].get<double>(), 0.25);
  const double during = beat("1");
  if (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(400)) {
    EXPECT_DOUBLE_EQ(during, 0.25);
  }
  std::this_thread::sleep_until(start + std::chrono::milliseconds(650));
  EXPECT_DOUBLE_EQ(beat("2"), kSampleInterval);
  EXPECT_EQ((*service)->store().heartbeat_count("td-01").value_or(-1), 2);
}

// ----------------------------------------------------------------------------------------
// The site keys file

const std::string kKey1 = std::string(64, 'a');
const std::string kKey2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(SiteKeysFile, ParsesAGoodFileAndLowercasesTheSecrets) {
  const std::string upper = "0123456789ABCDEF0123456789ABCDEF";  // 32 digits: the minimum
  auto keys = parse_site_keys(
      "site_id,secret\ntd-01," + kKey1 + "\r\n\ntd-02," + kKey2 + "\nmt-01," + upper + "\n",
      testing::small_province());
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(*keys, (SiteKeys{{"td-01", kKey1},
                             {"td-02", kKey2},
                             {"mt-01", "0123456789abcdef0123456789abcdef"}}));
}

TEST(SiteKeysFile, AnEmptyListIsValid) {
  auto keys = parse_site_keys("site_id,secret\n", testing::small_province());
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_TRUE(keys->empty());
}

TEST(SiteKeysFile, ABadHeaderIsRefused) {
  for (const std::string& text :
       {"id,secret\ntd-01," + kKey1 + "\n", "td-01," + kKey1 + "\n", std::string()}) {
    auto keys = parse_site_keys(text, testing::small_province());
    ASSERT_FALSE(keys) << text;
    EXPECT_EQ(keys.error().message, "line 1: the header must be 'site_id,secret'");
  }
}

TEST(SiteKeysFile, AnUnknownSiteIsRefused) {
  auto keys = parse_site_keys("site_id,secret\nxx-99," + kKey1 + "\n", testing::small_province());
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().message, "line 2: no site 'xx-99' in the province");
}

TEST(SiteKeysFile, ASecondKeyForASiteIsRefused) {
  auto keys = parse_site_keys("site_id,secret\ntd-01," + kKey1 + "\ntd-01," + kKey2 + "\n",
                              testing::small_province());
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().message, "line 3: a second key for site 'td-01'");
}

TEST(SiteKeysFile, AShortSecretIsRefused) {
  auto keys =
      parse_site_keys("site_id,secret\ntd-01,0123456789abcdef\n", testing::small_province());
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().message,
            "line 2: site 'td-01': a site secret must be at least 32 hex digits (got 16 "
            "characters)");
}

TEST(SiteKeysFile, ANonHexSecretIsRefused) {
  auto keys = parse_site_keys("site_id,secret\ntd-01," + std::string(63, 'a') + "g\n",
                              testing::small_province());
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().message,
            "line 2: site 'td-01': a site secret must be hex digits only (0-9, a-f)");
}

TEST(SiteKeysFile, EveryBadRowIsReportedWithItsLine) {
  const std::string text =
      "site_id,secret\n"  // 1
      "td-01," +
      kKey1 +
      "\n"  // 2 good
      "xx-99," +
      kKey2 +
      "\n"           // 3 unknown site
      "\n"           // 4 blank, skipped
      "td-02,abc\n"  // 5 short
      "td-01," +
      kKey2 +
      "\n"  // 6 duplicate
      "mt-01," +
      kKey1 +
      ",extra\n"  // 7 three fields
      "mt-01,zz" +
      kKey1 + "\n";  // 8 not hex
  auto keys = parse_site_keys(text, testing::small_province());
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().message,
            "line 3: no site 'xx-99' in the province\n"
            "line 5: site 'td-02': a site secret must be at least 32 hex digits (got 3 "
            "characters)\n"
            "line 6: a second key for site 'td-01'\n"
            "line 7: expected 2 fields (site_id,secret), got 3\n"
            "line 8: site 'mt-01': a site secret must be hex digits only (0-9, a-f)");
}

TEST(SiteKeysFile, ASecondRowForASiteIsReportedEvenWhenTheFirstIsMalformed) {
  auto keys = parse_site_keys("site_id,secret\ntd-01,abc\ntd-01," + kKey1 + "\n",
                              testing::small_province());
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().message,
            "line 2: site 'td-01': a site secret must be at least 32 hex digits (got 3 "
            "characters)\n"
            "line 3: a second key for site 'td-01'");
}

TEST(SiteKeysFile, LoadRefusesAFileOthersMayRead) {
  testing::TempDir dir;
  const fs::path path = dir / "keys.csv";
  testing::write_file(path, "site_id,secret\ntd-01," + kKey1 + "\n");
  fs::permissions(path, fs::perms(0644));
  auto refused = load_site_keys(path, testing::small_province());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, path.string() +
                                         " may be read by other users; make it private: chmod "
                                         "600 " +
                                         path.string());
  fs::permissions(path, fs::perms(0600));
  auto loaded = load_site_keys(path, testing::small_province());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(*loaded, (SiteKeys{{"td-01", kKey1}}));
}

TEST(SiteKeysFile, LoadNamesTheFileAndTheCommandThatMakesIt) {
  testing::TempDir dir;
  auto missing = load_site_keys(dir / "keys.csv", testing::small_province());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, (dir / "keys.csv").string() +
                                         ": No such file or directory (create it with: "
                                         "attendance-server keys)");
  testing::write_file(dir / "bad.csv", "site_id,secret\nxx-99," + kKey1 + "\n");
  fs::permissions(dir / "bad.csv", fs::perms(0600));
  auto bad = load_site_keys(dir / "bad.csv", testing::small_province());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            (dir / "bad.csv").string() + ": line 2: no site 'xx-99' in the province");
}

TEST(SiteKeysFile, SaveWritesAPrivateFileThatLoadsBack) {
  testing::TempDir dir;
  const fs::path path = dir / "keys.csv";
  testing::write_file(path, "left over\n");
  fs::permissions(path, fs::perms(0644));  // replaced by a private file, not widened into
  const SiteKeys keys{{"td-02", kKey2}, {"td-01", kKey1}};
  ASSERT_TRUE(save_site_keys(path, keys));
  EXPECT_EQ(fs::status(path).permissions(), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(testing::read_file(path), "site_id,secret\ntd-01," + kKey1 + "\ntd-02," + kKey2 + "\n");
  auto loaded = load_site_keys(path, testing::small_province());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(*loaded, keys);
}

TEST(SiteKeysFile, SaveNeverWritesTheSecretsIntoAFileOthersMayRead) {
  testing::TempDir dir;
  const fs::path path = dir / "keys.csv";
  const fs::path tmp = dir / "keys.csv.tmp";
  testing::write_file(tmp, "stale\n");
  fs::permissions(tmp, fs::perms(0644));
  std::ifstream other_user(tmp, std::ios::binary);  // opened while it was readable
  ASSERT_TRUE(save_site_keys(path, SiteKeys{{"td-01", kKey1}}));
  EXPECT_EQ(fs::status(path).permissions(), fs::perms::owner_read | fs::perms::owner_write);
  std::ostringstream seen;
  seen << other_user.rdbuf();
  EXPECT_THAT(seen.str(), Not(HasSubstr(kKey1)));
}

TEST(SiteKeysFile, AddMissingKeysAddsAFreshKeyOnlyWhereNoneIs) {
  SiteKeys keys{{"td-01", kKey1}};
  auto added = add_missing_keys(keys, testing::small_province());
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(*added, (std::vector<std::string>{"td-02", "mt-01"}));
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys["td-01"], kKey1);
  std::set<std::string> distinct;
  for (const auto& [id, secret] : keys) {
    EXPECT_EQ(secret.size(), 64u) << id;
    EXPECT_TRUE(std::ranges::all_of(
        secret, [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
        << id << ": " << secret;
    EXPECT_TRUE(check_site_secret(secret)) << id;
    distinct.insert(secret);
  }
  EXPECT_EQ(distinct.size(), 3u);
  auto none = add_missing_keys(keys, testing::small_province());
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

// ----------------------------------------------------------------------------------------
// `attendance-server keys`, run as a real process

using testing::CommandRun;

// A minimal valid server.yaml with the three sites of small_province().
struct KeysConfigDir {
  testing::TempDir dir;
  fs::path yaml = dir / "server.yaml";
  fs::path keys = dir / "private" / "site_keys.csv";

  KeysConfigDir() {
    testing::write_small_server_yaml(dir.path(), "nodes:\n  site_keys: private/site_keys.csv\n");
    fs::create_directories(keys.parent_path());
  }

  CommandRun run(std::vector<std::string> args) {
    args.insert(args.begin(), {ATTENDANCE_SERVER_BIN, "--config", yaml.string()});
    return testing::run_command(args, dir.path());
  }
};

TEST(KeysCommand, CreatesAPrivateKeyFileWithAKeyForEverySite) {
  KeysConfigDir c;
  const CommandRun run = c.run({"keys"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;
  EXPECT_THAT(run.err, HasSubstr("added a key for 3 site(s) to " + c.keys.string()));
  EXPECT_THAT(run.err, HasSubstr("3 of 3 sites have a key"));
  ASSERT_TRUE(fs::exists(c.keys));
  EXPECT_EQ(fs::status(c.keys).permissions(), fs::perms::owner_read | fs::perms::owner_write);
  auto keys = load_site_keys(c.keys, testing::small_province());
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(keys->size(), 3u);
  for (const auto& site : testing::small_province()) {
    ASSERT_TRUE(keys->contains(site.id)) << site.id;
    EXPECT_EQ(keys->at(site.id).size(), 64u) << site.id;
  }
  // One header and one row per site, nothing else.
  const std::string text = testing::read_file(c.keys);
  EXPECT_EQ(std::ranges::count(text, '\n'), 4);
}

TEST(KeysCommand, ASecondRunChangesNothing) {
  KeysConfigDir c;
  ASSERT_EQ(c.run({"keys"}).exit_code, 0);
  const std::string first = testing::read_file(c.keys);
  const auto first_time = fs::last_write_time(c.keys);
  const CommandRun again = c.run({"keys"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, Not(HasSubstr("added a key")));
  EXPECT_EQ(testing::read_file(c.keys), first);
  EXPECT_EQ(fs::last_write_time(c.keys), first_time);
}

TEST(KeysCommand, ANewSiteGetsAKeyAndTheOthersKeepTheirs) {
  KeysConfigDir c;
  ASSERT_EQ(c.run({"keys"}).exit_code, 0);
  auto before = load_site_keys(c.keys, testing::small_province());
  ASSERT_TRUE(before) << before.error().message;
  testing::write_file(c.dir / "sites.csv", std::string(testing::kSmallProvinceCsv) +
                                               "mt-02,Trường Tiểu học Tà Tổng,Mường Tè,primary,"
                                               "Xã Tà Tổng,51,IP\n");
  const CommandRun run = c.run({"keys"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("added a key for 1 site(s)"));
  auto sites = testing::small_province();
  sites.push_back(sites.back());
  sites.back().id = "mt-02";
  auto after = load_site_keys(c.keys, sites);
  ASSERT_TRUE(after) << after.error().message;
  ASSERT_EQ(after->size(), 4u);
  for (const auto& [id, secret] : *before) EXPECT_EQ(after->at(id), secret) << id;
  EXPECT_EQ(fs::status(c.keys).permissions(), fs::perms::owner_read | fs::perms::owner_write);
}

TEST(KeysCommand, ShowPrintsThatSitesKeyAndNothingElse) {
  KeysConfigDir c;
  ASSERT_EQ(c.run({"keys"}).exit_code, 0);
  auto keys = load_site_keys(c.keys, testing::small_province());
  ASSERT_TRUE(keys) << keys.error().message;
  const CommandRun show = c.run({"keys", "--show", "td-01"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(show.out, keys->at("td-01") + "\n");
  // What it prints is what the node signs with, and the service accepts.
  EXPECT_TRUE(check_site_secret(show.out.substr(0, show.out.size() - 1)));
}

TEST(KeysCommand, ShowOfAnUnknownSiteExits2) {
  KeysConfigDir c;
  const CommandRun show = c.run({"keys", "--show", "nope"});
  EXPECT_EQ(show.exit_code, 2) << show.err;
  EXPECT_TRUE(show.out.empty()) << show.out;
  EXPECT_THAT(show.err, HasSubstr("no site 'nope' in the province"));
}

TEST(KeysCommand, AKeyFileOthersMayReadStopsIt) {
  KeysConfigDir c;
  ASSERT_EQ(c.run({"keys"}).exit_code, 0);
  fs::permissions(c.keys, fs::perms(0644));
  const CommandRun run = c.run({"keys", "--show", "td-01"});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;
  EXPECT_THAT(run.err, HasSubstr("chmod 600 " + c.keys.string()));
}

TEST(KeysCommand, WithoutSiteKeysInTheConfigItExits2) {
  KeysConfigDir c;
  testing::write_file(c.yaml,
                      "province:\n"
                      "  name: Lai Châu\n"
                      "  sites: sites.csv\n"
                      "  schedule: schedule.yaml\n");
  const CommandRun run = c.run({"keys"});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_THAT(run.err, HasSubstr("nodes.site_keys is not set"));
}

// ----------------------------------------------------------------------------------------
// HTTPS

// A self-signed certificate for 127.0.0.1, made with the openssl command; false if it could
// not be made.
bool make_certificate(const fs::path& dir) {
  const std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout '" + (dir / "key.pem").string() +
      "' -out '" + (dir / "cert.pem").string() +
      "' -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1";
  return std::system(command.c_str()) == 0 && fs::exists(dir / "cert.pem") &&
         fs::exists(dir / "key.pem");
}

bool have_openssl() {
  return std::system("command -v openssl >/dev/null 2>&1") == 0;
}

TEST(IngestHttps, ASignedFrameIsStoredOverHttpsAndAnUntrustingClientGetsNothing) {
  if (!have_openssl()) GTEST_SKIP() << "skipped: needs the openssl command on PATH (absent)";
  testing::TempDir dir;
  ASSERT_TRUE(make_certificate(dir.path())) << "openssl req failed";
  ServerConfig config = config_for(dir.path());
  config.tls_cert = dir / "cert.pem";
  config.tls_key = dir / "key.pem";
  auto service = Service::create(std::move(config));
  ASSERT_TRUE(service) << service.error().message;
  auto port = (*service)->start();
  ASSERT_TRUE(port) << port.error().message;
  const std::string url = "https://127.0.0.1:" + std::to_string(*port);
  const std::string jpeg = testing::synthetic_jpeg(320, 240);

  // A client that trusts nothing but the system's CAs refuses the self-signed certificate.
  httplib::Client untrusting(url);
  untrusting.enable_server_certificate_verification(true);
  auto refused = testing::post_signed(untrusting, wire::kFramesPath, "td-01", "1", kTime, jpeg,
                                      wire::kJpegContentType);
  ASSERT_FALSE(refused) << refused->status;
  EXPECT_EQ(refused.error(), httplib::Error::SSLServerVerification)
      << httplib::to_string(refused.error());
  EXPECT_EQ((*service)->store().observation_count("td-01").value_or(-1), 0);

  // Plain HTTP to the HTTPS port gets no answer either.
  httplib::Client plain("127.0.0.1", *port);
  plain.set_connection_timeout(std::chrono::seconds(2));
  plain.set_read_timeout(std::chrono::seconds(2));
  auto plain_res = plain.Get("/healthz");
  EXPECT_FALSE(plain_res && plain_res->status == 200);

  httplib::Client client(url);
  client.set_ca_cert_path((dir / "cert.pem").c_str());
  client.enable_server_certificate_verification(true);
  auto res = testing::post_signed(client, wire::kFramesPath, "td-01", "1", kTime, jpeg,
                                  wire::kJpegContentType);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 201) << res->body;
  EXPECT_DOUBLE_EQ(body_of(res)["interval_s"].get<double>(), kSampleInterval);
  EXPECT_EQ((*service)->store().observation_count("td-01").value_or(-1), 1);

  // The signature is checked over HTTPS too.
  auto forged = testing::post_signed(client, wire::kFramesPath, "td-01", "2", kTime, jpeg,
                                     wire::kJpegContentType, "", testing::site_secret("td-02"));
  ASSERT_TRUE(forged) << httplib::to_string(forged.error());
  EXPECT_EQ(forged->status, 401) << forged->body;
  EXPECT_EQ(body_of(forged)["code"], "bad_signature");
  EXPECT_EQ((*service)->store().observation_count("td-01").value_or(-1), 1);

  // Over HTTPS the session cookie is marked Secure: a browser never sends it in the clear.
  testing::add_user((*service)->store(), "an", Role::kAuditor);
  auto login = client.Post("/api/v1/login",
                           json{{"user", "an"}, {"password", testing::kTestPassword}}.dump(),
                           "application/json");
  ASSERT_TRUE(login) << httplib::to_string(login.error());
  ASSERT_EQ(login->status, 200) << login->body;
  EXPECT_THAT(login->get_header_value("Set-Cookie"),
              ::testing::MatchesRegex("att_session=[0-9a-f]{64}; Path=/; HttpOnly; "
                                      "SameSite=Strict; Secure"));
}

TEST(IngestHttps, AMissingCertificateStopsTheStartNamingIt) {
  testing::TempDir dir;
  ServerConfig config = config_for(dir.path());
  config.tls_cert = dir / "missing-cert.pem";
  config.tls_key = dir / "missing-key.pem";
  auto service = Service::create(std::move(config));
  ASSERT_TRUE(service) << service.error().message;
  auto port = (*service)->start();
  ASSERT_FALSE(port) << "listening on " << *port << " without a certificate";
  EXPECT_THAT(port.error().message,
              HasSubstr("cannot use the TLS certificate " + (dir / "missing-cert.pem").string()));
}

// Starts a service on `cert` and `key`; the error message of a refused start, or "started".
std::string start_with_tls(const fs::path& dir, const fs::path& cert, const fs::path& key) {
  ServerConfig config = config_for(dir);
  config.tls_cert = cert;
  config.tls_key = key;
  auto service = Service::create(std::move(config));
  if (!service) return "create failed: " + service.error().message;
  auto port = (*service)->start();
  if (!port) return port.error().message;
  // It listens: show what a client that trusts the certificate gets.
  httplib::Client client("https://127.0.0.1:" + std::to_string(*port));
  client.set_ca_cert_path(cert.c_str());
  client.enable_server_certificate_verification(true);
  auto res = client.Get("/healthz");
  return "started; a client trusting the certificate gets " +
         (res ? "HTTP " + std::to_string(res->status) : httplib::to_string(res.error()));
}

TEST(IngestHttps, AnRsaKeyOfAnotherPairStopsTheStart) {
  if (!have_openssl()) GTEST_SKIP() << "skipped: needs the openssl command on PATH (absent)";
  testing::TempDir dir;
  fs::create_directories(dir / "other");
  ASSERT_TRUE(make_certificate(dir.path())) << "openssl req failed";
  ASSERT_TRUE(make_certificate(dir / "other")) << "openssl req failed";
  const fs::path cert = dir / "cert.pem", key = dir / "other" / "key.pem";
  const std::string refused = start_with_tls(dir.path(), cert, key);
  EXPECT_TRUE(refused.starts_with("cannot use the TLS certificate " + cert.string() + " and key " +
                                  key.string() + " (unreadable, not PEM, or not a pair): "))
      << refused;
}

TEST(IngestHttps, AnEcKeyBesideAnRsaCertificateStopsTheStart) {
  if (!have_openssl()) GTEST_SKIP() << "skipped: needs the openssl command on PATH (absent)";
  testing::TempDir dir;
  ASSERT_TRUE(make_certificate(dir.path())) << "openssl req failed";
  const fs::path cert = dir / "cert.pem", key = dir / "ec-key.pem";
  ASSERT_EQ(std::system(("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '" +
                         key.string() + "' >/dev/null 2>&1")
                            .c_str()),
            0);
  const std::string refused = start_with_tls(dir.path(), cert, key);
  EXPECT_TRUE(refused.starts_with("cannot use the TLS certificate " + cert.string() + " and key " +
                                  key.string() + " (unreadable, not PEM, or not a pair): "))
      << refused;
}

TEST(IngestHttps, ACertificateThatIsNotPemStopsTheStart) {
  testing::TempDir dir;
  testing::write_file(dir / "cert.pem", "not a certificate\n");
  testing::write_file(dir / "key.pem", "not a key\n");
  ServerConfig config = config_for(dir.path());
  config.tls_cert = dir / "cert.pem";
  config.tls_key = dir / "key.pem";
  auto service = Service::create(std::move(config));
  ASSERT_TRUE(service) << service.error().message;
  auto port = (*service)->start();
  ASSERT_FALSE(port);
  EXPECT_THAT(port.error().message,
              HasSubstr("cannot use the TLS certificate " + (dir / "cert.pem").string()));
}

// ----------------------------------------------------------------------------------------
// `attendance-server sites`: import checked whole, export that imports back the same

TEST(SitesCommand, ExportThenImportRoundTripsWithVietnameseIntact) {
  KeysConfigDir c;
  auto exported = c.run({"sites", "--export", (c.dir / "out.csv").string()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const std::string csv = testing::read_file(c.dir / "out.csv");
  EXPECT_TRUE(
      csv.starts_with("\xEF\xBB\xBFid,name,district,school_level,address,"
                      "expected_attendees,camera\r\n"));
  EXPECT_NE(csv.find("Trường Mầm non Bum Nưa"), std::string::npos);
  auto imported = c.run({"sites", "--import", (c.dir / "out.csv").string()});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_EQ(imported.out, "3 sites imported into " + (c.dir / "sites.csv").string() +
                              "; restart attendance-server to use them\n");
  auto again = c.run({"sites", "--export", "-"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, csv);  // what was imported exports the same, byte for byte
}

TEST(SitesCommand, ABadFileIsReportedByLineAndChangesNothing) {
  KeysConfigDir c;
  const std::string before = testing::read_file(c.dir / "sites.csv");
  testing::write_file(c.dir / "new.csv",
                      "id,name,district,school_level,address,expected_attendees,camera\n"
                      "td-01,Trường A,Tam Đường,primary,Xã A,60,IP\n"
                      "td-01,Trường B,Tam Đường,primary,Xã B,40,IP\n"
                      "td-03,Trường C,Tam Đường,college,Xã C,bốn mươi,IP\n");
  auto run = c.run({"sites", "--import", (c.dir / "new.csv").string()});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("line 3: id: 'td-01' already used on line 2"));
  EXPECT_THAT(run.err, HasSubstr("line 4: school_level: 'college' is not one of"));
  EXPECT_THAT(run.err, HasSubstr("line 4: expected_attendees: 'bốn mươi' is not a whole number"));
  EXPECT_THAT(run.err, HasSubstr("nothing was imported"));
  EXPECT_EQ(testing::read_file(c.dir / "sites.csv"), before);

  // Saved as UTF-16 by a spreadsheet: refused with the fix, not imported as mojibake.
  std::string utf16 = "\xFF\xFE";
  for (char ch : std::string("id,name\n")) utf16 += std::string{ch, '\0'};
  testing::write_file(c.dir / "utf16.csv", utf16);
  run = c.run({"sites", "--import", (c.dir / "utf16.csv").string()});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("not valid UTF-8 (save the file as \"CSV UTF-8\""));
  EXPECT_EQ(testing::read_file(c.dir / "sites.csv"), before);
}

TEST(SitesCommand, AnImportThatDropsASiteWithAKeyIsRefused) {
  KeysConfigDir c;
  ASSERT_EQ(c.run({"keys"}).exit_code, 0);
  const std::string before = testing::read_file(c.dir / "sites.csv");
  testing::write_file(c.dir / "fewer.csv",
                      "id,name,district,school_level,address,expected_attendees,camera\n"
                      "td-01,Trường A,Tam Đường,primary,Xã A,60,IP\n");
  auto run = c.run({"sites", "--import", (c.dir / "fewer.csv").string()});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("leaves out sites that have keys"));
  EXPECT_EQ(testing::read_file(c.dir / "sites.csv"), before);
}

}  // namespace
}  // namespace att
