// The node report (protocol/node_report.h): what the node sends parses back to the same
// struct; every malformed member is refused with kInvalid and a message naming it; unknown
// members are ignored; a group is whole or absent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "protocol/node_report.h"

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
      R"({"state":null,"camera":null,"health":null,"spool":null,"counters":null,)"
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

TEST(NodeReport, TheMessageSaysWhatWasSent) {
  const auto r = parse_node_report(with({"spool", "items"}, "many"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "node report: spool.items must be a whole number >= 0 (got \"many\")");
}

}  // namespace
}  // namespace att
