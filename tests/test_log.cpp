// The log line formats (common/log.h): text for people, json for journald and log shippers.
// Every json line must parse whatever the message holds (quotes, backslashes, newlines,
// control characters, Vietnamese text, broken UTF-8), and give the message back exactly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/log.h"

namespace {

using att::log::Format;
using ::testing::HasSubstr;
using namespace std::string_literals;

// Sends every component's lines to a string; gives stderr back at the end.
class LogTest : public ::testing::Test {
 protected:
  void use(Format format, const std::string& level = "info") {
    out_.str("");
    att::log::setup(level, format, std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
  }
  void TearDown() override { att::log::setup("info"); }

  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) result.push_back(line);
    return result;
  }

  // The one json line logged, parsed; fails the test when it is not exactly one object.
  nlohmann::json only_object() const {
    const auto all = lines();
    EXPECT_EQ(all.size(), 1u) << out_.str();
    if (all.size() != 1) return {};
    try {
      return nlohmann::json::parse(all[0]);
    } catch (const nlohmann::json::exception& e) {
      ADD_FAILURE() << e.what() << "\n" << all[0];
      return {};
    }
  }

  std::ostringstream out_;
};

const std::regex kTimestamp(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d)");

TEST(ParseFormat, TextAndJsonOnly) {
  EXPECT_EQ(att::log::parse_format("text"), Format::kText);
  EXPECT_EQ(att::log::parse_format("json"), Format::kJson);
  EXPECT_FALSE(att::log::parse_format("JSON"));
  EXPECT_FALSE(att::log::parse_format(""));
  EXPECT_FALSE(att::log::parse_format("logfmt"));
}

TEST_F(LogTest, JsonLineHasEveryField) {
  use(Format::kJson);
  att::log::get("ingest")->warn("site {}: {} frame(s) refused", "td-01", 3);
  auto j = only_object();
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 5u) << j.dump();
  ASSERT_TRUE(j["ts"].is_string());
  EXPECT_TRUE(std::regex_match(j["ts"].get<std::string>(), kTimestamp)) << j["ts"];
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["component"], "ingest");
  EXPECT_EQ(j["msg"], "site td-01: 3 frame(s) refused");
  EXPECT_TRUE(j["thread"].is_number_unsigned()) << j.dump();
}

TEST_F(LogTest, JsonLevelNamesAreTheConfigNames) {
  use(Format::kJson, "trace");
  auto log = att::log::get("store");
  log->trace("t");
  log->debug("d");
  log->info("i");
  log->warn("w");
  log->error("e");
  log->critical("c");
  std::vector<std::string> levels;
  for (const auto& line : lines())
    levels.push_back(nlohmann::json::parse(line)["level"].get<std::string>());
  EXPECT_THAT(levels,
              ::testing::ElementsAre("trace", "debug", "info", "warn", "error", "critical"));
}

TEST_F(LogTest, JsonEscapingRoundTripsExactly) {
  use(Format::kJson);
  const std::vector<std::string> messages = {
      R"(she said "hello" \ and C:\path\to\file)",
      "two\nlines\r\nand\ta tab",
      "control \x01\x1f\b\f and a NUL \0 inside"s,
      "Lai Châu: Trường THCS Bản Giang, Tam Đường — Mường Tè",
      "emoji 📷 and DEL \x7f",
      "{\"msg\":\"not a field\"}",
  };
  for (const auto& message : messages) {
    out_.str("");
    att::log::get("capture")->info("{}", message);
    const std::string raw = out_.str();
    ASSERT_FALSE(raw.empty());
    EXPECT_EQ(raw.find('\n'), raw.size() - 1) << "one line per message: " << raw;
    auto j = only_object();
    EXPECT_EQ(j["msg"], message);
    EXPECT_EQ(j["component"], "capture");
  }
}

TEST_F(LogTest, JsonKeepsUtf8AsIsAndEscapesControlCharacters) {
  use(Format::kJson);
  att::log::get("ingest")->info("Lai Châu \"x\"\n\x01");
  EXPECT_THAT(out_.str(), HasSubstr(R"("msg":"Lai Châu \"x\"\n\u0001")"));
}

TEST_F(LogTest, JsonReplacesBytesThatAreNotUtf8) {
  use(Format::kJson);
  // A lone Latin-1 byte, a truncated sequence at the end, an overlong '/', a surrogate.
  att::log::get("http")->info("caf\xe9 | \xc0\xaf | \xed\xa0\x80 | end \xe1\x80");
  auto j = only_object();
  EXPECT_EQ(j["msg"], "caf\uFFFD | \uFFFD\uFFFD | \uFFFD\uFFFD\uFFFD | end \uFFFD\uFFFD");
}

TEST_F(LogTest, JsonEveryLineParsesAcrossComponents) {
  use(Format::kJson, "debug");
  att::log::get("server")->info("starting");
  att::log::get("detector")->debug("model \"{}\" loaded", "yunet.onnx");
  att::log::get("upload")->error("frame 7 not delivered\n(timeout)");
  const auto all = lines();
  ASSERT_EQ(all.size(), 3u) << out_.str();
  for (const auto& line : all) {
    const auto j = nlohmann::json::parse(line);
    for (const char* key : {"ts", "level", "component", "msg", "thread"}) {
      EXPECT_TRUE(j.contains(key)) << key << " missing in " << line;
    }
  }
  EXPECT_EQ(nlohmann::json::parse(all[1])["msg"], "model \"yunet.onnx\" loaded");
  EXPECT_EQ(nlohmann::json::parse(all[2])["msg"], "frame 7 not delivered\n(timeout)");
}

TEST_F(LogTest, TextKeepsTheOldShape) {
  use(Format::kText);
  att::log::get("ingest")->info("site {}: ok", "td-01");
  att::log::get("ingest")->warn("Lai Châu");
  const auto all = lines();
  ASSERT_EQ(all.size(), 2u) << out_.str();
  EXPECT_TRUE(std::regex_match(all[0].substr(0, 29), kTimestamp)) << all[0];
  EXPECT_TRUE(std::regex_match(all[1].substr(0, 29), kTimestamp)) << all[1];
  EXPECT_EQ(all[0].substr(29), " info  [ingest] site td-01: ok") << all[0];
  EXPECT_EQ(all[1].substr(29), " warning [ingest] Lai Châu") << all[1];
}

TEST_F(LogTest, LevelIsAppliedInBothFormats) {
  for (const Format format : {Format::kText, Format::kJson}) {
    use(format, "warn");
    auto log = att::log::get("store");
    log->info("hidden");
    log->warn("shown");
    const auto all = lines();
    ASSERT_EQ(all.size(), 1u) << out_.str();
    EXPECT_THAT(all[0], HasSubstr("shown"));
  }
}

// A logger made before setup() (a component created early) follows the format chosen later.
TEST_F(LogTest, LoggersMadeBeforeSetupFollowIt) {
  use(Format::kText);
  auto early = att::log::get("early-component");
  use(Format::kJson);
  early->info("now json");
  EXPECT_EQ(only_object()["component"], "early-component");
}

}  // namespace
