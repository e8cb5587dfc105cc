// The first real path, end to end: a real clip through GStreamer, signed-off uploads over
// real HTTP, YuNet, SQLite, and back out of the API. Nothing here is a fake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "analysis/app/service.h"
#include "capture/capture_node.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

using nlohmann::json;

constexpr char kClip[] = "data/video/classroom_cctv_overhead_640x352.mp4";

class EndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    auto service = Service::create(testing::test_server_config(dir_.path()));
    ASSERT_TRUE(service) << service.error().message;
    service_ = std::move(*service);
    auto port = service_->start();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  NodeStats run_node(const std::filesystem::path& clip) {
    CaptureConfig c;
    c.site_id = "td-01";
    c.server_url = url();
    c.source_uri = clip.string();
    c.realtime = false;
    c.sample_interval_s = 1.0;
    c.exit_on_eos = true;
    c.state_dir = dir_ / "node";
    auto sequence = SequenceFile::open(c.state_dir / "sequence");
    EXPECT_TRUE(sequence);
    auto spool = Spool::open(c.state_dir / "spool.db", c.spool_max_bytes);
    EXPECT_TRUE(spool);
    auto uploader = Uploader::create(
        {c.server_url, c.site_id, testing::site_secret(c.site_id), std::chrono::seconds(30), {}});
    EXPECT_TRUE(uploader);
    CaptureNode node(c, **uploader, *sequence, **spool);
    std::atomic<bool> stop{false};
    return node.run(stop);
  }

  testing::TempDir dir_;
  std::unique_ptr<Service> service_;
  int port_ = 0;
};

TEST_F(EndToEnd, FramesOfARealClipAreCountedStoredAndServed) {
  ATT_REQUIRE_SHARED(clip, kClip);
  const NodeStats stats = run_node(clip);
  // 10.95 s of video sampled once a second: 11 frames.
  EXPECT_EQ(stats.frames, 11);
  EXPECT_EQ(stats.spooled, 11);
  EXPECT_EQ(stats.stored, 11 + stats.heartbeats);  // heartbeats are acknowledged too
  EXPECT_EQ(stats.rejected, 0);
  EXPECT_EQ(stats.queue_dropped, 0);
  EXPECT_EQ(stats.left_in_spool, 0);
  EXPECT_EQ(service_->store().observation_count("td-01").value(), 11);

  // Plausible counts: the clip shows 13-14 seated pupils seen from a ceiling corner, so
  // a frame's faces are some, never none and never more than the room holds.
  std::vector<int> counts;
  auto frames = service_->store().observations_since("td-01", 0, 100);
  ASSERT_TRUE(frames);
  ASSERT_EQ(frames->size(), 11u);
  for (const Observation& o : *frames) {
    EXPECT_EQ(o.detector, service_->detector().name);
    EXPECT_EQ(o.width, 640);
    // The node's health scores of the frame came with it.
    const json health = json::parse(o.health);
    EXPECT_GT(health["brightness"].get<double>(), 35) << "a lit classroom";
    EXPECT_EQ(health["flags"], json::array());
    counts.push_back(o.count);
  }
  std::sort(counts.begin(), counts.end());
  if (!service_->detector().degraded) {
    EXPECT_GE(counts[counts.size() / 2], 3) << "median YuNet count";
    EXPECT_LE(counts.back(), 20);
  }

  httplib::Client client("127.0.0.1", port_);
  testing::log_in_as(client, service_->store(), Role::kOrganizer);
  auto latest = client.Get("/api/v1/sites/td-01/latest");
  ASSERT_TRUE(latest);
  ASSERT_EQ(latest->status, 200);
  const json l = json::parse(latest->body);
  auto stored_latest = service_->store().latest_observation("td-01");
  ASSERT_TRUE(stored_latest && *stored_latest);
  EXPECT_EQ(l["sequence"], frames->back().sequence);
  EXPECT_EQ(l["count"], (*stored_latest)->count);
  // The reported count is the occupancy window's; the boxes are this frame's own.
  EXPECT_EQ(l["frame_count"], (*stored_latest)->frame_count);
  EXPECT_EQ(l["boxes"].size(), static_cast<size_t>((*stored_latest)->frame_count));
  if (!service_->detector().degraded) {
    // 13 pupils and a 14th arriving; measured 15-17 after 11 frames (a window still filling).
    EXPECT_GE((*stored_latest)->count, 10);
    EXPECT_LE((*stored_latest)->count, 19);
  }

  auto sites = client.Get("/api/v1/sites");
  ASSERT_TRUE(sites);
  const json s = json::parse(sites->body);
  for (const auto& site : s["sites"]) {
    if (site["id"] == "td-01") {
      EXPECT_EQ(site["latest"]["count"], (*stored_latest)->count);
    } else {
      EXPECT_TRUE(site["latest"].is_null());
    }
  }
}

TEST_F(EndToEnd, ARestartedNodeGoesOnNumberingWhereItStopped) {
  ATT_REQUIRE_SHARED(clip, kClip);
  const NodeStats first = run_node(clip);
  EXPECT_EQ(first.spooled, 11);
  const NodeStats second = run_node(clip);
  EXPECT_EQ(second.spooled, 11);
  EXPECT_EQ(second.rejected, 0);
  EXPECT_EQ(second.duplicates, 0);
  EXPECT_EQ(service_->store().observation_count("td-01").value(), 22);
  // Frames and heartbeats share one counter: the second run's numbers follow the first's.
  const std::int64_t items = first.spooled + first.heartbeats + second.spooled + second.heartbeats;
  auto last = service_->store().latest_observation("td-01");
  ASSERT_TRUE(last && *last);
  EXPECT_LE((*last)->sequence, items);
  EXPECT_GT((*last)->sequence, first.spooled + first.heartbeats);
}

TEST_F(EndToEnd, TheCaptureExecutableDeliversAClip) {
  ATT_REQUIRE_SHARED(clip, kClip);
  const std::string state = (dir_ / "exe-state").string();
  const auto secret = dir_ / "mt-01.key";
  testing::write_file(secret, testing::site_secret("mt-01") + "\n");
  std::filesystem::permissions(secret, std::filesystem::perms::owner_read);
  const std::string args[] = {ATTENDANCE_CAPTURE_BIN,
                              "--site",
                              "mt-01",
                              "--server",
                              url(),
                              "--source",
                              clip.string(),
                              "--interval",
                              "2",
                              "--counting",
                              "central",
                              "--once",
                              "--fast",
                              "--state-dir",
                              state,
                              "--secret-file",
                              secret.string()};
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // 10.95 s sampled every 2 s: frames at 0, 2, ..., 10 s.
  EXPECT_EQ(service_->store().observation_count("mt-01").value(), 6);
}

}  // namespace
}  // namespace att
