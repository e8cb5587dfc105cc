// The capture node against what a rural site does to it, with real parts only: a real
// RTSP camera (gst-rtsp-server) that goes away and comes back, the real service over HTTP
// that stops and starts again, the node's own process killed with SIGKILL and stopped with
// SIGTERM, a spool that fills up, and the camera health checks on real GStreamer sources.
// Every test counts frames on both sides.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <regex>
#include <set>
#include <thread>

#include "analysis/app/service.h"
#include "capture/capture_node.h"
#include "common/sqlite_db.h"
#include "common/time_util.h"
#include "tests/support/test_support.h"
#include "tools/rtsp_server.h"

namespace att {
namespace {

using nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using Ms = std::chrono::milliseconds;
using testing::eventually;
using testing::spawn;
using testing::wait_exit;

constexpr char kClip[] = "data/video/classroom_cctv_overhead_640x352.mp4";

class NodeTest : public ::testing::Test {
 protected:
  // The service, on `port` (0: any), over the same data directory every time.
  void start_service(int port = 0) {
    ServerConfig c = testing::test_server_config(dir_.path());
    c.listen_port = port;
    c.detector.name = "yunet";  // the cheapest real detector: these tests are about delivery
    c.nodes.sample_interval_s = service_interval_s_;
    c.nodes.live_interval_s = 0.2;
    if (live_duration_s_ > 0) c.nodes.live_duration_s = live_duration_s_;
    auto service = Service::create(std::move(c));
    ASSERT_TRUE(service) << service.error().message;
    service_ = std::move(*service);
    auto bound = service_->start();
    ASSERT_TRUE(bound) << bound.error().message;
    port_ = *bound;
  }
  void stop_service() {
    service_->stop();
    service_.reset();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  CaptureConfig node_config(const std::string& source, double interval_s) {
    CaptureConfig c;
    c.site_id = "td-01";
    c.server_url = url();
    c.source_uri = source;
    c.sample_interval_s = interval_s;
    c.state_dir = dir_ / "node";
    c.heartbeat_s = 1;
    c.max_backoff_s = 1;
    c.stall_timeout_s = 3;
    c.upload_timeout_s = 5;
    return c;
  }

  // Runs a node in this process on a thread of its own until stop() or its source ends.
  class RunningNode {
   public:
    explicit RunningNode(CaptureConfig c) : config_(std::move(c)) {
      auto sequence = SequenceFile::open(config_.state_dir / "sequence");
      EXPECT_TRUE(sequence) << sequence.error().message;
      sequence_ = std::make_unique<SequenceFile>(std::move(*sequence));
      auto spool = Spool::open(config_.state_dir / "spool.db", config_.spool_max_bytes);
      EXPECT_TRUE(spool) << spool.error().message;
      spool_ = std::move(*spool);
      auto uploader = Uploader::create({config_.server_url, config_.site_id,
                                        testing::site_secret(config_.site_id),
                                        std::chrono::milliseconds(5000), config_.ca_file});
      EXPECT_TRUE(uploader) << uploader.error().message;
      uploader_ = std::move(*uploader);
      node_ = std::make_unique<CaptureNode>(config_, *uploader_, *sequence_, *spool_);
      thread_ = std::thread([this] {
        stats_ = node_->run(stop_);
        done_ = true;
      });
    }
    ~RunningNode() { stop(); }
    NodeStats stop() {
      stop_ = true;
      if (thread_.joinable()) thread_.join();
      return stats_;
    }
    // Waits for the source to end and the spool to be delivered.
    NodeStats finish(Ms limit) {
      EXPECT_TRUE(eventually([this] { return done_.load(); }, limit)) << "the node did not finish";
      return stop();
    }
    Spool& spool() { return *spool_; }  // after stop()

   private:
    CaptureConfig config_;
    std::unique_ptr<SequenceFile> sequence_;
    std::unique_ptr<Spool> spool_;
    std::unique_ptr<Uploader> uploader_;
    std::unique_ptr<CaptureNode> node_;
    std::atomic<bool> stop_{false}, done_{false};
    NodeStats stats_;
    std::thread thread_;
  };

  std::int64_t frames_stored() { return service_->store().observation_count("td-01").value(); }
  std::int64_t heartbeats_stored() { return service_->store().heartbeat_count("td-01").value(); }
  std::vector<Observation> frames() {
    return service_->store().observations_since("td-01", 0, 100000).value();
  }
  // Asks for td-01's live view as a technician: when it ends (live_until_ms); 0 if refused.
  std::int64_t start_live_view() {
    httplib::Client client("127.0.0.1", port_);
    testing::log_in_as(client, service_->store(), Role::kTechnician);
    auto live = client.Post("/api/v1/sites/td-01/live");
    const bool started = live && live->status == 200;
    EXPECT_TRUE(started) << (live ? live->body : httplib::to_string(live.error()));
    return started ? json::parse(live->body)["live_until_ms"].get<std::int64_t>() : 0;
  }
  // The latest heartbeat report of td-01 through the API, as a technician's view gets it;
  // {} before there is one.
  json latest_report() {
    httplib::Client client("127.0.0.1", port_);
    if (technician_.empty()) {  // the session lasts across the service's restarts
      technician_ = testing::log_in_as(client, service_->store(), Role::kTechnician);
    }
    auto res = client.Get("/api/v1/sites", technician_);
    if (!res || res->status != 200) return json::object();
    const json body = json::parse(res->body);
    for (const auto& s : body["sites"]) {
      if (s["id"] == "td-01" && !s["node"].is_null()) return s["node"]["report"];
    }
    return json::object();
  }

  testing::TempDir dir_;
  double service_interval_s_ = 0.25;
  double live_duration_s_ = 0;  // 0: the service's default
  std::unique_ptr<Service> service_;
  int port_ = 0;
  httplib::Headers technician_;  // a session for latest_report()
};

// Frames delivered in the node's order: sequence, capture time and arrival all increase
// together, and no picture arrived twice.
void expect_in_order_once(const std::vector<Observation>& stored) {
  std::vector<Observation> by_sequence = stored;
  std::ranges::sort(by_sequence, {}, &Observation::sequence);
  std::set<std::int64_t> times;
  for (size_t i = 0; i < by_sequence.size(); ++i) {
    EXPECT_TRUE(times.insert(by_sequence[i].captured_at_ms).second)
        << "a frame captured at " << by_sequence[i].captured_at_ms << " arrived twice";
    if (i == 0) continue;
    EXPECT_GT(by_sequence[i].captured_at_ms, by_sequence[i - 1].captured_at_ms);
    EXPECT_GE(by_sequence[i].received_at_ms, by_sequence[i - 1].received_at_ms)
        << "sequence " << by_sequence[i].sequence << " arrived before "
        << by_sequence[i - 1].sequence;
  }
}

TEST_F(NodeTest, EveryFrameSampledWhileTheServiceWasDownArrivesOnceAndInOrder) {
  start_service();
  const int port = port_;
  // 10 s of live test picture (300 buffers at 30/s), sampled every 0.25 s: 40 frames.
  CaptureConfig c = node_config("videotestsrc://?pattern=ball&num-buffers=300", 0.25);
  c.exit_on_eos = true;
  RunningNode node(c);
  ASSERT_TRUE(eventually([&] { return frames_stored() >= 4; }, Ms(10000)));
  stop_service();
  const std::int64_t down_at = now_ms();
  std::this_thread::sleep_for(Ms(4000));
  start_service(port);
  const std::int64_t up_at = now_ms();
  const NodeStats stats = node.finish(Ms(60000));

  // Counted on both sides: everything sampled was spooled, and everything spooled is stored.
  EXPECT_NEAR(stats.frames, 40, 2);
  EXPECT_EQ(stats.spooled, stats.frames);
  EXPECT_EQ(stats.spool_failed, 0);
  EXPECT_EQ(stats.queue_dropped, 0);
  EXPECT_EQ(stats.rejected, 0);
  EXPECT_EQ(stats.left_in_spool, 0);
  EXPECT_EQ(frames_stored(), stats.spooled);
  EXPECT_EQ(heartbeats_stored(), stats.heartbeats);
  EXPECT_EQ(stats.stored + stats.duplicates, stats.spooled + stats.heartbeats);
  const auto stored = frames();
  expect_in_order_once(stored);
  // The outage's frames (4 s at 0.25 s) are there, and arrived after the service was back.
  int during = 0;
  for (const Observation& o : stored) {
    if (o.captured_at_ms > down_at + 300 && o.captured_at_ms < up_at - 300) {
      ++during;
      EXPECT_GE(o.received_at_ms, up_at);
    }
  }
  EXPECT_GE(during, 12);
}

TEST_F(NodeTest, ACameraThatGoesAwayFor20SecondsIsReconnectedByItself) {
  testing::RtspServer camera(
      "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,"
      "framerate=10/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 "
      "! rtph264pay name=pay0 pt=96 )");
  auto camera_port = camera.start();
  ASSERT_TRUE(camera_port) << camera_port.error().message;
  service_interval_s_ = 0.5;
  start_service();
  CaptureConfig c = node_config(camera.url(), 0.5);
  c.max_backoff_s = 2;
  RunningNode node(c);
  ASSERT_TRUE(eventually([&] { return frames_stored() >= 3; }, Ms(20000)))
      << "no frame from the RTSP camera";

  camera.stop();
  const auto gone = std::chrono::steady_clock::now();
  // The technician's view says the camera is silent, and why, well within the minute.
  EXPECT_TRUE(
      eventually([&] { return latest_report().value("state", "") == "no_frames"; }, Ms(15000)));
  const json report = latest_report();
  EXPECT_FALSE(report["camera"]["last_error"].get<std::string>().empty()) << report.dump();
  std::this_thread::sleep_until(gone + std::chrono::seconds(20));

  const std::int64_t before = frames_stored();
  ASSERT_TRUE(camera.start(*camera_port));
  const auto back = std::chrono::steady_clock::now();
  EXPECT_TRUE(eventually([&] { return frames_stored() >= before + 3; }, Ms(30000)))
      << "frames did not resume after the camera came back";
  const auto resumed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - back).count();
  std::cout << "frames resumed " << resumed_s << " s after the camera came back\n";
  EXPECT_TRUE(eventually([&] { return latest_report().value("state", "") == "ok"; }, Ms(10000)));
  const NodeStats stats = node.stop();
  EXPECT_GE(stats.pipeline_starts, 2);
  EXPECT_EQ(stats.rejected, 0);
  expect_in_order_once(frames());
}

TEST_F(NodeTest, HeartbeatsSayTheCameraGivesNothingAndWhy) {
  start_service();
  CaptureConfig c = node_config("/nonexistent/camera.mp4", 1);
  c.stall_timeout_s = 2;
  RunningNode node(c);
  EXPECT_TRUE(
      eventually([&] { return latest_report().value("state", "") == "no_frames"; }, Ms(10000)));
  const json report = latest_report();
  EXPECT_EQ(report["camera"]["playing"], false);
  EXPECT_THAT(report["camera"]["last_error"].get<std::string>(), HasSubstr("camera.mp4"));
  EXPECT_EQ(report["counters"]["frames"], 0);
  EXPECT_TRUE(report["health"].is_null());
  EXPECT_EQ(frames_stored(), 0);
  node.stop();
}

TEST_F(NodeTest, ADarkCameraIsFlaggedOnItsFramesAndInItsHeartbeat) {
  start_service();
  RunningNode node(node_config("videotestsrc://?pattern=black", 0.25));
  ASSERT_TRUE(eventually([&] { return frames_stored() >= 2; }, Ms(10000)));
  const json health = json::parse(frames().back().health);
  EXPECT_THAT(health["flags"], Contains("dark"));
  EXPECT_LT(health["brightness"].get<double>(), 35);
  EXPECT_TRUE(eventually(
      [&] {
        const json r = latest_report();
        return r.contains("health") && !r["health"].is_null() &&
               std::ranges::count(r["health"]["flags"], json("dark")) == 1;
      },
      Ms(5000)));
  node.stop();
}

TEST_F(NodeTest, ALiveViewRequestRaisesTheFrameRateWithoutCallingTheSite) {
  service_interval_s_ = 2;
  start_service();
  RunningNode node(node_config("videotestsrc://?pattern=ball", 2));
  ASSERT_TRUE(eventually([&] { return frames_stored() >= 1; }, Ms(10000)));
  ASSERT_GT(start_live_view(), 0);
  // The node learns it from its next answer (within one 2 s interval), then sends 5 a second.
  const std::int64_t asked = frames_stored();
  ASSERT_TRUE(eventually([&] { return frames_stored() >= asked + 8; }, Ms(10000)));
  const auto stored = frames();
  for (size_t i = stored.size() - 4; i < stored.size(); ++i) {
    EXPECT_NEAR(stored[i].captured_at_ms - stored[i - 1].captured_at_ms, 200, 60);
  }
  node.stop();
}

// A live view watched over a link that then goes down: the frames the node took only for the
// view pile up in its spool. When the view's time is up they are of no use to anyone, and
// sending them first would keep the site's picture that many frames old: the node drops them
// (counted), goes back to its normal pace, and its normal samples and heartbeats all arrive.
TEST_F(NodeTest, WhenTheLiveViewEndsTheFramesTakenOnlyForItAreDroppedAndCounted) {
  service_interval_s_ = 2;
  live_duration_s_ = 6;
  start_service();
  const int port = port_;
  RunningNode node(node_config("videotestsrc://?pattern=ball", 2));
  ASSERT_TRUE(eventually([&] { return frames_stored() >= 1; }, Ms(10000)));
  const std::int64_t live_until = start_live_view();
  ASSERT_GT(live_until, 0);
  const std::int64_t asked = frames_stored();
  ASSERT_TRUE(eventually([&] { return frames_stored() >= asked + 3; }, Ms(6000)))
      << "the node did not go live";

  stop_service();  // the technician still watches; nothing reaches the service
  const std::int64_t down_at = now_ms();
  ASSERT_LT(down_at + 1500, live_until) << "too slow to test a backlog";
  std::this_thread::sleep_for(Ms(live_until - now_ms() + 5000));
  start_service(port);
  const std::int64_t up_at = now_ms();
  // Delivered up to the present: a frame sampled after the service came back arrives.
  ASSERT_TRUE(eventually(
      [&] {
        const auto stored = frames();
        return !stored.empty() && stored.back().captured_at_ms > up_at;
      },
      Ms(15000)));
  const NodeStats stats = node.stop();

  // The backlog of the outage's live frames was dropped and counted...
  EXPECT_GE(stats.live_dropped, 5);
  // ...and of what was sampled during the outage only the normal samples, 2 s apart, arrived:
  // during the live view and after it.
  std::vector<std::int64_t> outage;
  for (const Observation& o : frames()) {
    if (o.captured_at_ms > down_at && o.captured_at_ms < up_at) outage.push_back(o.captured_at_ms);
  }
  ASSERT_GE(outage.size(), 4u);
  EXPECT_LT(outage.front(), live_until) << "the normal samples of the live view's end are kept";
  // Live frames are 0.2 s apart; normal samples 2 s (less when the camera's pace changes).
  // One live frame may arrive: the one the sender was retrying when the view ended, which the
  // spool never drops (it could be arriving).
  int close = 0;
  for (size_t i = 1; i < outage.size(); ++i) {
    if (outage[i] - outage[i - 1] < 1000) ++close;
  }
  EXPECT_LE(close, 1) << "live-only frames of the outage were sent";
  // Every frame sampled is accounted for: stored, still spooled, or dropped as live-only.
  auto left = node.spool().oldest(100000);
  ASSERT_TRUE(left);
  const auto frames_left = std::ranges::count(*left, std::string("frame"), &SpoolItem::kind);
  const auto heartbeats_left = std::ranges::count(*left, std::string("health"), &SpoolItem::kind);
  EXPECT_EQ(stats.spool_failed, 0);
  EXPECT_EQ(node.spool().stats()->dropped, 0);
  EXPECT_EQ(stats.frames, frames_stored() + frames_left + stats.live_dropped);
  // No heartbeat was dropped.
  EXPECT_EQ(stats.heartbeats, heartbeats_stored() + heartbeats_left);
  expect_in_order_once(frames());
}

// All heartbeat reports a site sent, oldest first, read from the service's database.
std::vector<json> all_reports(const std::filesystem::path& db_path) {
  std::vector<json> reports;
  auto db = sql::open(db_path, sql::read_only());
  EXPECT_TRUE(db);
  auto stmt = sql::prepare(db->get(), "SELECT report FROM heartbeats ORDER BY sequence");
  EXPECT_TRUE(stmt);
  while (sql::step(db->get(), stmt->get(), "reports").value_or(false)) {
    reports.push_back(json::parse(sql::column_text(stmt->get(), 0)));
  }
  return reports;
}

TEST_F(NodeTest, AFullSpoolDropsTheOldestCountsThemAndReportsThem) {
  port_ = testing::unused_port();  // the service is down at first
  service_interval_s_ = 1;
  // Noise JPEGs (tens of KB each) every 0.05 s against a 300 KB spool: it fills in a second.
  CaptureConfig c = node_config("videotestsrc://?pattern=snow", 0.05);
  c.spool_max_bytes = 300 * 1024;
  RunningNode node(c);
  std::this_thread::sleep_for(Ms(3000));
  start_service(port_);
  ASSERT_TRUE(
      eventually([&] { return heartbeats_stored() >= 3 && frames_stored() >= 3; }, Ms(20000)));
  const NodeStats stats = node.stop();
  auto spool = node.spool().stats();
  ASSERT_TRUE(spool);

  EXPECT_GT(spool->dropped, 10);
  EXPECT_LE(spool->bytes, c.spool_max_bytes);
  // Every item is accounted for: stored, dropped (counted), or still spooled.
  EXPECT_EQ(stats.spooled + stats.heartbeats,
            frames_stored() + heartbeats_stored() + spool->dropped + spool->items);
  // The service was told of every drop it acknowledged a report of, once.
  const std::int64_t reported = service_->store().spool_dropped_total("td-01").value();
  EXPECT_GT(reported, 0);
  EXPECT_EQ(reported + spool->dropped_unreported, spool->dropped);
  // The bound held all along, as each heartbeat saw it.
  for (const json& r : all_reports(dir_ / "data" / "attendance.db")) {
    if (!r["spool"].is_null()) {
      EXPECT_LE(r["spool"]["bytes"].get<std::int64_t>(), c.spool_max_bytes);
    }
  }
}

// ----------------------------------------------------------------------------------------
// The node as a process: SIGKILL in the middle of uploads, SIGTERM for a clean stop.

class NodeProcessTest : public NodeTest {
 protected:
  void SetUp() override {
    service_interval_s_ = 0.1;
    start_service();
    key_ = dir_ / "td-01.key";
    testing::write_file(key_, testing::site_secret("td-01") + "\n");
    std::filesystem::permissions(key_, std::filesystem::perms::owner_read);
    yaml_ = dir_ / "capture.yaml";
    testing::write_file(yaml_, "site_id: td-01\nserver_url: " + url() +
                                   "\nsecret_file: td-01.key\nstate_dir: node\n"
                                   "log_level: debug\n"
                                   "source: {uri: 'videotestsrc://?pattern=ball', "
                                   "sample_interval_s: 0.1}\n"
                                   "health: {heartbeat_s: 1}\nupload: {max_backoff_s: 1}\n"
                                   "counting: {mode: central}\n");
  }
  std::vector<std::string> node_args(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {ATTENDANCE_CAPTURE_BIN, "--config", yaml_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  std::filesystem::path key_, yaml_;
};

TEST_F(NodeProcessTest, KilledMidUploadNothingIsLostNothingIsStoredTwice) {
  std::vector<std::filesystem::path> logs;
  for (int run = 0; run < 3; ++run) {
    logs.push_back(dir_ / ("node-" + std::to_string(run) + ".log"));
    const pid_t pid = spawn(node_args(), logs.back());
    ASSERT_GT(pid, 0);
    const std::int64_t before = frames_stored();
    // Killed while frames are flowing: some spooled and unsent, one maybe half-uploaded.
    ASSERT_TRUE(eventually([&] { return frames_stored() >= before + 5; }, Ms(15000)));
    std::this_thread::sleep_for(Ms(130 * run));
    kill(pid, SIGKILL);
    EXPECT_EQ(wait_exit(pid, Ms(5000)), 128 + SIGKILL);
  }
  // A last run on a short source sends what the killed runs left, then its own, and exits.
  logs.push_back(dir_ / "node-last.log");
  const pid_t last =
      spawn(node_args({"--source", "videotestsrc://?pattern=ball&num-buffers=30", "--once"}),
            logs.back());
  EXPECT_EQ(wait_exit(last, Ms(30000)), 0) << testing::read_file(logs.back());

  // Every frame any run wrote to its spool (it logs each one, flushed, after the write) is
  // in the database.
  std::set<std::int64_t> spooled;
  const std::regex line(R"(spooled frame (\d+))");
  for (const auto& log : logs) {
    const std::string text = testing::read_file(log);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), line);
         it != std::sregex_iterator(); ++it) {
      spooled.insert(std::stoll((*it)[1]));
    }
  }
  const auto stored = frames();
  std::set<std::int64_t> stored_sequences;
  for (const Observation& o : stored) stored_sequences.insert(o.sequence);
  ASSERT_GT(spooled.size(), 20u);
  for (std::int64_t s : spooled) EXPECT_TRUE(stored_sequences.contains(s)) << "frame " << s;
  // Stored once: one row and one file per picture, in the order the node took them.
  EXPECT_EQ(stored.size(), stored_sequences.size());
  size_t files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir_ / "data" / "frames" / "td-01")) {
    files += f.is_regular_file();
  }
  EXPECT_EQ(files, stored.size());
  expect_in_order_once(stored);
  // And the spool is empty.
  auto spool = Spool::open(dir_ / "node" / "spool.db", 1 << 30);
  ASSERT_TRUE(spool);
  EXPECT_EQ((*spool)->stats()->items, 0);
}

TEST_F(NodeProcessTest, SigtermStopsCleanlyAndSaysSo) {
  const auto log = dir_ / "node.log";
  const pid_t pid = spawn(node_args(), log);
  ASSERT_TRUE(eventually([&] { return frames_stored() >= 3; }, Ms(15000)));
  kill(pid, SIGTERM);
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(wait_exit(pid, Ms(10000)), 0) << testing::read_file(log);
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(5));
  const std::string text = testing::read_file(log);
  EXPECT_THAT(text, HasSubstr("stopped: "));
  EXPECT_THAT(text, HasSubstr(" 0 not spooled (disk), 0 dropped before the spool"));
  // Its last word reached the technicians: the node stopped on purpose.
  EXPECT_TRUE(
      eventually([&] { return latest_report().value("state", "") == "stopping"; }, Ms(3000)));
}

// ----------------------------------------------------------------------------------------
// HTTPS with the province's own certificate authority.

TEST_F(NodeTest, UploadsOverHttpsTrustingOnlyTheConfiguredCertificate) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "skipped: needs the openssl command (scripts/deps.sh installs it)";
  }
  const auto cert = dir_ / "cert.pem", key = dir_ / "key.pem";
  const std::string make_cert = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " +
                                key.string() + " -out " + cert.string() +
                                " -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"
                                " >/dev/null 2>&1";
  ASSERT_EQ(std::system(make_cert.c_str()), 0);
  ServerConfig sc = testing::test_server_config(dir_.path());
  sc.detector.name = "yunet";
  sc.nodes.sample_interval_s = 0.25;
  sc.tls_cert = cert;
  sc.tls_key = key;
  auto service = Service::create(sc);
  ASSERT_TRUE(service) << service.error().message;
  auto port = (*service)->start();
  ASSERT_TRUE(port) << port.error().message;
  service_ = std::move(*service);
  port_ = *port;
  const std::string https = "https://127.0.0.1:" + std::to_string(port_);

  {  // Without the CA the node refuses the server, keeps its frames, and says why.
    CaptureConfig c = node_config("videotestsrc://?pattern=ball", 0.25);
    c.server_url = https;
    c.state_dir = dir_ / "untrusting";
    RunningNode node(c);
    std::this_thread::sleep_for(Ms(2000));
    const NodeStats stats = node.stop();
    EXPECT_EQ(stats.stored, 0);
    EXPECT_GT(stats.left_in_spool, 0);
    EXPECT_EQ(frames_stored(), 0);
  }
  CaptureConfig c = node_config("videotestsrc://?pattern=ball", 0.25);
  c.server_url = https;
  c.ca_file = cert;
  RunningNode node(c);
  EXPECT_TRUE(eventually([&] { return frames_stored() >= 3; }, Ms(10000)));
  node.stop();
}

// ----------------------------------------------------------------------------------------
// Camera health on real GStreamer sources, judged as the node judges them: each sampled
// JPEG decoded to grey and scored in order.

std::vector<HealthReport> health_of(const std::string& uri, int samples, bool live,
                                    const cv::Mat& reference = {}) {
  CameraOptions o;
  o.source.uri = uri;
  o.source.sample_interval_s = live ? 0.2 : 1.0;
  o.source.realtime = live;
  o.exit_on_eos = !live;
  FrameQueue queue(8);
  Camera camera(o, queue);
  EXPECT_TRUE(camera.start());
  HealthMonitor monitor;
  if (!reference.empty()) monitor.set_reference(reference);
  std::vector<HealthReport> reports;
  for (int waited = 0; waited < 100 && static_cast<int>(reports.size()) < samples; ++waited) {
    auto frame = queue.pop(Ms(200));
    if (!frame) {
      if (camera.status().finished) break;
      continue;
    }
    const cv::Mat grey =
        cv::imdecode(cv::Mat(1, static_cast<int>(frame->jpeg.size()), CV_8U, frame->jpeg.data()),
                     cv::IMREAD_GRAYSCALE);
    reports.push_back(monitor.assess(grey));
    waited = 0;
  }
  EXPECT_EQ(static_cast<int>(reports.size()), samples) << uri << ": " << camera.status().last_error;
  return reports;
}

std::vector<std::string> flags_of(const std::vector<HealthReport>& reports, size_t i) {
  return i < reports.size() ? reports[i].flags() : std::vector<std::string>{"(missing)"};
}

TEST(NodeHealth, ABlackCameraIsDark) {
  const auto r = health_of("videotestsrc://?pattern=black", 3, true);
  for (size_t i = 0; i < r.size(); ++i) EXPECT_THAT(flags_of(r, i), Contains("dark"));
}

TEST(NodeHealth, AOneColourPictureIsACoveredLensNotADarkRoom) {
  // A grey-blue jacket over the lens: lit, but one colour.
  const auto r =
      health_of("videotestsrc://?pattern=solid-color&foreground-color=0xff5a7896", 3, true);
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_THAT(flags_of(r, i), Contains("covered"));
    EXPECT_THAT(flags_of(r, i), Not(Contains("dark")));
  }
}

TEST(NodeHealth, AStillImageStreamIsFrozen) {
  ATT_REQUIRE_SHARED(picture, "data/classroom/PartA_00027.jpg");
  const auto r = health_of(
      "gst:filesrc location=" + picture.string() + " ! jpegdec ! imagefreeze is-live=true", 5,
      true);
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(flags_of(r, 0), std::vector<std::string>{});  // a real, lit, sharp classroom
  EXPECT_EQ(flags_of(r, 4), std::vector<std::string>{"frozen"});
}

TEST(NodeHealth, ANormalClipRaisesNothingAndTheSameClipShiftedHasMoved) {
  ATT_REQUIRE_SHARED(clip, kClip);
  // The reference: the clip's first frame, as a technician confirmed it.
  cv::Mat reference;
  {
    CameraOptions o;
    o.source.uri = clip.string();
    o.source.realtime = false;
    o.exit_on_eos = true;
    FrameQueue queue(2);
    Camera camera(o, queue);
    ASSERT_TRUE(camera.start());
    auto frame = queue.pop(Ms(10000));
    ASSERT_TRUE(frame);
    reference =
        cv::imdecode(cv::Mat(1, static_cast<int>(frame->jpeg.size()), CV_8U, frame->jpeg.data()),
                     cv::IMREAD_GRAYSCALE);
  }
  const auto normal = health_of(clip.string(), 11, false, reference);
  for (size_t i = 0; i < normal.size(); ++i) {
    EXPECT_EQ(flags_of(normal, i), std::vector<std::string>{}) << "frame " << i;
  }
  // Knocked sideways: the same scene 48 px (7.5% of the width) to the right.
  const auto shifted = health_of("gst:filesrc location=" + clip.string() +
                                     " ! decodebin ! videoconvert ! videobox left=-48 right=48",
                                 11, false, reference);
  for (size_t i = 0; i < shifted.size(); ++i) {
    EXPECT_THAT(flags_of(shifted, i), Contains("moved")) << "frame " << i;
    EXPECT_NEAR(shifted[i].shift, 48.0 / 640.0, 0.02) << "frame " << i;
  }
}

// ----------------------------------------------------------------------------------------
// Installation as a service, into a staging directory (no root, no systemctl).

int run_shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(NodeInstall, InstallsTheProgramItsSettingsItsKeyAndItsUnit) {
  const std::filesystem::path source = ATTENDANCE_SOURCE_DIR;
  if (!std::filesystem::exists(source / "build" / "bin" / "attendance-capture")) {
    GTEST_SKIP() << "skipped: needs the release build (build/bin/attendance-capture)";
  }
  testing::TempDir dir;
  const auto key = dir / "td-01.key";
  testing::write_file(key, testing::site_secret("td-01") + "\n");
  const auto stage = dir / "stage";
  const std::string install = (source / "scripts" / "install.sh").string() + " node --destdir " +
                              stage.string() +
                              " --site td-01 --server https://diemdanh.example.vn"
                              " --camera 'rtsp://admin:pw@192.168.1.64:554/ch1' --key-file ";

  // A key file that holds no key is refused, and nothing is installed.
  testing::write_file(dir / "bad.key", "not a key\n");
  EXPECT_EQ(run_shell(install + (dir / "bad.key").string() + " >/dev/null 2>&1"), 2);
  EXPECT_FALSE(std::filesystem::exists(stage));

  ASSERT_EQ(run_shell(install + key.string() + " >/dev/null"), 0);
  const auto bin = stage / "opt" / "attendance" / "bin" / "attendance-capture";
  EXPECT_EQ(std::filesystem::status(bin).permissions() & std::filesystem::perms::owner_exec,
            std::filesystem::perms::owner_exec);
  const auto etc = stage / "etc" / "attendance";
  EXPECT_EQ(testing::read_file(etc / "site.key"), testing::site_secret("td-01") + "\n");
  EXPECT_EQ(std::filesystem::status(etc / "site.key").permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // The settings a technician would otherwise have typed, valid as the node reads them.
  auto config = load_capture_config(etc / "capture.yaml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->site_id, "td-01");
  EXPECT_EQ(config->server_url, "https://diemdanh.example.vn");
  EXPECT_EQ(config->source_uri, "rtsp://admin:pw@192.168.1.64:554/ch1");
  EXPECT_EQ(config->secret_file, "/etc/attendance/site.key");
  EXPECT_EQ(config->state_dir, "/var/lib/attendance");
  // Not readable by every user: the camera's password is in it.
  EXPECT_EQ(std::filesystem::status(etc / "capture.yaml").permissions() &
                std::filesystem::perms::others_read,
            std::filesystem::perms::none);

  const auto unit = stage / "etc" / "systemd" / "system" / "attendance-capture.service";
  const std::string text = testing::read_file(unit);
  EXPECT_THAT(text, HasSubstr("ExecStart=/opt/attendance/bin/attendance-capture --config "
                              "/etc/attendance/capture.yaml"));
  EXPECT_THAT(text, HasSubstr("KillSignal=SIGTERM"));
  EXPECT_THAT(text, HasSubstr("Restart=always"));
  if (run_shell("command -v systemd-analyze >/dev/null 2>&1") == 0) {
    // systemd's own check, with the program where the staging directory has it.
    const auto staged = dir / "attendance-capture.service";
    testing::write_file(staged, std::regex_replace(text, std::regex("/opt/attendance"),
                                                   (stage / "opt" / "attendance").string()));
    EXPECT_EQ(run_shell("systemd-analyze verify " + staged.string()), 0);
  }

  // A second install keeps the technician's edited settings.
  testing::write_file(etc / "capture.yaml",
                      testing::read_file(etc / "capture.yaml") + "# edited on site\n");
  ASSERT_EQ(run_shell(install + key.string() + " >/dev/null"), 0);
  EXPECT_THAT(testing::read_file(etc / "capture.yaml"), HasSubstr("# edited on site"));
}

}  // namespace
}  // namespace att
