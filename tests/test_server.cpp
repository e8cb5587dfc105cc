// The service over real HTTP on loopback: uploads that are accepted, retried, and refused,
// and the read API. Every refusal is checked to have changed nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>

#include "analysis/app/service.h"
#include "analysis/domain/site_state.h"
#include "analysis/store/sqlite_store.h"
#include "counting/jpeg.h"
#include "protocol/wire.h"
#include "tests/support/raw_http.h"
#include "tests/support/store_backends.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// On both store backends (tests/support/store_backends.h).
class ServerTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    ServerConfig config = testing::test_server_config(dir_.path());
    if (GetParam() == testing::Backend::kPostgres) {
      postgres_ = std::make_unique<testing::PostgresDatabase>();
      ASSERT_TRUE(postgres_->ok()) << postgres_->error();
      config.storage.backend = "postgres";
      config.storage.postgres = postgres_->conninfo();
    }
    start(std::move(config));
  }

  void start(ServerConfig config) {
    config.max_body_bytes = 512 * 1024;
    auto service = Service::create(std::move(config));
    ASSERT_TRUE(service) << service.error().message;
    service_ = std::move(*service);
    auto port = service_->start();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    testing::log_in_as(*client_, service_->store(), Role::kOrganizer);  // to read the API
  }

  httplib::Result post(const std::string& site, const std::string& seq, const std::string& body,
                       const std::string& type = "image/jpeg",
                       const std::string& time = "1783830000000") {
    return testing::post_signed(*client_, wire::kFramesPath, site, seq, time, body, type);
  }

  // Status, error code and message of a refused upload; asserts nothing was stored.
  void expect_refused(const httplib::Result& res, int status, const std::string& code,
                      const std::string& message_part) {
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, status) << res->body;
    const json body = json::parse(res->body);
    EXPECT_EQ(body.value("code", ""), code);
    EXPECT_THAT(body.value("error", ""), HasSubstr(message_part));
    expect_nothing_stored();
  }

  void expect_nothing_stored() {
    for (const auto& site : testing::small_province()) {
      EXPECT_EQ(service_->store().observation_count(site.id).value_or(-1), 0) << site.id;
    }
    EXPECT_FALSE(std::filesystem::exists(dir_ / "data" / "frames"));
  }

  void TearDown() override {
    client_.reset();
    service_.reset();  // before its database is dropped
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::PostgresDatabase> postgres_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<httplib::Client> client_;
  int port_ = 0;
  const std::string jpeg_ = testing::synthetic_jpeg(640, 360);
};

INSTANTIATE_TEST_SUITE_P(Backends, ServerTest, testing::all_backends(), testing::backend_name);

TEST_P(ServerTest, StoresAFrameAndServesItBackAnnotated) {
  auto res = post("td-01", "1", jpeg_);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  const json stored = json::parse(res->body);
  EXPECT_EQ(stored["status"], "stored");
  EXPECT_EQ(stored["sequence"], 1);

  auto obs = service_->store().find_observation("td-01", 1);
  ASSERT_TRUE(obs && *obs);
  EXPECT_EQ((*obs)->captured_at_ms, 1783830000000);
  EXPECT_EQ((*obs)->width, 640);
  EXPECT_EQ((*obs)->height, 360);
  EXPECT_EQ(testing::read_file(dir_ / "data" / (*obs)->frame_path), jpeg_);

  auto latest = client_->Get("/api/v1/sites/td-01/latest");
  ASSERT_TRUE(latest);
  ASSERT_EQ(latest->status, 200);
  const json l = json::parse(latest->body);
  EXPECT_EQ(l["count"], stored["count"]);
  EXPECT_EQ(l["captured_at_ms"], 1783830000000);
  EXPECT_EQ(l["captured_at"], "2026-07-12T04:20:00.000Z");
  EXPECT_EQ(l["frame_url"], "/api/v1/sites/td-01/latest.jpg");

  auto image = client_->Get("/api/v1/sites/td-01/latest.jpg");
  ASSERT_TRUE(image);
  ASSERT_EQ(image->status, 200);
  EXPECT_EQ(image->get_header_value("Content-Type"), "image/jpeg");
  auto size = probe_jpeg(
      std::span(reinterpret_cast<const unsigned char*>(image->body.data()), image->body.size()));
  ASSERT_TRUE(size);
  EXPECT_EQ(size->width, 640);
}

TEST_P(ServerTest, TheLedgerIsVerifiedThroughTheStoreWhicheverItIs) {
  httplib::Client auditor("127.0.0.1", port_);
  testing::log_in_as(auditor, service_->store(), Role::kAuditor);
  for (int i = 0; i < 2; ++i) {
    auto res = auditor.Get("/api/v1/ledger/verify");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    const json report = json::parse(res->body);
    EXPECT_EQ(report["intact"], true) << res->body;
    EXPECT_EQ(report["ledger_entries"], 0);
    EXPECT_EQ(report["audit_entries"], i + 1);  // each verify is in the audit trail, then checked
  }
}

TEST_P(ServerTest, ARetryAfterALostAckIsAcknowledgedAgainAndStoredOnce) {
  ASSERT_EQ(post("td-01", "7", jpeg_)->status, 201);
  auto again = post("td-01", "7", jpeg_);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(json::parse(again->body)["status"], "duplicate");
  EXPECT_EQ(service_->store().observation_count("td-01").value(), 1);
}

TEST_P(ServerTest, AReusedSequenceWithOtherBytesIsAConflictAndKeepsTheFirst) {
  ASSERT_EQ(post("td-01", "7", jpeg_)->status, 201);
  const std::string other = testing::synthetic_jpeg(320, 240);
  auto res = post("td-01", "7", other);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409);
  EXPECT_EQ(json::parse(res->body)["code"], "sequence_conflict");
  auto obs = service_->store().find_observation("td-01", 7);
  ASSERT_TRUE(obs && *obs);
  EXPECT_EQ((*obs)->width, 640);
  EXPECT_EQ(service_->store().observation_count("td-01").value(), 1);
}

TEST_P(ServerTest, ACorruptJpegIsRefusedAndChangesNothing) {
  expect_refused(post("td-01", "1", jpeg_.substr(0, jpeg_.size() / 2)), 422, "bad_jpeg",
                 "truncated JPEG (no EOI marker at the end)");
  std::string garbled = jpeg_;
  garbled[2] = 'x';  // the byte after SOI must be a marker
  expect_refused(post("td-01", "2", garbled), 422, "bad_jpeg", "not a JPEG");
}

TEST_P(ServerTest, AnEmptyBodyIsRefused) {
  expect_refused(post("td-01", "1", ""), 400, "empty_body", "empty body");
}

TEST_P(ServerTest, AnUnknownSiteIsRefused) {
  expect_refused(post("xx-99", "1", jpeg_), 401, "bad_signature",
                 "X-Signature does not match this request under the key of the site it names");
}

TEST_P(ServerTest, MissingOrMalformedHeadersAreRefused) {
  expect_refused(post("", "1", jpeg_), 400, "missing_site", "missing X-Site-Id");
  expect_refused(post("td-01", "", jpeg_), 400, "bad_sequence", "X-Sequence");
  expect_refused(post("td-01", "-3", jpeg_), 400, "bad_sequence", "X-Sequence");
  expect_refused(post("td-01", "1; DROP TABLE observations", jpeg_), 400, "bad_sequence",
                 "X-Sequence");
  expect_refused(post("td-01", "1", jpeg_, "image/jpeg", "yesterday"), 400, "bad_capture_time",
                 "X-Capture-Time");
  expect_refused(post("td-01", "1", jpeg_, "image/png"), 415, "unsupported_media_type",
                 "Content-Type must be image/jpeg");
}

TEST_P(ServerTest, AnOversizedBodyIsRefusedBeforeItIsRead) {
  std::string huge(600 * 1024, 'x');
  expect_refused(post("td-01", "1", huge), 413, "body_too_large", "exceeds");
}

TEST_P(ServerTest, SitesListsEveryConfiguredSiteWithItsLatestCount) {
  ASSERT_EQ(post("td-02", "1", jpeg_, "image/jpeg", "1783830000000")->status, 201);
  ASSERT_EQ(post("td-02", "2", testing::synthetic_jpeg(640, 360, 70), "image/jpeg", "1783830005000")
                ->status,
            201);
  auto res = client_->Get("/api/v1/sites");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const json body = json::parse(res->body);
  ASSERT_EQ(body["sites"].size(), 3u);
  std::map<std::string, json> by_id;
  for (const auto& s : body["sites"]) by_id[s["id"]] = s;
  EXPECT_TRUE(by_id["td-01"]["latest"].is_null());
  EXPECT_EQ(by_id["td-02"]["latest"]["sequence"], 2);
  EXPECT_EQ(by_id["td-02"]["latest"]["captured_at_ms"], 1783830005000);
  EXPECT_EQ(by_id["td-02"]["name"], "Trường Tiểu học Bình Lư");
  EXPECT_EQ(by_id["td-02"]["school_level"], "primary");
  EXPECT_EQ(by_id["mt-01"]["district"], "Mường Tè");
}

// Each site's state and the live totals are the service's (analysis/domain/site_state.h),
// judged at the service's time against the schedule and attendance.under_fraction.
// An idle kept-alive connection holds an HTTP thread: it waits listen.keep_alive_s for its
// next request, unless the request asked for the connection to be closed (as a node does when
// nothing else waits in its spool).
TEST(ServerKeepAlive, AConnectionWaitsForItsNextRequestUnlessItsRequestAskedToClose) {
  using namespace std::chrono_literals;
  testing::TempDir dir;
  ServerConfig config = testing::test_server_config(dir.path());
  config.keep_alive_s = 5;
  auto service = Service::create(std::move(config));
  ASSERT_TRUE(service) << service.error().message;
  auto port = (*service)->start();
  ASSERT_TRUE(port) << port.error().message;
  const auto request = [](const char* connection) {
    return std::string("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: ") + connection +
           "\r\n\r\n";
  };
  testing::RawConnection kept(*port);
  ASSERT_TRUE(kept.ok());
  ASSERT_TRUE(kept.send_all(request("keep-alive")));
  EXPECT_EQ(kept.receive().status, 200);
  EXPECT_FALSE(kept.readable_within(1500ms)) << "the connection was closed";
  ASSERT_TRUE(kept.send_all(request("keep-alive")));
  EXPECT_EQ(kept.receive().status, 200) << "the next request on the same connection";

  testing::RawConnection closed(*port);
  ASSERT_TRUE(closed.ok());
  ASSERT_TRUE(closed.send_all(request("close")));
  EXPECT_EQ(closed.receive().status, 200);
  ASSERT_TRUE(closed.readable_within(2s)) << "the connection was left open";
  EXPECT_EQ(closed.receive().status, 0) << "closed, without another answer";
}

TEST(ServerSiteState, StatesAndLiveTotalsFollowTheScheduleAndTheCurrentFrames) {
  testing::TempDir dir;
  ServerConfig config = testing::test_server_config(dir.path());
  config.schedule.days = {{"2026-07-12", {{"morning", 7 * 60, 11 * 60 + 30}}}};
  config.attendance.under_fraction = 0.5;
  std::atomic<std::int64_t> now{1783830010000};  // 2026-07-12 11:20:10 local: a period runs
  ServiceHooks hooks;
  hooks.clock = [&now] { return now.load(); };
  auto service = Service::create(std::move(config), std::move(hooks));
  ASSERT_TRUE(service) << service.error().message;
  auto port = (*service)->start();
  ASSERT_TRUE(port) << port.error().message;
  httplib::Client client("127.0.0.1", *port);
  testing::log_in_as(client, (*service)->store(), Role::kOrganizer);
  ASSERT_EQ(testing::post_signed(client, wire::kFramesPath, "td-02", "1", "1783830000000",
                                 testing::synthetic_jpeg(640, 360), wire::kJpegContentType)
                ->status,
            201);
  const auto sites = [&] {
    auto res = client.Get("/api/v1/sites");
    EXPECT_TRUE(res && res->status == 200);
    return res ? json::parse(res->body) : json();
  };
  json body = sites();
  std::map<std::string, json> by_id;
  for (const auto& s : body["sites"]) by_id[s["id"]] = s;
  const int counted = by_id["td-02"]["latest"]["count"];
  EXPECT_EQ(by_id["td-02"]["state"], counted >= 0.5 * 45 ? "ok" : "short");
  EXPECT_EQ(by_id["td-02"]["latest"]["current"], true);
  EXPECT_EQ(by_id["td-02"]["problems"], json::array({"ok"}));
  // td-01 has sent nothing in a period that began hours ago: the roll book's offline alert
  // is open, so offline rather than no data.
  EXPECT_EQ(by_id["td-01"]["state"], "offline");
  EXPECT_EQ(by_id["td-01"]["problems"], json::array({"never"}));
  const json& province = body["totals"]["province"];
  EXPECT_EQ(province["sites"], 3);
  EXPECT_EQ(province["sites_counted"], 1);
  EXPECT_EQ(province["expected"], 60 + 45 + 38);
  EXPECT_EQ(province["expected_counted"], 45);
  EXPECT_EQ(province["counted"], counted);
  ASSERT_EQ(body["totals"]["by_district"].size(), 2u);
  EXPECT_EQ(body["totals"]["by_district"][0]["group"], "Tam Đường");
  EXPECT_EQ(body["totals"]["by_district"][0]["sites_counted"], 1);
  // mt-01's dark picture: a camera fault, whose count is set aside from the totals.
  ASSERT_EQ(testing::post_signed(client, wire::kFramesPath, "mt-01", "1", "1783830005000",
                                 testing::synthetic_jpeg(640, 360), wire::kJpegContentType,
                                 R"({"brightness":12.5,"flags":["dark"]})")
                ->status,
            201);
  body = sites();
  for (const auto& s : body["sites"]) by_id[s["id"]] = s;
  EXPECT_EQ(by_id["mt-01"]["state"], "camera_fault");
  EXPECT_EQ(by_id["mt-01"]["problems"], json::array({"dark"}));
  EXPECT_EQ(body["totals"]["province"]["sites_counted"], 1);
  EXPECT_EQ(body["totals"]["province"]["counted"], counted);

  // A minute later the frame is no longer current: offline while the period runs...
  now = 1783830000000 + kFrameCurrentMs + 1000;
  body = sites();
  for (const auto& s : body["sites"]) by_id[s["id"]] = s;
  EXPECT_EQ(by_id["td-02"]["state"], "offline");
  EXPECT_EQ(by_id["td-02"]["latest"]["current"], false);
  EXPECT_EQ(body["totals"]["province"]["sites_counted"], 0);
  // ...and after it, no class.
  now = 1783830000000 + 3600 * 1000;
  body = sites();
  for (const auto& s : body["sites"]) by_id[s["id"]] = s;
  EXPECT_EQ(by_id["td-02"]["state"], "no_class");
  auto status = client.Get("/api/v1/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(json::parse(status->body)["site_state"],
            (json{{"under_fraction", 0.5}, {"frame_current_s", 60}, {"node_current_s", 75}}));
}

TEST_P(ServerTest, LatestOfAnUnknownOrSilentSiteIsA404) {
  auto unknown = client_->Get("/api/v1/sites/nope/latest");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(json::parse(unknown->body)["code"], "unknown_site");
  auto silent = client_->Get("/api/v1/sites/mt-01/latest.jpg");
  ASSERT_TRUE(silent);
  EXPECT_EQ(silent->status, 404);
  EXPECT_EQ(json::parse(silent->body)["code"], "no_observation");
  auto traversal = client_->Get("/api/v1/sites/..%2F..%2Fetc/latest");
  ASSERT_TRUE(traversal);
  EXPECT_EQ(traversal->status, 404);
}

TEST_P(ServerTest, StatusSaysWhichDetectorCountsAndServesTheDashboard) {
  auto res = client_->Get("/api/v1/status");
  ASSERT_TRUE(res);
  const json s = json::parse(res->body);
  EXPECT_EQ(s["timezone"], "Asia/Ho_Chi_Minh");
  EXPECT_EQ(s["sites"], 3);
  EXPECT_EQ(s["detector"]["name"], service_->detector().name);
  EXPECT_EQ(s["detector"]["degraded"], service_->detector().degraded);
  auto page = client_->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("<html"));
  auto health = client_->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_P(ServerTest, TheReportedCountIsTheWindowsAndTheFrameCountIsKeptBeside) {
  // A uniform picture: nobody in this frame, and nobody in the window either.
  const auto bytes = encode_jpeg(cv::Mat(360, 640, CV_8UC3, cv::Scalar(120, 120, 120)));
  auto res = post("td-01", "1", std::string(bytes.begin(), bytes.end()));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  auto obs = service_->store().find_observation("td-01", 1);
  ASSERT_TRUE(obs && *obs);
  EXPECT_EQ((*obs)->count, 0);
  EXPECT_EQ((*obs)->frame_count, 0);
  auto latest = client_->Get("/api/v1/sites/td-01/latest");
  ASSERT_TRUE(latest);
  EXPECT_EQ(json::parse(latest->body)["frame_count"], 0);
}

TEST(ServerRetention, AnExpiredPictureIsGoneWith410AndItsCountStays) {
  testing::TempDir dir;
  ServerConfig config = testing::test_server_config(dir.path());
  config.storage.frame_days = 1;  // the fixture's July 2026 frame is older than that
  config.storage.retention_check_s = 1;
  auto service = Service::create(config);
  ASSERT_TRUE(service) << service.error().message;
  auto port = (*service)->start();
  ASSERT_TRUE(port);
  httplib::Client client("127.0.0.1", *port);
  testing::log_in_as(client, (*service)->store(), Role::kTechnician);
  auto res = testing::post_signed(client, wire::kFramesPath, "td-01", "1", "1783830000000",
                                  testing::synthetic_jpeg(640, 360), "image/jpeg");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  const auto file = [&] { return (*service)->store().find_observation("td-01", 1).value(); };
  ASSERT_TRUE(file());
  const std::filesystem::path picture = config.data_dir / file()->frame_path;

  ASSERT_TRUE(
      testing::eventually([&] { return file()->frame_path.empty(); }, std::chrono::seconds(10)));
  EXPECT_TRUE(testing::eventually([&] { return !std::filesystem::exists(picture); },
                                  std::chrono::seconds(5)));
  auto jpeg = client.Get("/api/v1/sites/td-01/latest.jpg");
  ASSERT_TRUE(jpeg);
  EXPECT_EQ(jpeg->status, 410);
  EXPECT_EQ(json::parse(jpeg->body)["code"], "frame_expired");
  auto latest = client.Get("/api/v1/sites/td-01/latest");
  ASSERT_TRUE(latest);
  ASSERT_EQ(latest->status, 200);
  EXPECT_TRUE(json::parse(latest->body)["frame_url"].is_null());
  EXPECT_EQ(json::parse(latest->body)["sequence"], 1);
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body,
              HasSubstr("attendance_retention_frames_total{result=\"deleted\"} 1\n"));
  EXPECT_THAT(metrics->body, HasSubstr("attendance_store_writes_total{result=\"committed\"} "));
}

TEST(ServerRestart, TheOccupancyWindowIsRefilledFromTheDatabase) {
  // Three people seen in five frames before a restart; after it, a frame that shows nobody
  // (everyone looking down) still reports the three seats occupied.
  testing::TempDir dir;
  ServerConfig config = testing::test_server_config(dir.path());
  const std::int64_t t0 = 1'783'830'000'000;
  {
    std::filesystem::create_directories(config.data_dir);
    auto store = SqliteStore::open(config.data_dir / "attendance.db");
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->sync_sites(config.sites));
    for (int i = 0; i < 5; ++i) {
      Observation o;
      o.site_id = "td-01";
      o.sequence = i + 1;
      o.captured_at_ms = t0 + i * 5000;
      o.received_at_ms = o.captured_at_ms + 100;
      for (float x : {100.0f, 300.0f, 500.0f}) {  // a little movement, as real people make
        o.boxes.push_back(
            Box{x + static_cast<float>(i % 3), 200.0f + static_cast<float>(i % 2), 24, 24, 0.9f});
      }
      o.count = o.frame_count = 3;
      o.detector = "yunet";
      o.width = 640;
      o.height = 360;
      o.frame_path = "frames/td-01/" + std::to_string(i + 1) + ".jpg";
      o.frame_sha256 = "sha" + std::to_string(i);
      ASSERT_EQ((*store)->insert_observation(o), InsertOutcome::kInserted);
    }
  }
  auto service = Service::create(config);
  ASSERT_TRUE(service) << service.error().message;
  auto port = (*service)->start();
  ASSERT_TRUE(port);
  httplib::Client client("127.0.0.1", *port);
  const auto bytes = encode_jpeg(cv::Mat(360, 640, CV_8UC3, cv::Scalar(120, 120, 120)));
  auto res =
      testing::post_signed(client, wire::kFramesPath, "td-01", "6", std::to_string(t0 + 25000),
                           std::string(bytes.begin(), bytes.end()), "image/jpeg");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  EXPECT_EQ(json::parse(res->body)["count"], 3);
  auto stored = (*service)->store().find_observation("td-01", 6);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->count, 3);
  EXPECT_EQ((*stored)->frame_count, 0);
}

TEST(ServerStartup, AnUnreadableEmptyRoomReferenceStopsTheStart) {
  testing::TempDir dir;
  ServerConfig config = testing::test_server_config(dir.path());
  config.empty_references["td-01"] = dir / "missing-empty-room.jpg";
  auto service = Service::create(config);
  ASSERT_FALSE(service);
  EXPECT_EQ(service.error().message, "empty-room reference of td-01: cannot read " +
                                         (dir / "missing-empty-room.jpg").string());
}

TEST(ServerDegraded, WithoutTheModelItStillServesAndSaysCountsAreDegraded) {
  testing::TempDir dir;
  ServerConfig config = testing::test_server_config(dir.path());
  config.detector.model_dir = dir / "no-models";
  config.detector.search_default_dirs = false;
  auto service = Service::create(std::move(config));
  ASSERT_TRUE(service) << service.error().message;
  auto port = (*service)->start();
  ASSERT_TRUE(port);
  httplib::Client client("127.0.0.1", *port);
  testing::log_in_as(client, (*service)->store(), Role::kTechnician);
  auto res = client.Get("/api/v1/status");
  ASSERT_TRUE(res);
  const json s = json::parse(res->body);
  EXPECT_EQ(s["detector"]["name"], "haar");
  EXPECT_EQ(s["detector"]["degraded"], true);
  EXPECT_THAT(s["detector"]["message"].get<std::string>(), HasSubstr("COUNTS ARE DEGRADED"));
  auto up = testing::post_signed(client, wire::kFramesPath, "td-01", "1", "1783830000000",
                                 testing::synthetic_jpeg(640, 360), "image/jpeg");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->status, 201);
}

TEST(ServerStartup, ACorruptDatabaseStopsTheStartWithAClearMessage) {
  testing::TempDir dir;
  testing::write_file(dir / "data" / "attendance.db", std::string(4096, '\x42'));
  auto service = Service::create(testing::test_server_config(dir.path()));
  ASSERT_FALSE(service);
  EXPECT_THAT(service.error().message, HasSubstr("attendance.db is not a usable SQLite database"));
}

}  // namespace
}  // namespace att
