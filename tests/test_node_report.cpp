// The node report (protocol/node_report.h): what the node sends parses back to the same
// struct; every malformed member is refused with kInvalid and a message naming it; unknown
// members are ignored; a group is whole or absent. The same for the node's count and for the
// site's counting setup the service sends back, whose signature binds it to its site and
// version.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "protocol/node_count.h"
#include "protocol/node_report.h"
#include "protocol/site_setup.h"

namespace att {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

NodeReport full_report() {
  NodeReport r;
  r.state = NodeState::kNoFrames;
  r.camera = NodeCamera{.playing = true,
                        .last_frame_ms = 1783830000123,
                        .last_frame_age_s = 41.5,
                        .pipeline_starts = 3,
                        .last_error = "rtspsrc: connection refused",
                        .interval_s = 5};
  r.health = HealthScores{.brightness = 112.4,
                          .sharpness = 310.2,
                          .change = 4.1,
                          .uniform_share = 0.08,
                          .flags = {"blurred", "moved"},
                          .shift = 0.041,
                          .rotation = -2.5,
                          .matched = 17};
  r.spool = NodeSpool{.items = 12, .bytes = 734003, .max_bytes = 1 << 30, .dropped = 2};
  r.counters = NodeCounters{.frames = 812,
                            .spooled = 810,
                            .spool_failed = 1,
                            .queue_dropped = 1,
                            .stored = 798,
                            .duplicates = 4,
                            .rejected = 0};
  r.counting = NodeCounting{.model = "yunet",
                            .every_s = 1,
                            .max_cores = 1,
                            .rate_hz = 0.98,
                            .detector_ms = 74.25,
                            .cpu_share = 0.09,
                            .looks = 4012,
                            .skipped = 3,
                            .setup_version = 2};
  r.clock_offset_s = -3.25;
  r.version = "1.4.0";
  r.uptime_s = 4060;
  return r;
}

// A full report's JSON with the member at `path` (keys from the top) set to `value`.
std::string with(const std::vector<std::string>& path, const json& value) {
  json j = json::parse(full_report().to_json());
  json* at = &j;
  for (size_t i = 0; i + 1 < path.size(); ++i) at = &(*at)[path[i]];
  (*at)[path.back()] = value;
  return j.dump();
}

std::string without(const std::string& group, const std::string& key) {
  json j = json::parse(full_report().to_json());
  j[group].erase(key);
  return j.dump();
}

// Refused with kInvalid and a message containing `part`.
void expect_invalid(const std::string& text, const std::string& part) {
  const auto r = parse_node_report(text);
  ASSERT_FALSE(r) << text;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid) << text;
  EXPECT_THAT(r.error().message, HasSubstr(part)) << text;
}

TEST(NodeReport, WhatTheNodeSendsParsesBackTheSame) {
  const NodeReport sent = full_report();
  const std::string text = sent.to_json();
  const auto back = parse_node_report(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, sent);
  EXPECT_EQ(back->to_json(), text);
}

TEST(NodeReport, TheWireKeepsTheFieldNamesTheDashboardReads) {
  const json j = json::parse(full_report().to_json());
  EXPECT_EQ(j["state"], "no_frames");
  EXPECT_EQ(j["camera"]["playing"], true);
  EXPECT_EQ(j["camera"]["last_error"], "rtspsrc: connection refused");
  EXPECT_EQ(j["camera"]["interval_s"], 5.0);
  EXPECT_EQ(j["camera"]["last_frame_ms"], 1783830000123);
  EXPECT_EQ(j["camera"]["last_frame_age_s"], 41.5);
  EXPECT_EQ(j["camera"]["pipeline_starts"], 3);
  EXPECT_EQ(j["health"]["flags"], json::array({"blurred", "moved"}));
  EXPECT_EQ(j["health"]["matched"], 17);
  EXPECT_EQ(j["spool"],
            (json{{"items", 12}, {"bytes", 734003}, {"max_bytes", 1 << 30}, {"dropped", 2}}));
  EXPECT_EQ(j["counters"]["queue_dropped"], 1);
  EXPECT_EQ(j["counters"]["spool_failed"], 1);
  EXPECT_EQ(j["clock_offset_s"], -3.25);
  EXPECT_EQ(j["version"], "1.4.0");
  EXPECT_EQ(j["uptime_s"], 4060);
}

TEST(NodeReport, EveryStateRoundTrips) {
  for (const NodeState s :
       {NodeState::kOk, NodeState::kNoFrames, NodeState::kStopping, NodeState::kFinished}) {
    const NodeReport r{.state = s};
    const auto back = parse_node_report(r.to_json());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->state, s) << to_string(s);
  }
  EXPECT_EQ(to_string(NodeState::kNoFrames), "no_frames");
}

TEST(NodeReport, EveryTopLevelMemberIsOptionalAndNullMeansNotSet) {
  const std::string all_null =
      R"({"state":null,"camera":null,"health":null,"spool":null,"counters":null,"counting":null,)"
      R"("clock_offset_s":null,"version":null,"uptime_s":null})";
  const auto empty = parse_node_report("{}");
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_EQ(*empty, NodeReport{});
  // Written with every key, so that a reader always finds it.
  EXPECT_EQ(json::parse(empty->to_json()), json::parse(all_null));

  const auto nulls = parse_node_report(all_null);
  ASSERT_TRUE(nulls) << nulls.error().message;
  EXPECT_EQ(*nulls, NodeReport{});

  const NodeReport only_state{.state = NodeState::kOk};
  const json j = json::parse(only_state.to_json());
  EXPECT_EQ(j["state"], "ok");
  EXPECT_TRUE(j["health"].is_null());
  EXPECT_TRUE(j["spool"].is_null());
}

TEST(NodeReport, HealthWithoutAReferenceHasNoComparison) {
  NodeReport r;
  r.health = HealthScores{.brightness = 20, .change = -1, .flags = {"dark"}};
  const json j = json::parse(r.to_json());
  EXPECT_FALSE(j["health"].contains("matched"));
  EXPECT_FALSE(j["health"].contains("shift"));
  EXPECT_FALSE(j["health"].contains("rotation"));
  const auto back = parse_node_report(r.to_json());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->health->matched, -1);
  EXPECT_EQ(*back, r);
}

TEST(NodeReport, UnknownMembersAreIgnoredAtEveryLevel) {
  json j = json::parse(full_report().to_json());
  j["battery"] = {{"percent", 80}};
  j["camera"]["codec"] = "h264";
  j["health"]["glare"] = 0.3;
  j["spool"]["oldest_ms"] = 1783830000000;
  j["counters"]["retries"] = 9;
  j["counting"]["gpu"] = false;
  const auto r = parse_node_report(j.dump());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, full_report());
  EXPECT_EQ(r->to_json(), full_report().to_json()) << "what is served has the known fields only";
}

TEST(NodeReport, AFlagOfANewerNodeIsKept) {
  const auto r = parse_node_report(with({"health", "flags"}, json::array({"glare"})));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->health->flags, std::vector<std::string>{"glare"});
}

TEST(NodeReport, ADocumentThatIsNotAnObjectIsRefused) {
  expect_invalid("", "not JSON");
  expect_invalid("not json", "not JSON");
  expect_invalid(R"({"state":)", "not JSON");
  expect_invalid("[1,2]", "must be a JSON object");
  expect_invalid("7", "must be a JSON object");
  expect_invalid("null", "must be a JSON object");
}

TEST(NodeReport, NestingIsBoundedEvenInUnknownMembers) {
  const auto deep = [](int n) {
    return R"({"a":)" + std::string(static_cast<size_t>(n), '[') +
           std::string(static_cast<size_t>(n), ']') + "}";
  };
  EXPECT_TRUE(parse_node_report(deep(kMaxNodeReportDepth - 1)));
  expect_invalid(deep(kMaxNodeReportDepth), "nested more than 32 deep");
  expect_invalid(deep(32000), "nested more than 32 deep");
}

TEST(NodeReport, TopLevelMembersOfTheWrongTypeAreRefused) {
  expect_invalid(with({"state"}, "sleeping"), "state must be one of");
  expect_invalid(with({"state"}, 1), "state must be one of");
  expect_invalid(with({"camera"}, "ok"), "camera must be an object");
  expect_invalid(with({"health"}, json::array()), "health must be an object");
  expect_invalid(with({"spool"}, 3), "spool must be an object");
  expect_invalid(with({"counters"}, true), "counters must be an object");
  expect_invalid(with({"counting"}, "edge"), "counting must be an object");
  expect_invalid(with({"clock_offset_s"}, "2"), "clock_offset_s must be a number");
  expect_invalid(with({"version"}, 140), "version must be a string");
  expect_invalid(with({"uptime_s"}, 1.5), "uptime_s must be a whole number");
  expect_invalid(with({"uptime_s"}, -1), "uptime_s must be a whole number >= 0");
}

TEST(NodeReport, CameraMembersAreChecked) {
  expect_invalid(with({"camera", "playing"}, "yes"), "camera.playing must be true or false");
  expect_invalid(with({"camera", "last_frame_ms"}, -5), "camera.last_frame_ms");
  expect_invalid(with({"camera", "last_frame_age_s"}, "old"), "camera.last_frame_age_s");
  expect_invalid(with({"camera", "pipeline_starts"}, 1.5), "camera.pipeline_starts");
  expect_invalid(with({"camera", "last_error"}, nullptr), "camera.last_error must be a string");
  expect_invalid(with({"camera", "interval_s"}, -1), "camera.interval_s must be a number >= 0");
  for (const char* key : {"playing", "last_frame_ms", "last_frame_age_s", "pipeline_starts",
                          "last_error", "interval_s"}) {
    expect_invalid(without("camera", key), std::string("camera.") + key + " is missing");
  }
}

TEST(NodeReport, HealthMembersAreChecked) {
  expect_invalid(with({"health", "brightness"}, 300), "health.brightness must be a number from 0");
  expect_invalid(with({"health", "sharpness"}, -1), "health.sharpness");
  expect_invalid(with({"health", "change"}, -2), "health.change");
  expect_invalid(with({"health", "uniform_share"}, 1.5), "health.uniform_share");
  expect_invalid(with({"health", "flags"}, "dark"), "health.flags must be an array of strings");
  expect_invalid(with({"health", "flags"}, json::array({"dark", 3})), "health.flags");
  expect_invalid(with({"health", "shift"}, -0.1), "health.shift");
  expect_invalid(with({"health", "rotation"}, 200), "health.rotation");
  expect_invalid(with({"health", "matched"}, -1), "health.matched");
  expect_invalid(with({"health", "matched"}, 1LL << 40), "health.matched");
  for (const char* key : {"brightness", "sharpness", "change", "uniform_share", "flags"}) {
    expect_invalid(without("health", key), std::string("health.") + key + " is missing");
  }
  // The comparison with the reference comes whole.
  expect_invalid(without("health", "shift"), "health.shift is missing");
  expect_invalid(without("health", "matched"), "health.matched is missing");
}

TEST(NodeReport, SpoolMembersAreChecked) {
  for (const char* key : {"items", "bytes", "max_bytes", "dropped"}) {
    expect_invalid(with({"spool", key}, -1), std::string("spool.") + key + " must be a whole");
    expect_invalid(with({"spool", key}, "3"), std::string("spool.") + key + " must be a whole");
    expect_invalid(without("spool", key), std::string("spool.") + key + " is missing");
  }
  // Beyond a signed 64-bit number.
  expect_invalid(with({"spool", "bytes"}, 18446744073709551615ULL), "spool.bytes");
}

TEST(NodeReport, CounterMembersAreChecked) {
  for (const char* key :
       {"frames", "spooled", "spool_failed", "queue_dropped", "stored", "duplicates", "rejected"}) {
    expect_invalid(with({"counters", key}, -3), std::string("counters.") + key + " must be");
    expect_invalid(with({"counters", key}, 2.5), std::string("counters.") + key + " must be");
    expect_invalid(without("counters", key), std::string("counters.") + key + " is missing");
  }
}

TEST(NodeReport, CountingMembersAreChecked) {
  expect_invalid(with({"counting", "model"}, 7), "counting.model must be a string");
  expect_invalid(with({"counting", "rate_hz"}, -1), "counting.rate_hz must be a number >= 0");
  expect_invalid(with({"counting", "looks"}, 1.5), "counting.looks must be a whole number");
  json j = json::parse(full_report().to_json());
  j["counting"].erase("setup_version");
  expect_invalid(j.dump(), "counting.setup_version is missing");
}

TEST(NodeReport, TheMessageSaysWhatWasSent) {
  const auto r = parse_node_report(with({"spool", "items"}, "many"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "node report: spool.items must be a whole number >= 0 (got \"many\")");
}

}  // namespace
}  // namespace att

// ----------------------------------------------------------------------------------------
// The node's count (protocol/node_count.h): a count report's body and an evidence picture's
// X-Count.

namespace att {
namespace {

NodeCount full_count() {
  NodeCount c;
  c.count = 21;
  c.frame_count = 2;
  c.boxes = {Box{412.5f, 96.5f, 22, 24, 0.914f}, Box{0, 0, 10.5f, 12, 0.5f}};
  c.width = 1280;
  c.height = 720;
  c.model = "yunet";
  c.model_sha256 = {std::string(64, 'a')};
  c.detector_ms = 74.2;
  c.frames_counted = 5;
  c.frames_skipped = 1;
  c.rate_hz = 1;
  c.setup_version = 3;
  c.health = HealthScores{.brightness = 112.4, .sharpness = 310.2, .change = 4.1, .flags = {}};
  return c;
}

std::string count_with(const std::string& key, const json& value) {
  json j = json::parse(full_count().to_json());
  if (value.is_discarded()) {
    j.erase(key);
  } else {
    j[key] = value;
  }
  return j.dump();
}

void expect_bad_count(const std::string& text, const std::string& says) {
  const auto c = parse_node_count(text);
  ASSERT_FALSE(c) << text;
  EXPECT_EQ(c.error().code, ErrorCode::kInvalid);
  EXPECT_THAT(c.error().message, HasSubstr("node count: "));
  EXPECT_THAT(c.error().message, HasSubstr(says)) << text;
}

TEST(NodeCount, WhatTheNodeSendsParsesBackTheSame) {
  const auto back = parse_node_count(full_count().to_json());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, full_count());
  NodeCount no_health = full_count();
  no_health.health.reset();
  EXPECT_TRUE(json::parse(no_health.to_json())["health"].is_null());
  EXPECT_EQ(parse_node_count(no_health.to_json()).value(), no_health);
}

TEST(NodeCount, BoxesGoAsATenthOfAPixelAndAThousandthOfAScore) {
  NodeCount c = full_count();
  c.boxes = {Box{412.4567f, 96.5333f, 22.04f, 24.96f, 0.91234f}};
  const json j = json::parse(c.to_json());
  EXPECT_EQ(j["boxes"][0].dump(), "[412.5,96.5,22.0,25.0,0.912]");
  // Two hundred boxes (the most a node sends) fit an 8 KiB header line.
  c.boxes.assign(200, Box{1234.5678f, 678.9012f, 33.3333f, 36.6666f, 0.98765f});
  EXPECT_LT(c.to_json().size(), 8000u);
}

TEST(NodeCount, MalformedCountsAreRefusedNamingTheMember) {
  expect_bad_count("", "not JSON");
  expect_bad_count("[]", "must be a JSON object");
  expect_bad_count(count_with("count", -1), "count must be a whole number from 0 to 100000");
  expect_bad_count(count_with("count", 2.5), "count must be a whole number");
  expect_bad_count(count_with("count", json(json::value_t::discarded)), "count is missing");
  expect_bad_count(count_with("width", 0), "width must be a whole number from 1 to 16384");
  expect_bad_count(count_with("model", ""), "model must not be empty");
  expect_bad_count(count_with("model", std::string(65, 'x')),
                   "model must be a string of at most 64");
  expect_bad_count(count_with("model_sha256", json::array()), "model_sha256 must name");
  expect_bad_count(count_with("model_sha256", json::array({"abc"})), "64 lowercase hex digits");
  expect_bad_count(count_with("model_sha256", json::array({std::string(64, 'A')})),
                   "64 lowercase hex digits");
  expect_bad_count(count_with("detector_ms", -3), "detector_ms must be a number from 0");
  expect_bad_count(count_with("rate_hz", "fast"), "rate_hz must be a number");
  expect_bad_count(count_with("frames_skipped", -1), "frames_skipped must be a whole number >= 0");
  expect_bad_count(count_with("health", 3), "health must be an object or null");
  expect_bad_count(count_with("health", json{{"brightness", 300}}), "health.brightness");
}

TEST(NodeCount, EveryBoxMustBeInsideTheFrame) {
  expect_bad_count(count_with("boxes", json::array({json::array({1, 2, 3})})), "boxes[0] must be");
  expect_bad_count(count_with("boxes", json::array({json::array({1, 2, 3, 4, 1.5})})),
                   "score from 0 to 1");
  expect_bad_count(count_with("boxes", json::array({json::array({1, 2, 3, 4, 0.5}),
                                                    json::array({1270, 2, 30, 4, 0.5})})),
                   "boxes[1] must be [x, y, w, h, score]: a box of positive size inside the "
                   "1280x720 frame");
  expect_bad_count(count_with("boxes", json::array({json::array({10, 20, 0, 4, 0.5})})),
                   "boxes[0]");
  expect_bad_count(count_with("boxes", json::array({"box"})), "boxes[0]");
  json many = json::array();
  for (int i = 0; i <= kMaxCountBoxes; ++i) many.push_back(json::array({1, 1, 1, 1, 0.5}));
  expect_bad_count(count_with("boxes", many), "boxes must be an array of at most 2000");
}

TEST(NodeCount, UnknownMembersAreIgnored) {
  json j = json::parse(full_count().to_json());
  j["gpu"] = "none";
  const auto c = parse_node_count(j.dump());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(*c, full_count());
}

// ----------------------------------------------------------------------------------------
// The site's counting setup.

SiteSetup a_setup() {
  SiteSetup s;
  s.count = {{"hall", {{0.0f, 0.2f}, {1.0f, 0.2f}, {1.0f, 1.0f}, {0.0f, 1.0f}}}};
  s.exclude = {{"stage", {{0.3f, 0.0f}, {0.7f, 0.0f}, {0.7f, 0.25f}, {0.3f, 0.25f}}},
               {"door", {{0.9f, 0.5f}, {1.0f, 0.5f}, {1.0f, 0.9f}}}};
  s.empty_reference = {Box{0.41f, 0.32f, 0.02f, 0.03f, 0.71f}};
  s.min_score = 0.6f;
  return s;
}

TEST(SiteSetup, WhatTheServiceSendsParsesBackTheSameAndTheSameSetupGivesTheSameBytes) {
  const SiteSetup s = a_setup();
  auto back = parse_site_setup(s.to_json());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, s);
  EXPECT_EQ(back->to_json(), s.to_json());
  EXPECT_EQ(SiteSetup{}.to_json(),
            R"({"count":[],"empty_reference":[],"exclude":[],"min_score":0.0})");
  auto unknown = parse_site_setup(R"({"count":[],"exclude":[],"empty_reference":[],
                                      "min_score":0,"lens":"wide"})");  // unknown: ignored
  ASSERT_TRUE(unknown) << unknown.error().message;
  EXPECT_EQ(*unknown, SiteSetup{});
}

TEST(SiteSetup, AConfirmedViewTravelsOnlyOnceThereIsOne) {
  SiteSetup s;
  EXPECT_EQ(s.to_json().find("view_confirmed_ms"), std::string::npos);  // bytes as before
  EXPECT_EQ(parse_site_setup(s.to_json()).value().view_confirmed_ms, 0);
  s.view_confirmed_ms = 1783829400000;
  auto back = parse_site_setup(s.to_json());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->view_confirmed_ms, 1783829400000);
  EXPECT_EQ(*back, s);
  auto bad = parse_site_setup(
      R"({"count":[],"exclude":[],"empty_reference":[],"min_score":0,"view_confirmed_ms":-5})");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("view_confirmed_ms"), std::string::npos)
      << bad.error().message;
}

TEST(SiteSetup, MalformedSetupsAreRefusedNamingTheMember) {
  // A whole setup with one member replaced.
  const auto refused = [](const std::string& text) {
    json j = json::parse(SiteSetup{}.to_json());
    if (const json changed = json::parse(text, nullptr, false); changed.is_object()) {
      j.merge_patch(changed);
    } else {
      j = text;
    }
    const std::string sent = j.is_string() ? j.get<std::string>() : j.dump();
    auto r = parse_site_setup(sent);
    EXPECT_FALSE(r) << sent;
    return r ? std::string() : r.error().message;
  };
  EXPECT_EQ(parse_site_setup("{}").error().message, "site setup: count is missing");
  EXPECT_THAT(refused("not json"), HasSubstr("not JSON"));
  EXPECT_THAT(refused("[1]"), HasSubstr("must be a JSON object"));
  EXPECT_THAT(refused(R"({"exclude":[{"name":"door","points":[[0,0],[1,0]]}]})"),
              HasSubstr("exclude[0].points must have at least 3 points (got 2)"));
  EXPECT_THAT(refused(R"({"count":[{"name":"hall","points":[[0,0],[1.5,0],[1,1]]}]})"),
              HasSubstr("count[0].points must be [x, y] pairs"));
  EXPECT_THAT(refused(R"({"count":[{"name":"","points":[[0,0],[1,0],[1,1]]}]})"),
              HasSubstr("count[0].name must not be empty"));
  EXPECT_THAT(refused(R"({"count":["hall"]})"), HasSubstr("count[0] must be an object"));
  EXPECT_THAT(refused(R"({"empty_reference":[[0.1,0.1,0.1]]})"),
              HasSubstr("empty_reference[0] must be [x, y, w, h, score]"));
  EXPECT_THAT(refused(R"({"min_score":2})"), HasSubstr("min_score"));
}

TEST(SiteSetup, TheSignatureBindsTheSetupToItsSiteAndVersion) {
  const std::string secret(64, 'a');
  const SignedSetup signed_setup = sign_setup(secret, "td-01", 3, a_setup().to_json());
  EXPECT_EQ(signed_setup.version, 3);
  EXPECT_EQ(signed_setup.signature.size(), 64u);
  EXPECT_TRUE(setup_signature_matches(secret, "td-01", signed_setup));
  EXPECT_FALSE(setup_signature_matches(secret, "td-02", signed_setup));  // another site
  EXPECT_FALSE(setup_signature_matches(std::string(64, 'b'), "td-01", signed_setup));  // key
  SignedSetup changed = signed_setup;
  changed.version = 2;  // an older version under this signature
  EXPECT_FALSE(setup_signature_matches(secret, "td-01", changed));
  changed = signed_setup;
  changed.body = SiteSetup{}.to_json();  // the zones taken away
  EXPECT_FALSE(setup_signature_matches(secret, "td-01", changed));
}

}  // namespace
}  // namespace att
