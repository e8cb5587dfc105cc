// A site's counting setup from the dashboard's API, through the real service over real HTTP:
// a technician sees the latest picture's detections and what the setup does to them, previews
// an excluded area and an empty-room reference, saves them, and the next frame is counted with
// them (no restart); the change is a new version, in the audit trail, sent to the node; roles
// that may not change a setup are refused; a saved setup stands over config/zones.yaml across
// restarts until the file's setup of that site is edited.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

#include "analysis/app/service.h"
#include "analysis/web/auth.h"
#include "common/time_util.h"
#include "counting/models.h"
#include "counting/occupancy.h"
#include "protocol/node_count.h"
#include "protocol/site_setup.h"
#include "protocol/upload_client.h"
#include "tests/support/fake_detector.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

using nlohmann::json;

// Around the first painted head only (centre 24, 34 of 320x180; the next is at 44, 34).
const json kPoster = {{"name", "poster"},
                      {"points", {{0.05, 0.15}, {0.1125, 0.15}, {0.1125, 0.25}, {0.05, 0.25}}}};

class SiteSetupOverHttp : public ::testing::Test {
 protected:
  void SetUp() override { start(); }

  void start() {
    ServiceHooks hooks;
    hooks.detector = testing::FakeDetector::painted_heads().choice();
    auto service = Service::create(config_, hooks);
    ASSERT_TRUE(service) << service.error().message;
    service_ = std::move(*service);
    auto port = service_->start();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
    auto client = UploadClient::create(
        {"http://127.0.0.1:" + std::to_string(port_), std::chrono::seconds(10), {}, {}});
    ASSERT_TRUE(client);
    client_ = std::move(*client);
  }
  void restart() {
    service_.reset();
    start();
  }

  // A frame of `people` painted heads from td-01's node; the people this frame alone counted.
  int frame(int people) {
    NodeUpload up;
    up.kind = NodeUpload::Kind::kFrame;
    up.site_id = "td-01";
    up.sequence = ++sequence_;
    up.capture_time_ms = now_ms() - 1000;
    up.body = testing::painted_frame(people);
    const UploadOutcome out = client_->send(up, testing::site_secret("td-01"));
    EXPECT_EQ(out.kind, UploadOutcome::kStored) << out.message;
    auto o = service_->store().find_observation("td-01", up.sequence);
    return o && *o ? (*o)->frame_count : -1;
  }

  httplib::Client as(Role role) {
    httplib::Client http("127.0.0.1", port_);
    testing::log_in_as(http, service_->store(), role);
    return http;
  }
  static json answer(const httplib::Result& res, int status) {
    EXPECT_TRUE(res);
    if (!res) return nullptr;
    EXPECT_EQ(res->status, status) << res->body;
    return json::parse(res->body, nullptr, false);
  }
  static json post(httplib::Client& http, const std::string& path, const json& body,
                   int status = 200) {
    return answer(http.Post(path, body.dump(), "application/json"), status);
  }
  // The verdicts on the picture's detections, left to right.
  static std::vector<std::string> verdicts(const json& detections) {
    std::vector<std::pair<double, std::string>> by_x;
    for (const json& d : detections) by_x.emplace_back(d["box"][0].get<double>(), d["verdict"]);
    std::ranges::sort(by_x);
    std::vector<std::string> out;
    for (const auto& [x, verdict] : by_x) out.push_back(verdict);
    return out;
  }

  testing::TempDir dir_;
  ServerConfig config_ = testing::test_server_config(dir_.path());
  std::unique_ptr<Service> service_;
  std::unique_ptr<UploadClient> client_;
  int port_ = 0;
  std::int64_t sequence_ = 0;
};

TEST_F(SiteSetupOverHttp, AnExcludedAreaOverAPosterDropsItsDetectionFromTheNextFrame) {
  ASSERT_EQ(frame(3), 3);
  httplib::Client tech = as(Role::kTechnician);
  json shown = answer(tech.Get("/api/v1/sites/td-01/setup"), 200);
  EXPECT_EQ(shown["version"], 0);  // never set up: everything counts
  EXPECT_EQ(shown["setup"]["exclude"], json::array());
  ASSERT_TRUE(shown["picture"].is_object()) << shown;
  EXPECT_EQ(shown["picture"]["width"], 320);
  EXPECT_EQ(verdicts(shown["detections"]),
            (std::vector<std::string>{"counted", "counted", "counted"}));
  // The picture as received, for the page to draw on.
  auto picture = tech.Get(shown["picture"]["url"].get<std::string>());
  ASSERT_TRUE(picture);
  EXPECT_EQ(picture->status, 200);
  EXPECT_EQ(picture->get_header_value("Content-Type"), "image/jpeg");

  // The preview says what the area would do, and changes nothing.
  json setup = shown["setup"];
  setup["exclude"].push_back(kPoster);
  const json request = {{"setup", setup}, {"sequence", shown["picture"]["sequence"]}};
  json preview = post(tech, "/api/v1/sites/td-01/setup/preview", request);
  EXPECT_EQ(verdicts(preview["detections"]),
            (std::vector<std::string>{"excluded", "counted", "counted"}));
  for (const json& d : preview["detections"]) {
    if (d["verdict"] == "excluded") {
      EXPECT_EQ(d["zone"], "poster");
    }
  }
  EXPECT_EQ(frame(3), 3);

  // Saved: version 1 by the technician, in force from the next frame, without a restart.
  json saved = post(tech, "/api/v1/sites/td-01/setup", {{"setup", setup}, {"based_on", 0}});
  EXPECT_EQ(saved["version"], 1);
  EXPECT_EQ(saved["made_by"], "technician");
  EXPECT_EQ(saved["changed"], true);
  EXPECT_EQ(frame(3), 2);
  shown = answer(tech.Get("/api/v1/sites/td-01/setup"), 200);
  EXPECT_EQ(shown["version"], 1);
  EXPECT_EQ(shown["history"][0]["made_by"], "technician");
  EXPECT_EQ(verdicts(shown["detections"]),
            (std::vector<std::string>{"excluded", "counted", "counted"}));
  // In the audit trail, with what it set.
  auto trail = service_->store().entries(Chain::kAudit, {"site_setup", "", "site/td-01"});
  ASSERT_TRUE(trail);
  ASSERT_EQ(trail->size(), 1u);
  EXPECT_TRUE(trail->front().actor.starts_with("technician@"));
  EXPECT_EQ(json::parse(trail->front().body)["setup"]["exclude"][0]["name"], "poster");
  // A node counting at the site with version 0 is sent version 1 with its next answer, signed.
  NodeCount c;
  c.count = c.frame_count = 0;
  c.width = 320;
  c.height = 180;
  c.model = "yunet";
  c.model_sha256 = {yunet_2022mar().sha256};
  c.frames_counted = 1;
  c.rate_hz = 1;
  NodeUpload up;
  up.kind = NodeUpload::Kind::kCount;
  up.site_id = "td-01";
  up.sequence = ++sequence_;
  up.capture_time_ms = now_ms() - 500;
  up.body = c.to_json();
  const UploadOutcome out = client_->send(up, testing::site_secret("td-01"));
  ASSERT_EQ(out.kind, UploadOutcome::kStored) << out.message;
  ASSERT_TRUE(out.setup);
  EXPECT_EQ(out.setup->version, 1);
  EXPECT_TRUE(setup_signature_matches(testing::site_secret("td-01"), "td-01", *out.setup));
  EXPECT_EQ(parse_site_setup(out.setup->body).value().exclude[0].name, "poster");

  // Drawn on an old version: refused, nothing changes.
  const json stale =
      post(tech, "/api/v1/sites/td-01/setup", {{"setup", setup}, {"based_on", 0}}, 409);
  EXPECT_EQ(stale["code"], "setup_changed");
  // The same setup again is no new version.
  saved = post(tech, "/api/v1/sites/td-01/setup", {{"setup", setup}, {"based_on", 1}});
  EXPECT_EQ(saved["version"], 1);
  EXPECT_EQ(saved["changed"], false);
}

TEST_F(SiteSetupOverHttp, TheEmptyRoomReferenceIsTakenFromThePictureWithAPreview) {
  ASSERT_EQ(frame(2), 2);  // the "empty room": two chair backs the detector takes for heads
  httplib::Client admin = as(Role::kAdmin);
  const json shown = answer(admin.Get("/api/v1/sites/td-01/setup"), 200);
  const json request = {{"setup", shown["setup"]},
                        {"sequence", shown["picture"]["sequence"]},
                        {"take_reference", true}};
  const json preview = post(admin, "/api/v1/sites/td-01/setup/preview", request);
  ASSERT_EQ(preview["empty_reference"].size(), 2u);      // in shares of the picture
  for (const json& spot : preview["empty_reference"]) {  // the heads at x 20 and 40 of 320
    const double x = spot[0].get<double>();
    EXPECT_TRUE(std::abs(x - 20.0 / 320) < 0.01 || std::abs(x - 40.0 / 320) < 0.01) << spot;
  }
  EXPECT_EQ(verdicts(preview["detections"]),
            (std::vector<std::string>{"empty_room", "empty_room"}));
  json save = request;
  save["based_on"] = 0;
  EXPECT_EQ(post(admin, "/api/v1/sites/td-01/setup", save)["version"], 1);
  // The chair backs no longer count; a third head, elsewhere, does.
  EXPECT_EQ(frame(3), 1);
  // Cleared again.
  json cleared = shown["setup"];
  cleared["empty_reference"] = json::array();
  EXPECT_EQ(
      post(admin, "/api/v1/sites/td-01/setup", {{"setup", cleared}, {"based_on", 1}})["version"],
      2);
  EXPECT_EQ(frame(3), 3);
}

TEST_F(SiteSetupOverHttp, RolesThatMayNotSetASiteUpAreRefusedAndBadSetupsChangeNothing) {
  ASSERT_EQ(frame(3), 3);
  json setup = json::parse(SiteSetup{}.to_json());
  setup["exclude"].push_back(kPoster);
  const json body = {{"setup", setup}, {"based_on", 0}};
  for (Role role : {Role::kOrganizer, Role::kAuditor}) {
    httplib::Client http = as(role);
    EXPECT_EQ(answer(http.Get("/api/v1/sites/td-01/setup"), 403)["code"], "forbidden");
    EXPECT_EQ(post(http, "/api/v1/sites/td-01/setup/preview", body, 403)["code"], "forbidden");
    EXPECT_EQ(post(http, "/api/v1/sites/td-01/setup", body, 403)["code"], "forbidden");
  }
  httplib::Client tech = as(Role::kTechnician);
  json bad = setup;
  bad["exclude"][0]["points"] = {{0.1, 0.1}, {0.2, 0.2}};
  EXPECT_EQ(post(tech, "/api/v1/sites/td-01/setup", {{"setup", bad}, {"based_on", 0}}, 400)["code"],
            "bad_setup");
  bad = setup;
  bad["exclude"][0]["points"][0] = {1.5, 0.1};
  EXPECT_EQ(post(tech, "/api/v1/sites/td-01/setup", {{"setup", bad}, {"based_on", 0}}, 400)["code"],
            "bad_setup");
  EXPECT_EQ(post(tech, "/api/v1/sites/td-01/setup", {{"based_on", 0}}, 400)["code"], "bad_request");
  EXPECT_EQ(answer(tech.Post("/api/v1/sites/td-01/setup", "{\"setup\":", "application/json"),
                   400)["code"],
            "bad_request");
  EXPECT_EQ(post(tech, "/api/v1/sites/td-01/setup",
                 {{"setup", setup}, {"based_on", 0}, {"confirm_view", "yes"}}, 400)["code"],
            "bad_request");
  EXPECT_EQ(post(tech, "/api/v1/sites/nowhere/setup", body, 404)["code"], "unknown_site");
  EXPECT_EQ(post(tech, "/api/v1/sites/td-01/setup/preview",
                 {{"setup", setup}, {"sequence", 999}, {"take_reference", true}}, 410)["code"],
            "no_picture");
  EXPECT_EQ(answer(tech.Get("/api/v1/sites/td-01/setup"), 200)["version"], 0);
  EXPECT_FALSE(service_->store().latest_setup("td-01").value());
  EXPECT_EQ(frame(3), 3);
}

TEST_F(SiteSetupOverHttp, ASavedSetupStandsOverTheFileUntilTheFilesSetupOfTheSiteChanges) {
  // The file's setup of td-01: a door.
  config_.zones["td-01"].exclude = {Zone{"door", {{0.9f, 0}, {1, 0}, {1, 0.2f}, {0.9f, 0.2f}}}};
  restart();
  httplib::Client tech = as(Role::kTechnician);
  json shown = answer(tech.Get("/api/v1/sites/td-01/setup"), 200);
  EXPECT_EQ(shown["version"], 1);
  EXPECT_EQ(shown["made_by"], "config");
  json setup = shown["setup"];
  setup["exclude"].push_back(kPoster);
  ASSERT_EQ(post(tech, "/api/v1/sites/td-01/setup", {{"setup", setup}, {"based_on", 1}})["version"],
            2);

  restart();  // the file as it was: the technician's setup stands, and is counted with
  httplib::Client after = as(Role::kTechnician);
  shown = answer(after.Get("/api/v1/sites/td-01/setup"), 200);
  EXPECT_EQ(shown["version"], 2);
  EXPECT_EQ(shown["made_by"], "technician");
  EXPECT_EQ(frame(3), 2);

  // The file's setup of td-01 edited: it is the new setup, after a restart.
  config_.zones["td-01"].exclude[0].name = "back door";
  restart();
  httplib::Client edited = as(Role::kTechnician);
  shown = answer(edited.Get("/api/v1/sites/td-01/setup"), 200);
  EXPECT_EQ(shown["version"], 3);
  EXPECT_EQ(shown["made_by"], "config");
  EXPECT_EQ(shown["setup"]["exclude"].size(), 1u);
  EXPECT_EQ(frame(3), 3);
}

}  // namespace
}  // namespace att
