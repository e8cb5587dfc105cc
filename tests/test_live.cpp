// Live outputs: the LiveHub on its own (count and node events, ids, the resume window, the
// bounded queue of a slow client and its reset, client limits, MJPEG frames for watched
// sites, close), then the service over real HTTP on loopback with signed uploads: a
// Server-Sent Events client and an MJPEG client parsing what they receive, Last-Event-ID
// resume, 503 at the client limits, clients that go away, and a stop with streams open.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "analysis/app/server_config.h"
#include "analysis/app/service.h"
#include "analysis/web/live.h"
#include "counting/jpeg.h"
#include "protocol/node_report.h"
#include "protocol/wire.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

// A viewer of its own for each subscription, so that only the limits under test apply.
std::string a_viewer() {
  static std::atomic<int> n = 0;
  return "viewer-" + std::to_string(++n);
}

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr auto kWait = seconds(30);  // generous: detection on a busy 2-core machine
constexpr char kTime[] = "1783830000000";

std::chrono::steady_clock::time_point soon() {
  return std::chrono::steady_clock::now() + milliseconds(200);
}

Observation observation(const std::string& site, std::int64_t sequence, int count) {
  Observation o;
  o.site_id = site;
  o.sequence = sequence;
  o.captured_at_ms = 1783830000000 + sequence * 5000;
  o.received_at_ms = o.captured_at_ms + 120;
  o.count = count;
  o.frame_count = count + 1;
  return o;
}

Heartbeat heartbeat(const std::string& site, std::int64_t sequence) {
  return Heartbeat{site, sequence, 1783830000000 + sequence, 1783830000100 + sequence, "{}", 0};
}

cv::Size jpeg_size(const std::string& bytes) {
  auto size =
      probe_jpeg(std::span(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
  return size ? cv::Size(size->width, size->height) : cv::Size();
}

// ----------------------------------------------------------------------------------------
// The hub

TEST(LiveHub, ACountEventOnASitesFirstFrameAndWhenItsLatestCountChangesOnly) {
  LiveHub hub(LiveOptions{}, 100);
  auto sub = hub.subscribe_events(std::nullopt, a_viewer());
  ASSERT_TRUE(sub);
  hub.frame_stored(observation("td-01", 1, 12), "");
  hub.frame_stored(observation("td-01", 2, 12), "");  // same count: nothing
  hub.frame_stored(observation("td-02", 1, 12), "");  // another site's first
  hub.frame_stored(observation("td-01", 3, 14), "");
  hub.frame_stored(observation("td-01", 4, 14), "");
  hub.frame_stored(observation("td-01", 0, 20), "");  // captured before: not the latest
  const auto batch = (*sub)->next(soon());
  ASSERT_FALSE(batch.closed);
  ASSERT_EQ(batch.events.size(), 3u);
  EXPECT_EQ(batch.events[0].id, 101u);
  EXPECT_EQ(batch.events[1].id, 102u);
  EXPECT_EQ(batch.events[2].id, 103u);
  for (const auto& e : batch.events) EXPECT_EQ(e.type, "count");
  const json first = json::parse(batch.events[0].data);
  EXPECT_EQ(first, (json{{"site_id", "td-01"},
                         {"count", 12},
                         {"frame_count", 13},
                         {"sequence", 1},
                         {"captured_at_ms", 1783830005000},
                         {"received_at_ms", 1783830005120}}));
  EXPECT_EQ(json::parse(batch.events[1].data)["site_id"], "td-02");
  EXPECT_EQ(json::parse(batch.events[2].data)["count"], 14);
  EXPECT_EQ(json::parse(batch.events[2].data)["sequence"], 3);
  EXPECT_EQ(hub.stats().published.at("count"), 3);
  EXPECT_TRUE((*sub)->next(soon()).events.empty());
}

TEST(LiveHub, ANodeEventWhenTheReportedStateChanges) {
  LiveHub hub(LiveOptions{});
  auto sub = hub.subscribe_events(std::nullopt, a_viewer());
  ASSERT_TRUE(sub);
  const auto in = [](NodeState state) { return NodeReport{.state = state}; };
  hub.heartbeat_stored(heartbeat("td-01", 1), in(NodeState::kOk));
  hub.heartbeat_stored(heartbeat("td-01", 2), in(NodeState::kOk));
  hub.heartbeat_stored(heartbeat("td-01", 3), NodeReport{.camera = NodeCamera{}});  // no state
  hub.heartbeat_stored(heartbeat("td-01", 4), in(NodeState::kNoFrames));
  hub.heartbeat_stored(heartbeat("td-01", 0), in(NodeState::kFinished));  // an older one
  const auto batch = (*sub)->next(soon());
  ASSERT_EQ(batch.events.size(), 2u);
  EXPECT_EQ(batch.events[0].type, "node");
  EXPECT_EQ(json::parse(batch.events[0].data), (json{{"site_id", "td-01"},
                                                     {"state", "ok"},
                                                     {"previous_state", nullptr},
                                                     {"sequence", 1},
                                                     {"reported_at_ms", 1783830000001},
                                                     {"received_at_ms", 1783830000101}}));
  const json second = json::parse(batch.events[1].data);
  EXPECT_EQ(second["state"], "no_frames");
  EXPECT_EQ(second["previous_state"], "ok");
  EXPECT_EQ(second["sequence"], 4);
}

TEST(LiveHub, PublishCarriesAnyEventTypeInTheSameSequenceOfIds) {
  LiveHub hub(LiveOptions{});
  auto sub = hub.subscribe_events(std::nullopt, a_viewer());
  ASSERT_TRUE(sub);
  hub.frame_stored(observation("td-01", 1, 3), "");
  EXPECT_EQ(hub.publish("alert", json{{"site_id", "td-01"}, {"kind", "under_attendance"}}), 2u);
  const auto batch = (*sub)->next(soon());
  ASSERT_EQ(batch.events.size(), 2u);
  EXPECT_EQ(batch.events[1].type, "alert");
  EXPECT_EQ(batch.events[1].data, R"({"kind":"under_attendance","site_id":"td-01"})");
  EXPECT_EQ(to_sse(batch.events[1]),
            "id: 2\nevent: alert\ndata: {\"kind\":\"under_attendance\",\"site_id\":\"td-01\"}\n\n");
  EXPECT_EQ(hub.stats().published.at("alert"), 1);
}

TEST(LiveHub, ASlowSubscriberLosesTheOldestEventsCountedThenGetsAReset) {
  LiveOptions options;
  options.event_queue = 16;
  LiveHub hub(options);
  auto slow = hub.subscribe_events(std::nullopt, a_viewer());
  auto quick = hub.subscribe_events(std::nullopt, a_viewer());
  ASSERT_TRUE(slow && quick);
  for (int i = 1; i <= 20; ++i) {
    hub.publish("alert", json{{"n", i}});
    if (i <= 16) {
      EXPECT_EQ((*quick)->next(soon()).events.size(), 1u);  // keeps up
    }
  }
  EXPECT_EQ(hub.stats().events_dropped, 4);
  const auto batch = (*slow)->next(soon());
  ASSERT_EQ(batch.events.size(), 17u);
  EXPECT_EQ(batch.events[0].type, "reset");
  EXPECT_EQ(json::parse(batch.events[0].data), (json{{"reason", "too_slow"}, {"dropped", 4}}));
  EXPECT_EQ(batch.events[0].id, 4u) << "resuming after the reset gives what is still queued";
  for (int i = 1; i <= 16; ++i) {  // the newest 16, in order
    EXPECT_EQ(batch.events[i].id, static_cast<std::uint64_t>(i + 4));
    EXPECT_EQ(json::parse(batch.events[i].data)["n"], i + 4);
  }
  // Caught up: no second reset.
  hub.publish("alert", json{{"n", 21}});
  const auto after = (*slow)->next(soon());
  ASSERT_EQ(after.events.size(), 1u);
  EXPECT_EQ(after.events[0].id, 21u);
  EXPECT_EQ(hub.stats().resets.at("too_slow"), 1);
  // The quick one lost nothing.
  EXPECT_EQ((*quick)->next(soon()).events.size(), 5u);
  const std::string metrics = hub.render_metrics();
  EXPECT_THAT(metrics, HasSubstr("attendance_events_dropped_total 4\n"));
  EXPECT_THAT(metrics, HasSubstr("attendance_events_resets_total{reason=\"too_slow\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("attendance_events_published_total{type=\"alert\"} 21\n"));
  EXPECT_THAT(metrics, HasSubstr("attendance_live_clients{stream=\"events\"} 2\n"));
}

TEST(LiveHub, AResumeGetsExactlyTheMissedEventsOrAResetWhenTheyAreGone) {
  LiveOptions options;
  options.event_history = 16;
  options.event_queue = 16;
  LiveHub hub(options, 1000);
  for (int i = 1; i <= 10; ++i) hub.publish("alert", json{{"n", i}});  // ids 1001..1010
  {
    auto resumed = hub.subscribe_events("1007", a_viewer());
    ASSERT_TRUE(resumed);
    const auto batch = (*resumed)->next(soon());
    ASSERT_EQ(batch.events.size(), 3u);
    EXPECT_EQ(batch.events[0].id, 1008u);
    EXPECT_EQ(batch.events[2].id, 1010u);
  }
  {
    auto up_to_date = hub.subscribe_events("1010", a_viewer());
    ASSERT_TRUE(up_to_date);
    EXPECT_TRUE((*up_to_date)->next(soon()).events.empty());
  }
  for (int i = 11; i <= 30; ++i) hub.publish("alert", json{{"n", i}});  // 1001..1014 forgotten
  const auto reset_for = [&](const std::string& last) {
    auto sub = hub.subscribe_events(last, a_viewer());
    EXPECT_TRUE(sub);
    auto batch = (*sub)->next(soon());
    EXPECT_EQ(batch.events.size(), 1u) << last;
    return batch.events.empty() ? LiveEvent{} : batch.events[0];
  };
  const LiveEvent too_old = reset_for("1010");
  EXPECT_EQ(too_old.type, "reset");
  EXPECT_EQ(too_old.id, 1030u);  // reload, then carry on from here
  EXPECT_EQ(json::parse(too_old.data)["reason"], "too_old");
  EXPECT_EQ(json::parse(reset_for("999").data)["reason"], "too_old");      // before the first
  EXPECT_EQ(json::parse(reset_for("5000").data)["reason"], "unknown_id");  // not this run's
  EXPECT_EQ(json::parse(reset_for("abc").data)["reason"], "unknown_id");
  EXPECT_EQ(json::parse(reset_for("\xff\xfe").data)["reason"], "unknown_id");  // not UTF-8
  // Still in the window: exactly what was missed.
  auto resumed = hub.subscribe_events("1027", a_viewer());
  ASSERT_TRUE(resumed);
  const auto batch = (*resumed)->next(soon());
  ASSERT_EQ(batch.events.size(), 3u);
  EXPECT_EQ(batch.events[0].id, 1028u);
}

TEST(LiveHub, EventsMissedFromOtherProcessesResetEveryClientAndEveryResumeFromBefore) {
  LiveHub hub(LiveOptions{}, 1000);
  auto watching = hub.subscribe_events(std::nullopt, a_viewer());
  ASSERT_TRUE(watching);
  hub.publish("alert", json{{"n", 1}});  // 1001, not taken yet when the gap is found
  hub.publish_from_peer("count", R"({"site_id":"td-01","count":3})");  // 1002
  hub.missed_peer_events();                                            // 1003
  const auto batch = (*watching)->next(soon());
  ASSERT_EQ(batch.events.size(), 1u) << "the reset stands for what was queued before it";
  EXPECT_EQ(batch.events[0].type, "reset");
  EXPECT_EQ(batch.events[0].id, 1003u);
  EXPECT_EQ(json::parse(batch.events[0].data), (json{{"reason", "missed"}}));

  hub.publish("alert", json{{"n", 2}});                         // 1004
  EXPECT_EQ((*watching)->next(soon()).events.at(0).id, 1004u);  // then on as before
  // A resume from before the gap is told to reload; one from the reset on gets what followed.
  auto before = hub.subscribe_events("1002", a_viewer());
  ASSERT_TRUE(before);
  const auto told = (*before)->next(soon());
  ASSERT_EQ(told.events.size(), 1u);
  EXPECT_EQ(json::parse(told.events[0].data)["reason"], "too_old");
  auto after = hub.subscribe_events("1003", a_viewer());
  ASSERT_TRUE(after);
  const auto resumed = (*after)->next(soon());
  ASSERT_EQ(resumed.events.size(), 1u);
  EXPECT_EQ(resumed.events[0].id, 1004u);
  EXPECT_THAT(hub.render_metrics(),
              HasSubstr("attendance_events_resets_total{reason=\"missed\"} 1\n"));
}

TEST(LiveHub, ClientsBeyondTheLimitsAreRefusedAndCounted) {
  LiveOptions options;
  options.max_event_clients = 2;
  options.max_mjpeg_clients = 1;
  LiveHub hub(options);
  auto a = hub.subscribe_events(std::nullopt, a_viewer());
  auto b = hub.subscribe_events(std::nullopt, a_viewer());
  ASSERT_TRUE(a && b);
  auto c = hub.subscribe_events(std::nullopt, a_viewer());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, "too_many_clients");
  auto view = hub.watch_frames("td-01", a_viewer());
  ASSERT_TRUE(view);
  auto other = hub.watch_frames("td-02", a_viewer());
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, "too_many_clients");
  EXPECT_EQ(hub.stats().refused.at("events"), 1);
  EXPECT_EQ(hub.stats().refused.at("mjpeg"), 1);
  // A client leaving frees its place.
  a->reset();
  EXPECT_TRUE(hub.subscribe_events(std::nullopt, a_viewer()));
  view->reset();
  EXPECT_TRUE(hub.watch_frames("td-02", a_viewer()));
  EXPECT_EQ(hub.stats().event_clients, 1);
  EXPECT_EQ(hub.stats().mjpeg_clients, 0);
}

TEST(LiveHub, OneViewerHoldsAtMostItsShareOfTheStreams) {
  LiveOptions options;
  options.max_streams_per_viewer = 3;
  LiveHub hub(options);
  auto a = hub.subscribe_events(std::nullopt, "tech");
  auto b = hub.subscribe_events(std::nullopt, "tech");
  auto view = hub.watch_frames("td-01", "tech");
  ASSERT_TRUE(a && b && view);
  auto fourth = hub.subscribe_events(std::nullopt, "tech");
  ASSERT_FALSE(fourth);
  EXPECT_EQ(fourth.error().code, "too_many_streams");
  EXPECT_EQ(fourth.error().status, 429);
  EXPECT_FALSE(hub.watch_frames("td-02", "tech"));
  // Another viewer is not held up; a stream closed frees a place.
  EXPECT_TRUE(hub.subscribe_events(std::nullopt, "admin"));
  a->reset();
  EXPECT_TRUE(hub.watch_frames("td-02", "tech"));
  EXPECT_EQ(hub.stats().refused.at("per_viewer"), 2);
}

TEST(LiveHub, AWatchedSiteGetsItsFramesTheLatestReplacingOneNotTaken) {
  LiveHub hub(LiveOptions{});
  auto view = hub.watch_frames("td-01", a_viewer());
  ASSERT_TRUE(view);
  EXPECT_EQ((*view)->next(soon()).frame, nullptr);
  const std::string small = testing::synthetic_jpeg(320, 240);
  const std::string large = testing::synthetic_jpeg(640, 360);
  hub.frame_stored(observation("td-02", 1, 0), large);  // not watched
  hub.frame_stored(observation("td-01", 1, 2), small);
  hub.frame_stored(observation("td-01", 2, 3), large);  // before the first was taken
  const auto next = (*view)->next(soon());
  ASSERT_NE(next.frame, nullptr);
  EXPECT_EQ(next.frame->sequence, 2);
  EXPECT_EQ(next.frame->count, 3);
  EXPECT_EQ(*next.frame->jpeg, large);
  ASSERT_TRUE(next.frame->annotated()) << next.frame->annotated().error().message;
  EXPECT_EQ(jpeg_size(*next.frame->annotated()), cv::Size(640, 360));
  EXPECT_EQ(hub.stats().mjpeg_frames_skipped, 1);
  EXPECT_EQ((*view)->next(soon()).frame, nullptr);
}

TEST(LiveHub, CloseWakesEveryWaitingSubscriberAndRefusesNewOnes) {
  LiveHub hub(LiveOptions{});
  auto events = hub.subscribe_events(std::nullopt, a_viewer());
  auto view = hub.watch_frames("td-01", a_viewer());
  ASSERT_TRUE(events && view);
  std::atomic<int> woken = 0;
  const auto far = std::chrono::steady_clock::now() + std::chrono::hours(1);
  std::thread a([&] { woken += (*events)->next(far).closed ? 1 : 0; });
  std::thread b([&] { woken += (*view)->next(far).closed ? 1 : 0; });
  hub.close();
  a.join();
  b.join();
  EXPECT_EQ(woken, 2);
  auto late = hub.subscribe_events(std::nullopt, a_viewer());
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, "shutting_down");
}

// ----------------------------------------------------------------------------------------
// server.yaml "live:"

std::string province_yaml() {
  const auto config = std::filesystem::path(ATTENDANCE_SOURCE_DIR) / "config";
  return "province:\n  name: Lai Châu\n  sites: " + (config / "sites.csv").string() +
         "\n  schedule: " + (config / "schedule.yaml").string() + "\n";
}

TEST(LiveConfig, TheSampleHasTheDefaultsAndEveryKeyIsReadWithinItsBounds) {
  auto sample =
      load_server_config(std::filesystem::path(ATTENDANCE_SOURCE_DIR) / "config" / "server.yaml");
  ASSERT_TRUE(sample) << sample.error().message;
  EXPECT_EQ(sample->live.max_event_clients, 32);
  EXPECT_EQ(sample->live.max_mjpeg_clients, 8);
  EXPECT_EQ(sample->live.event_history, 1024);
  EXPECT_EQ(sample->live.event_queue, 256);
  EXPECT_DOUBLE_EQ(sample->live.keepalive_s, 15);
  EXPECT_DOUBLE_EQ(sample->live.mjpeg_max_s, 600);

  testing::TempDir dir;
  testing::write_file(dir / "good.yaml", province_yaml() +
                                             "live:\n  max_event_clients: 5\n"
                                             "  max_mjpeg_clients: 2\n  event_history: 64\n"
                                             "  event_queue: 32\n  keepalive_s: 5\n"
                                             "  mjpeg_max_s: 120\n");
  auto good = load_server_config(dir / "good.yaml");
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(good->live.max_event_clients, 5);
  EXPECT_EQ(good->live.max_mjpeg_clients, 2);
  EXPECT_EQ(good->live.event_history, 64);
  EXPECT_EQ(good->live.event_queue, 32);
  EXPECT_DOUBLE_EQ(good->live.keepalive_s, 5);
  EXPECT_DOUBLE_EQ(good->live.mjpeg_max_s, 120);

  testing::write_file(dir / "bad.yaml", province_yaml() +
                                            "live:\n  max_event_clients: 0\n"
                                            "  max_mjpeg_clients: 65\n  event_queue: 2\n"
                                            "  keepalive_s: 0.5\n  mjpeg_max: 60\n");
  auto bad = load_server_config(dir / "bad.yaml");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message,
              HasSubstr("live.max_event_clients: must be between 1 and 256 (got 0)"));
  EXPECT_THAT(bad.error().message,
              HasSubstr("live.max_mjpeg_clients: must be between 1 and 64 (got 65)"));
  EXPECT_THAT(bad.error().message, HasSubstr("live.event_queue: must be between 16 and 100000"));
  EXPECT_THAT(bad.error().message, HasSubstr("live.keepalive_s: must be between 1 and 300"));
  EXPECT_THAT(bad.error().message, HasSubstr("live.mjpeg_max: unknown setting"));
}

// ----------------------------------------------------------------------------------------
// Clients over HTTP

struct SseEvent {
  std::string id, type;
  json data;
};

// A Server-Sent Events client on a thread of its own, parsing events as they arrive.
class SseClient {
 public:
  // `headers`: the session's (testing::log_in_as).
  SseClient(int port, httplib::Headers headers, const std::string& last_event_id = "")
      : client_("127.0.0.1", port) {
    client_.set_read_timeout(300);
    if (!last_event_id.empty()) headers.emplace("Last-Event-ID", last_event_id);
    thread_ = std::thread([this, headers] {
      auto res = client_.Get(
          "/api/v1/events", headers,
          [this](const httplib::Response& r) {
            std::lock_guard lock(mu_);
            status_ = r.status;
            content_type_ = r.get_header_value("Content-Type");
            return true;
          },
          [this](const char* data, size_t n) {
            feed(std::string_view(data, n));
            return !stopping_.load();
          });
      std::lock_guard lock(mu_);
      ended_ = true;
    });
  }
  ~SseClient() { stop(); }

  // Goes away: the connection is shut down.
  void stop() {
    stopping_ = true;
    client_.stop();
    if (thread_.joinable()) thread_.join();
  }

  bool subscribed() const {
    std::lock_guard lock(mu_);
    return raw_.find(": subscribed\n") != std::string::npos;
  }
  bool ended() const {
    std::lock_guard lock(mu_);
    return ended_;
  }
  std::string raw() const {
    std::lock_guard lock(mu_);
    return raw_;
  }
  std::string content_type() const {
    std::lock_guard lock(mu_);
    return content_type_;
  }
  std::vector<SseEvent> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  // Waits for `n` events in all; returns them.
  std::vector<SseEvent> wait_for(size_t n) const {
    testing::eventually([&] { return events().size() >= n; }, kWait);
    return events();
  }

 private:
  void feed(std::string_view data) {
    std::lock_guard lock(mu_);
    raw_ += data;
    pending_ += data;
    for (size_t end; (end = pending_.find("\n\n")) != std::string::npos;) {
      const std::string block = pending_.substr(0, end + 1);
      pending_.erase(0, end + 2);
      SseEvent e;
      bool has_data = false;
      for (size_t pos = 0, nl; (nl = block.find('\n', pos)) != std::string::npos; pos = nl + 1) {
        const std::string line = block.substr(pos, nl - pos);
        if (line.starts_with("id: ")) e.id = line.substr(4);
        if (line.starts_with("event: ")) e.type = line.substr(7);
        if (line.starts_with("data: ")) {
          e.data = json::parse(line.substr(6), nullptr, /*allow_exceptions=*/false);
          has_data = true;
        }
      }
      if (has_data) events_.push_back(std::move(e));
    }
  }

  httplib::Client client_;
  std::thread thread_;
  std::atomic<bool> stopping_ = false;
  mutable std::mutex mu_;
  int status_ = 0;                // guarded by mu_
  std::string content_type_;      // guarded by mu_
  std::string raw_;               // guarded by mu_
  std::string pending_;           // guarded by mu_
  std::vector<SseEvent> events_;  // guarded by mu_
  bool ended_ = false;            // guarded by mu_
};

// An MJPEG client: splits multipart/x-mixed-replace into its parts as they arrive.
class MjpegClient {
 public:
  // `headers`: the session's (testing::log_in_as).
  MjpegClient(int port, const httplib::Headers& headers, const std::string& site)
      : client_("127.0.0.1", port) {
    client_.set_read_timeout(300);
    thread_ = std::thread([this, headers, site] {
      auto res = client_.Get(
          "/api/v1/sites/" + site + "/live.mjpeg", headers,
          [this](const httplib::Response& r) {
            std::lock_guard lock(mu_);
            status_ = r.status;
            content_type_ = r.get_header_value("Content-Type");
            const auto at = content_type_.find("boundary=");
            if (at != std::string::npos) boundary_ = "--" + content_type_.substr(at + 9);
            return true;
          },
          [this](const char* data, size_t n) {
            feed(std::string_view(data, n));
            return !stopping_.load();
          });
      std::lock_guard lock(mu_);
      ended_ = true;
    });
  }
  ~MjpegClient() { stop(); }
  void stop() {
    stopping_ = true;
    client_.stop();
    if (thread_.joinable()) thread_.join();
  }

  std::vector<std::string> parts() const {
    std::lock_guard lock(mu_);
    return parts_;
  }
  std::vector<std::string> wait_for(size_t n) const {
    testing::eventually([&] { return parts().size() >= n; }, kWait);
    return parts();
  }
  std::string content_type() const {
    std::lock_guard lock(mu_);
    return content_type_;
  }
  std::vector<std::string> part_types() const {
    std::lock_guard lock(mu_);
    return part_types_;
  }
  bool ended() const {
    std::lock_guard lock(mu_);
    return ended_;
  }

 private:
  void feed(std::string_view data) {
    std::lock_guard lock(mu_);
    buffer_ += data;
    for (;;) {
      const size_t start = buffer_.find(boundary_ + "\r\n");
      if (boundary_.empty() || start == std::string::npos) return;
      const size_t head_end = buffer_.find("\r\n\r\n", start);
      if (head_end == std::string::npos) return;
      const std::string head = buffer_.substr(start, head_end - start);
      const size_t length_at = head.find("Content-Length: ");
      const size_t type_at = head.find("Content-Type: ");
      if (length_at == std::string::npos || type_at == std::string::npos) return;
      const size_t length = std::stoul(head.substr(length_at + 16));
      const size_t body = head_end + 4;
      if (buffer_.size() < body + length + 2) return;
      parts_.push_back(buffer_.substr(body, length));
      part_types_.push_back(head.substr(type_at + 14, head.find("\r\n", type_at) - type_at - 14));
      buffer_.erase(0, body + length + 2);
    }
  }

  httplib::Client client_;
  std::thread thread_;
  std::atomic<bool> stopping_ = false;
  mutable std::mutex mu_;
  int status_ = 0;                       // guarded by mu_
  std::string content_type_, boundary_;  // guarded by mu_
  std::string buffer_;                   // guarded by mu_
  std::vector<std::string> parts_;       // guarded by mu_
  std::vector<std::string> part_types_;  // guarded by mu_
  bool ended_ = false;                   // guarded by mu_
};

constexpr double kSampleInterval = 7;
constexpr double kLiveInterval = 0.5;

class LiveServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { start(config()); }

  ServerConfig config() {
    ServerConfig c = testing::test_server_config(dir_.path());
    c.nodes.sample_interval_s = kSampleInterval;
    c.nodes.live_interval_s = kLiveInterval;
    c.live.keepalive_s = 1;  // a client that went away is found within a second or two
    return c;
  }

  void start(ServerConfig config) {
    auto service = Service::create(std::move(config));
    ASSERT_TRUE(service) << service.error().message;
    service_ = std::move(*service);
    auto port = service_->start();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    session_ = testing::log_in_as(*client_, service_->store(), Role::kTechnician);
  }

  // Stores a frame (asserts 201); returns the answer's body.
  json post_frame(const std::string& site, int sequence, const std::string& jpeg) {
    auto res = testing::post_signed(*client_, wire::kFramesPath, site, std::to_string(sequence),
                                    kTime, jpeg, wire::kJpegContentType);
    EXPECT_TRUE(res) << httplib::to_string(res.error());
    if (!res) return {};
    EXPECT_EQ(res->status, 201) << res->body;
    return json::parse(res->body);
  }
  json post_heartbeat(const std::string& site, int sequence, const std::string& state) {
    auto res = testing::post_signed(*client_, wire::kHealthPath, site, std::to_string(sequence),
                                    kTime, json{{"state", state}}.dump(), wire::kJsonContentType);
    EXPECT_TRUE(res) << httplib::to_string(res.error());
    if (!res) return {};
    EXPECT_EQ(res->status, 201) << res->body;
    return json::parse(res->body);
  }
  std::string metrics() {
    auto res = client_->Get("/metrics");
    return res && res->status == 200 ? res->body : "";
  }
  bool metric_is(const std::string& line) {
    return testing::eventually([&] { return metrics().find(line + "\n") != std::string::npos; },
                               kWait);
  }

  testing::TempDir dir_;
  std::unique_ptr<Service> service_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
  httplib::Headers session_;  // a technician's: events, live view
  const std::string jpeg_ = testing::synthetic_jpeg(320, 240);
};

TEST_F(LiveServiceTest, AStoredFrameIsACountEventAndTheSameCountAgainIsNone) {
  SseClient sse(port_, session_);
  ASSERT_TRUE(testing::eventually([&] { return sse.subscribed(); }, kWait)) << sse.raw();
  EXPECT_EQ(sse.content_type(), "text/event-stream");

  const json stored = post_frame("td-01", 1, jpeg_);
  auto events = sse.wait_for(1);
  ASSERT_EQ(events.size(), 1u) << sse.raw();
  EXPECT_EQ(events[0].type, "count");
  EXPECT_EQ(events[0].data["site_id"], "td-01");
  EXPECT_EQ(events[0].data["sequence"], 1);
  EXPECT_EQ(events[0].data["count"], stored["count"]);
  EXPECT_EQ(events[0].data["captured_at_ms"], 1783830000000);
  EXPECT_TRUE(events[0].data["received_at_ms"].is_number_integer());
  EXPECT_TRUE(events[0].data["frame_count"].is_number_integer());

  // The same picture again counts the same: no event. A retry (a duplicate) none either. The
  // heartbeat after them is the next event, so nothing came between.
  EXPECT_EQ(post_frame("td-01", 2, jpeg_)["count"], stored["count"]);
  auto retry = testing::post_signed(*client_, wire::kFramesPath, "td-01", "2", kTime, jpeg_,
                                    wire::kJpegContentType);
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->status, 200);
  post_heartbeat("td-01", 3, "ok");
  events = sse.wait_for(2);
  ASSERT_EQ(events.size(), 2u) << sse.raw();
  EXPECT_EQ(events[1].type, "node");
  EXPECT_GT(std::stoull(events[1].id), std::stoull(events[0].id));
  EXPECT_TRUE(metric_is("attendance_events_published_total{type=\"count\"} 1"));
}

TEST_F(LiveServiceTest, AHeartbeatWhoseStateChangesIsANodeEvent) {
  SseClient sse(port_, session_);
  ASSERT_TRUE(testing::eventually([&] { return sse.subscribed(); }, kWait));
  post_heartbeat("td-02", 1, "ok");
  post_heartbeat("td-02", 2, "ok");  // unchanged: nothing
  post_heartbeat("td-02", 3, "no_frames");
  const auto events = sse.wait_for(2);
  ASSERT_EQ(events.size(), 2u) << sse.raw();
  EXPECT_EQ(events[0].type, "node");
  EXPECT_EQ(events[0].data["site_id"], "td-02");
  EXPECT_EQ(events[0].data["state"], "ok");
  EXPECT_TRUE(events[0].data["previous_state"].is_null());
  EXPECT_EQ(events[1].data["state"], "no_frames");
  EXPECT_EQ(events[1].data["previous_state"], "ok");
  EXPECT_EQ(events[1].data["sequence"], 3);
  // And the stream is kept alive while nothing happens.
  EXPECT_TRUE(testing::eventually(
      [&] { return sse.raw().find(": keep-alive\n\n") != std::string::npos; }, kWait));
}

TEST_F(LiveServiceTest, AClientResumingWithLastEventIdGetsExactlyWhatItMissed) {
  std::string last_id;
  {
    SseClient first(port_, session_);
    ASSERT_TRUE(testing::eventually([&] { return first.subscribed(); }, kWait));
    post_frame("td-01", 1, jpeg_);
    const auto events = first.wait_for(1);
    ASSERT_EQ(events.size(), 1u);
    last_id = events[0].id;
  }  // gone
  post_frame("td-02", 1, jpeg_);
  post_heartbeat("mt-01", 2, "ok");

  SseClient again(port_, session_, last_id);
  auto events = again.wait_for(2);
  ASSERT_EQ(events.size(), 2u) << again.raw();
  EXPECT_EQ(events[0].type, "count");
  EXPECT_EQ(events[0].data["site_id"], "td-02");
  EXPECT_EQ(std::stoull(events[0].id), std::stoull(last_id) + 1);
  EXPECT_EQ(events[1].type, "node");
  EXPECT_EQ(events[1].data["site_id"], "mt-01");
  // Then live, without repeating anything.
  post_heartbeat("mt-01", 3, "stopping");
  events = again.wait_for(3);
  ASSERT_EQ(events.size(), 3u) << again.raw();
  EXPECT_EQ(events[2].data["state"], "stopping");
  EXPECT_EQ(std::stoull(events[2].id), std::stoull(last_id) + 3);

  // An id this service never gave (a browser from before a restart): reload.
  SseClient stranger(port_, session_, "12");
  events = stranger.wait_for(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "reset");
  EXPECT_EQ(events[0].data["reason"], "too_old");
}

TEST_F(LiveServiceTest, ALatestPictureIsDrawnOnceHoweverOftenItIsViewed) {
  const auto drawn = [&] {
    const std::string m = metrics();
    const std::string key = "\nattendance_pictures_drawn_total ";
    const size_t at = m.find(key);
    return at == std::string::npos ? -1 : std::stoll(m.substr(at + key.size()));
  };
  const std::int64_t before = drawn();
  post_frame("td-01", 1, jpeg_);
  std::string first;
  for (int i = 0; i < 5; ++i) {
    auto res = client_->Get("/api/v1/sites/td-01/latest.jpg", session_);
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    if (i == 0) first = res->body;
    EXPECT_EQ(res->body, first);
  }
  EXPECT_EQ(drawn(), before + 1);
  post_frame("td-01", 2, testing::synthetic_jpeg(320, 240, 60));
  for (int i = 0; i < 3; ++i) {
    auto res = client_->Get("/api/v1/sites/td-01/latest.jpg", session_);
    ASSERT_TRUE(res && res->status == 200);
  }
  EXPECT_EQ(drawn(), before + 2);
}

TEST(LiveRoles, RecordEventsGoOnlyToRolesThatReadTheRecordAndEveryStreamIsAudited) {
  testing::TempDir dir;
  ServerConfig c = testing::test_server_config(dir.path());
  c.schedule.days = {{"2027-07-12", {Period{"morning", 7 * 60 + 30, 11 * 60 + 30}}}};
  c.live.keepalive_s = 1;
  const std::int64_t midnight = local_to_utc_ms("Asia/Ho_Chi_Minh", "2027-07-12", 0).value();
  const auto at = [&](int h, int m) { return midnight + (h * 60 + m) * 60'000LL; };
  std::atomic<std::int64_t> now = at(7, 44);
  ServiceHooks hooks;
  hooks.clock = [&] { return now.load(); };
  auto service = Service::create(std::move(c), std::move(hooks));
  ASSERT_TRUE(service) << service.error().message;
  auto port = (*service)->start();
  ASSERT_TRUE(port) << port.error().message;
  httplib::Client client("127.0.0.1", *port);
  auto up = testing::post_signed(client, wire::kFramesPath, "td-01", "1", std::to_string(now),
                                 testing::synthetic_jpeg(320, 240), wire::kJpegContentType);
  ASSERT_TRUE(up && up->status == 201);
  const auto technician = testing::log_in_as(client, (*service)->store(), Role::kTechnician);
  const auto auditor = testing::log_in_as(client, (*service)->store(), Role::kAuditor);
  SseClient tech(*port, technician), audit(*port, auditor);
  ASSERT_TRUE(testing::eventually([&] { return tech.subscribed() && audit.subscribed(); }, kWait));

  // The 07:45 roll call: the record's, for auditors; then a node event for everyone.
  now = at(7, 48);
  ASSERT_TRUE((*service)->tick_roll_book());
  auto hb = testing::post_signed(client, wire::kHealthPath, "td-01", "2", std::to_string(now),
                                 R"({"state":"ok"})", wire::kJsonContentType, "0");
  ASSERT_TRUE(hb && hb->status == 201);
  // A roll call of each of the 3 sites and td-01's late start (its frame counted nobody), in
  // the order the roll calls' threads finish, then the node event.
  const auto seen = audit.wait_for(5);
  ASSERT_EQ(seen.size(), 5u) << audit.raw();
  std::multiset<std::string> tick_types;
  for (int i = 0; i < 4; ++i) tick_types.insert(seen[i].type);
  EXPECT_EQ(tick_types,
            (std::multiset<std::string>{"alert_opened", "roll_call", "roll_call", "roll_call"}))
      << audit.raw();
  EXPECT_EQ(seen.back().type, "node");
  // A technician gets the alerts and the node event, never the record's roll calls.
  const auto told = tech.wait_for(2);
  ASSERT_EQ(told.size(), 2u) << tech.raw();
  for (const auto& e : told)
    EXPECT_NE(e.type, "roll_call") << "a technician may not read the record";
  EXPECT_EQ(told.back().type, "node");

  // Each stream opened is in the audit trail, under its user and address.
  testing::RawDb db(dir / "data" / "attendance.db");
  EXPECT_EQ(db.scalar("SELECT group_concat(actor, ' ') FROM (SELECT actor FROM audit_trail "
                      "WHERE kind = 'stream' AND subject = '/api/v1/events' ORDER BY actor)"),
            "auditor@127.0.0.1 technician@127.0.0.1");
  tech.stop();
  audit.stop();
  (*service)->stop();
}

TEST_F(LiveServiceTest, ClientsBeyondTheLimitsGet503AndAreCounted) {
  service_->stop();
  ServerConfig c = config();
  c.live.max_event_clients = 2;
  c.live.max_mjpeg_clients = 1;
  start(std::move(c));
  SseClient a(port_, session_), b(port_, session_);
  ASSERT_TRUE(testing::eventually([&] { return a.subscribed() && b.subscribed(); }, kWait));
  auto refused = client_->Get("/api/v1/events");
  ASSERT_TRUE(refused) << httplib::to_string(refused.error());
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(json::parse(refused->body)["code"], "too_many_clients");

  post_frame("td-01", 1, jpeg_);
  MjpegClient view(port_, session_, "td-01");
  ASSERT_EQ(view.wait_for(1).size(), 1u);
  auto refused_view = client_->Get("/api/v1/sites/td-02/live.mjpeg");
  ASSERT_TRUE(refused_view);
  EXPECT_EQ(refused_view->status, 503);
  EXPECT_EQ(json::parse(refused_view->body)["code"], "too_many_clients");

  const std::string m = metrics();
  EXPECT_THAT(m, HasSubstr("attendance_live_refusals_total{stream=\"events\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("attendance_live_refusals_total{stream=\"mjpeg\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("attendance_live_clients{stream=\"events\"} 2\n"));
  EXPECT_THAT(m, HasSubstr("attendance_live_clients{stream=\"mjpeg\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("attendance_live_client_limit{stream=\"events\"} 2\n"));
  EXPECT_THAT(m, HasSubstr("attendance_events_dropped_total 0\n"));

  // A client that goes away frees its place.
  a.stop();
  EXPECT_TRUE(metric_is("attendance_live_clients{stream=\"events\"} 1"));
  SseClient c2(port_, session_);
  EXPECT_TRUE(testing::eventually([&] { return c2.subscribed(); }, kWait)) << c2.raw();
  view.stop();
  EXPECT_TRUE(metric_is("attendance_live_clients{stream=\"mjpeg\"} 0"));
}

TEST_F(LiveServiceTest, MjpegShowsTheLatestFrameThenEachNewOneAndKeepsTheNodeLive) {
  post_frame("td-01", 1, jpeg_);
  EXPECT_DOUBLE_EQ(post_heartbeat("td-01", 2, "ok")["interval_s"].get<double>(), kSampleInterval);

  MjpegClient view(port_, session_, "td-01");
  auto parts = view.wait_for(1);
  ASSERT_GE(parts.size(), 1u);
  EXPECT_THAT(view.content_type(), HasSubstr("multipart/x-mixed-replace; boundary="));
  EXPECT_EQ(view.part_types()[0], "image/jpeg");
  auto first = decode_jpeg(
      std::span(reinterpret_cast<const unsigned char*>(parts[0].data()), parts[0].size()),
      std::int64_t{1} << 30);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->cols, 320);
  EXPECT_EQ(first->rows, 240);
  EXPECT_NE(parts[0], jpeg_) << "annotated, not the bytes as received";

  // While it is open the site's node is told the live interval; another site is not.
  EXPECT_DOUBLE_EQ(post_heartbeat("td-01", 3, "ok")["interval_s"].get<double>(), kLiveInterval);
  EXPECT_DOUBLE_EQ(post_heartbeat("td-02", 1, "ok")["interval_s"].get<double>(), kSampleInterval);

  // A new frame arrives as the next part (the idle repeat of the first may come between).
  const json stored = post_frame("td-01", 4, testing::synthetic_jpeg(640, 360));
  EXPECT_DOUBLE_EQ(stored["interval_s"].get<double>(), kLiveInterval);
  ASSERT_TRUE(testing::eventually(
      [&] {
        const auto p = view.parts();
        return !p.empty() && jpeg_size(p.back()) == cv::Size(640, 360);
      },
      kWait));
  parts = view.parts();
  for (size_t i = 0; i + 1 < parts.size(); ++i) EXPECT_EQ(jpeg_size(parts[i]), cv::Size(320, 240));

  auto unknown = client_->Get("/api/v1/sites/zz-99/live.mjpeg");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(json::parse(unknown->body)["code"], "unknown_site");
}

TEST_F(LiveServiceTest, AStreamOfASiteWithoutFramesStartsWithItsFirstFrame) {
  MjpegClient view(port_, session_, "mt-01");
  ASSERT_TRUE(metric_is("attendance_live_clients{stream=\"mjpeg\"} 1"));
  EXPECT_TRUE(view.parts().empty());
  post_frame("mt-01", 1, testing::synthetic_jpeg(480, 270));
  const auto parts = view.wait_for(1);
  ASSERT_GE(parts.size(), 1u);
  EXPECT_EQ(jpeg_size(parts[0]), cv::Size(480, 270));
}

TEST_F(LiveServiceTest, StopReturnsPromptlyWithStreamsOpen) {
  service_->stop();
  ServerConfig c = config();
  c.live.keepalive_s = 300;  // nothing would wake the streams for minutes but the stop
  start(std::move(c));
  post_frame("td-01", 1, jpeg_);
  SseClient sse(port_, session_);
  MjpegClient view(port_, session_, "td-01");
  ASSERT_TRUE(testing::eventually([&] { return sse.subscribed(); }, kWait));
  ASSERT_EQ(view.wait_for(1).size(), 1u);

  const auto begin = std::chrono::steady_clock::now();
  service_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, seconds(10));
  EXPECT_TRUE(testing::eventually([&] { return sse.ended() && view.ended(); }, kWait));
}

}  // namespace
}  // namespace att
