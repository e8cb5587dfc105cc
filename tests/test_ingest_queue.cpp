// The bounded, fair queue in front of the detectors: its rules on their own (threads, no
// detector), then the service under more uploads than it can detect, over real HTTP.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "analysis/app/server_config.h"
#include "analysis/app/service.h"
#include "analysis/ingest/ingest_queue.h"
#include "analysis/store/sqlite_store.h"
#include "common/time_util.h"
#include "protocol/wire.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Ms = std::chrono::milliseconds;
using testing::eventually;

TEST(IngestQueue, RefusesWhenFullAndWhenASiteHoldsItsShare) {
  IngestQueue queue({/*workers=*/1, /*capacity=*/3, /*per_site=*/2});
  auto a1 = queue.enter("td-01");
  auto a2 = queue.enter("td-01");
  ASSERT_TRUE(a1 && a2);
  auto a3 = queue.enter("td-01");
  ASSERT_FALSE(a3);
  EXPECT_EQ(a3.error().code, "site_busy");
  EXPECT_THAT(a3.error().message, HasSubstr("already has 2 frames waiting"));
  auto b1 = queue.enter("td-02");
  ASSERT_TRUE(b1);
  auto c1 = queue.enter("mt-01");
  ASSERT_FALSE(c1);
  EXPECT_EQ(c1.error().code, "queue_full");
  EXPECT_GE(c1.error().retry_after_s, 1);
  EXPECT_EQ(queue.stats().refused_full, 1);
  EXPECT_EQ(queue.stats().refused_site, 1);
  // A place given back is a place for the next frame.
  { auto gone = std::move(*b1); }
  EXPECT_TRUE(queue.enter("mt-01"));
}

TEST(IngestQueue, TurnsGoRoundTheSitesSoAChattySiteCannotStarveTheOthers) {
  IngestQueue queue({/*workers=*/1, /*capacity=*/10, /*per_site=*/5});
  std::mutex mu;
  std::vector<std::string> order;
  std::atomic<bool> release{false};
  // The first frame takes the only detector and holds it until released.
  auto first = queue.enter("td-01");
  ASSERT_TRUE(first);
  queue.wait_turn(*first);
  std::vector<std::thread> threads;
  auto waiter = [&](const std::string& site, const std::string& name) {
    auto t = queue.enter(site);
    ASSERT_TRUE(t);
    queue.wait_turn(*t);
    {
      std::lock_guard lock(mu);
      order.push_back(name);
    }
    queue.end_turn(*t);
  };
  // td-01 has three more frames waiting (a spool being emptied); td-02 one, arriving last.
  int expected_waiting = 0;
  for (const auto& [site, name] : std::vector<std::pair<std::string, std::string>>{
           {"td-01", "a2"}, {"td-01", "a3"}, {"td-01", "a4"}, {"td-02", "b1"}}) {
    threads.emplace_back(waiter, site, name);
    ++expected_waiting;
    ASSERT_TRUE(eventually([&] { return queue.stats().waiting == expected_waiting; }, Ms(2000)));
  }
  queue.end_turn(*first);
  for (auto& t : threads) t.join();
  // td-02 went second, not after all of td-01's backlog.
  EXPECT_THAT(order, ElementsAre("a2", "b1", "a3", "a4"));
  EXPECT_EQ(queue.stats().served, 5);
  EXPECT_EQ(queue.stats().running, 0);
}

TEST(IngestQueue, NoMoreThanTheWorkersRunAtOnce) {
  IngestQueue queue({/*workers=*/2, /*capacity=*/16, /*per_site=*/16});
  std::atomic<int> running{0}, most{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&, i] {
      auto t = queue.enter(i % 2 ? "td-01" : "td-02");
      ASSERT_TRUE(t);
      queue.wait_turn(*t);
      const int now = ++running;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(Ms(10));
      --running;
    });  // the ticket's end gives the turn back
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(most.load(), 2);
  EXPECT_EQ(queue.stats().served, 12);
  EXPECT_GT(queue.stats().mean_turn_ms, 5);
}

// ----------------------------------------------------------------------------------------
// The service with one detector and a small queue, sent more than it can take at once.

TEST(IngestOverload, ItAnswers503WithRetryAfterThenEveryFrameLandsOnce) {
  testing::TempDir dir;
  ServerConfig config = testing::test_server_config(dir.path());
  config.detector.workers = 1;
  config.queue_capacity = 2;
  config.queue_per_site = 1;
  config.http_threads = 12;
  auto service = Service::create(config);
  ASSERT_TRUE(service) << service.error().message;
  auto port = (*service)->start();
  ASSERT_TRUE(port) << port.error().message;

  // 3 sites x 4 frames, 12 senders at once, each retrying after Retry-After as a node does
  // (scaled down: 50 ms per second asked, to keep the test short).
  const std::vector<std::string> sites = {"td-01", "td-02", "mt-01"};
  std::atomic<int> refused{0}, stored{0}, duplicates{0}, bad_retry_after{0};
  std::vector<std::thread> senders;
  for (int i = 0; i < 12; ++i) {
    senders.emplace_back([&, i] {
      httplib::Client client("127.0.0.1", *port);
      // An accepted frame waits for the two in hand: seconds each under ThreadSanitizer.
      client.set_read_timeout(std::chrono::seconds(60));
      const std::string site = sites[i % 3];
      const std::string sequence = std::to_string(i / 3 + 1);
      const std::string jpeg = testing::synthetic_jpeg(640, 360, 60 + i);
      for (int attempt = 0; attempt < 400; ++attempt) {
        auto res =
            testing::post_signed(client, wire::kFramesPath, site, sequence,
                                 std::to_string(1783830000000 + i * 1000), jpeg, "image/jpeg");
        if (res && res->status == 201) return void(++stored);
        if (res && res->status == 200) return void(++duplicates);
        if (res && res->status == 503) {
          ++refused;
          const int after = std::atoi(res->get_header_value("Retry-After").c_str());
          if (after < 1) ++bad_retry_after;
          std::this_thread::sleep_for(Ms(50 * std::max(after, 1)));
          continue;
        }
        ADD_FAILURE() << "unexpected answer " << (res ? res->status : 0);
        return;
      }
      ADD_FAILURE() << "frame " << site << "/" << sequence << " never landed";
    });
  }
  for (auto& t : senders) t.join();

  EXPECT_GT(refused.load(), 0) << "the queue never pushed back";
  EXPECT_EQ(bad_retry_after.load(), 0);
  EXPECT_EQ(stored.load() + duplicates.load(), 12);
  for (const auto& site : sites) {
    EXPECT_EQ((*service)->store().observation_count(site).value(), 4) << site;
  }
  std::cout << refused.load() << " answers 503 before 12 frames landed\n";

  // /metrics tells the same story, in Prometheus text.
  httplib::Client client("127.0.0.1", *port);
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->status, 200);
  const std::string& m = metrics->body;
  EXPECT_THAT(m, HasSubstr("attendance_uploads_total{endpoint=\"frames\",status=\"201\"} " +
                           std::to_string(stored.load()) + "\n"));
  EXPECT_THAT(m, HasSubstr("attendance_uploads_total{endpoint=\"frames\",status=\"503\"} " +
                           std::to_string(refused.load()) + "\n"));
  EXPECT_THAT(m, HasSubstr("attendance_detect_seconds_count 12\n"));
  EXPECT_THAT(m, HasSubstr("attendance_queue_capacity 2\n"));
  EXPECT_THAT(m, HasSubstr("attendance_queue_frames{state=\"waiting\"} 0\n"));
  EXPECT_THAT(m, HasSubstr("attendance_site_frame_age_seconds{site=\"mt-01\"} "));
  // Pushed back for one of two reasons, and every push-back counted under one.
  std::int64_t reasons = 0;
  for (const std::string reason : {"queue_full", "site_busy"}) {
    const std::string key = "attendance_refusals_total{reason=\"" + reason + "\"} ";
    if (auto at = m.find(key); at != std::string::npos) {
      reasons += std::stoll(m.substr(at + key.size()));
    }
  }
  EXPECT_EQ(reasons, refused.load());
}

// ----------------------------------------------------------------------------------------
// attendance-sim against the real service: what it says it sent is what the service stored.

// The sample province with keys for its first three sites, served on a free port; frames
// for the simulator in dir/frames.
struct SimFixture {
  testing::TempDir dir;
  std::unique_ptr<Service> service;
  int port = 0;

  // `schedule`: the class schedule's YAML; the sample province's when empty.
  explicit SimFixture(const std::string& schedule = "") {
    const std::filesystem::path source = ATTENDANCE_SOURCE_DIR;
    if (!schedule.empty()) testing::write_file(dir / "schedule.yaml", schedule);
    std::string keys = "site_id,secret\n";
    for (const char* id : {"tp-01", "tp-02", "tp-03"}) {
      keys += std::string(id) + "," + testing::site_secret(id) + "\n";
    }
    testing::write_file(dir / "keys.csv", keys);
    std::filesystem::permissions(
        dir / "keys.csv", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    testing::write_file(
        dir / "server.yaml",
        "province:\n  name: Lai Châu\n  sites: " + (source / "config" / "sites.csv").string() +
            "\n  schedule: " +
            (schedule.empty() ? source / "config" / "schedule.yaml" : dir / "schedule.yaml")
                .string() +
            "\ndata_dir: data\ndetector: {name: yunet, workers: 1}\n"
            "nodes: {site_keys: keys.csv, sample_interval_s: 0.5}\n");
    auto config = load_server_config(dir / "server.yaml");
    EXPECT_TRUE(config) << config.error().message;
    if (!config) return;
    config->listen_port = 0;
    auto created = Service::create(*config);
    EXPECT_TRUE(created) << created.error().message;
    if (!created) return;
    service = std::move(*created);
    auto started = service->start();
    EXPECT_TRUE(started) << started.error().message;
    port = started.value_or(0);
    for (int i = 0; i < 2; ++i) {
      testing::write_file(dir / "frames" / ("f" + std::to_string(i) + ".jpg"),
                          testing::synthetic_jpeg(640, 360, 70 + i));
    }
  }

  // Runs the simulator with `args` for `seconds` at 0.5 s (on two synthetic pictures unless
  // `args` names --images); its JSON summary.
  nlohmann::json run(const std::string& args, double seconds = 3) {
    const std::string command =
        std::string(ATTENDANCE_SIM_BIN) + " --config " + (dir / "server.yaml").string() +
        " --server http://127.0.0.1:" + std::to_string(port) +
        " --sites 3 --interval 0.5 --duration " + std::to_string(seconds) +
        " --width 640 --height 360" +
        (args.find("--images") == std::string::npos ? " --images " + (dir / "frames").string()
                                                    : std::string()) +
        " " + args + " > " + (dir / "sim.json").string();
    EXPECT_EQ(std::system(command.c_str()), 0) << testing::read_file(dir / "sim.json");
    const std::string text = testing::read_file(dir / "sim.json");
    return nlohmann::json::parse(text.substr(text.rfind('{')));
  }

  std::vector<Observation> stored() {
    std::vector<Observation> all;
    for (const char* id : {"tp-01", "tp-02", "tp-03"}) {
      auto site = service->store().observations_since(id, 0, 1000);
      EXPECT_TRUE(site) << site.error().message;
      if (site) all.insert(all.end(), site->begin(), site->end());
    }
    return all;
  }
};

void expect_accounted(const nlohmann::json& out, std::int64_t stored) {
  EXPECT_GE(out["sampled"].get<std::int64_t>(), 15);  // 3 sites x 3 s / 0.5 s, give or take
  EXPECT_EQ(out["stored"].get<std::int64_t>(), stored);
  EXPECT_EQ(out["sampled"].get<std::int64_t>(),
            stored + out["left_in_sim_spools"].get<std::int64_t>() +
                out["dropped_in_sim_spools"].get<std::int64_t>());
  EXPECT_EQ(out["refused"], 0);
  EXPECT_GT(out["latency_p50_ms"].get<double>(), 0);
}

TEST(AttendanceSim, SimulatedNodesAreCountedOnBothSides) {
  SimFixture f;
  ASSERT_TRUE(f.service);
  const auto out = f.run("");
  const auto stored = f.stored();
  expect_accounted(out, static_cast<std::int64_t>(stored.size()));
  for (const Observation& o : stored) EXPECT_EQ(o.counted_by, CountedBy::kService);
}

TEST(AttendanceSim, SimulatedNodesThatCountSendCountsAndEvidencePictures) {
  SimFixture f;
  ASSERT_TRUE(f.service);
  const auto out = f.run("--mode edge --evidence-interval 1");
  EXPECT_EQ(out["mode"], "edge");
  EXPECT_GE(out["heartbeats"].get<int>(), 3);  // each site's first report, at its first capture
  const auto stored = f.stored();
  expect_accounted(out, static_cast<std::int64_t>(stored.size()));
  int pictures = 0;
  for (const Observation& o : stored) {
    EXPECT_EQ(o.counted_by, CountedBy::kNode);
    EXPECT_EQ(o.detector, "yunet");
    EXPECT_NE(o.health, "");
    if (!o.frame_path.empty()) ++pictures;
  }
  // An evidence picture every second among counts every half second: about a half each.
  EXPECT_GE(pictures, static_cast<int>(stored.size()) / 3);
  EXPECT_LE(pictures, static_cast<int>(stored.size()) * 2 / 3 + 1);
  for (const char* site : {"tp-01", "tp-02", "tp-03"}) {
    EXPECT_GE(f.service->store().heartbeat_count(site).value_or(0), 1) << site;
  }
}

// On real classroom pictures: each count is its picture's, as the service's audit counts it,
// and the scripted events happen: a covered lens, a link down, a nearly empty room.
TEST(AttendanceSim, SimulatedNodesCountTheirPicturesAndPlayTheScript) {
  const auto classroom = testing::shared_dir() / "data" / "classroom";
  if (!std::filesystem::exists(classroom)) GTEST_SKIP() << "no " << classroom << " (shared data)";
  SimFixture f;
  ASSERT_TRUE(f.service);
  const auto out =
      f.run("--mode edge --evidence-interval 0.5 --pictures 16 --images " + classroom.string() +
                " --event tp-01:covered:0-1.5 --event tp-02:offline:0-1.5"
                " --event tp-03:people=0.1:0-",
            3);
  EXPECT_EQ(out["refused"], 0);
  const auto site = [&](const char* id) {
    return f.service->store().observations_since(id, 0, 1000).value();
  };
  // Covered at first, then a room of people.
  const auto covered = site("tp-01");
  ASSERT_GE(covered.size(), 4u);
  EXPECT_EQ(covered.front().count, 0);
  EXPECT_THAT(covered.front().health, ::testing::HasSubstr("covered"));
  EXPECT_THAT(covered.back().health, ::testing::Not(::testing::HasSubstr("covered")));
  EXPECT_GT(covered.back().count, 0);
  // Offline for 1.5 s: what it sampled meanwhile arrived after, none lost.
  const auto offline = site("tp-02");
  ASSERT_GE(offline.size(), 4u);
  EXPECT_GE(offline.front().received_at_ms - offline.front().captured_at_ms, 1000);
  EXPECT_LT(offline.back().received_at_ms - offline.back().captured_at_ms, 1000);
  // A tenth of the room: the pictures nearest that, far below the others.
  const int expected = f.service->config().sites[2].expected_attendees;
  for (const Observation& o : site("tp-03")) EXPECT_LE(o.count, expected / 3) << o.sequence;
  // Every picture the service audited, it counted as the node did.
  int audited = 0;
  for (const char* id : {"tp-01", "tp-02", "tp-03"}) {
    for (const Observation& o : site(id)) {
      if (!o.audit_count) continue;
      ++audited;
      EXPECT_EQ(*o.audit_count, o.frame_count) << id << " " << o.sequence;
    }
  }
  EXPECT_GT(audited, 0);
}

// A class morning in small: a period running now with a roll call every minute, two of them
// while the simulator runs. Every simulated node that counts sends an evidence picture within
// 5 s of each roll call, as the service announced them in its answers.
TEST(AttendanceSim, EveryEdgeSiteSendsAPictureWithinFiveSecondsOfEveryRollCall) {
  const std::int64_t now = now_ms();
  const int minute = static_cast<int>(now % 86'400'000 / 60'000);  // of the day, UTC
  std::int64_t first = (now / 60'000 + 1) * 60'000;                // the next whole minute
  if (first - now < 10'000) first += 60'000;  // not so near that the sim starts on it
  if (minute < 1 || minute > 1430) GTEST_SKIP() << "too near midnight UTC for a one-day class";
  const std::vector<std::int64_t> roll_calls = {first, first + 60'000};
  const auto hhmm = [](int m) {
    char text[32];
    std::snprintf(text, sizeof text, "%02d:%02d", m / 60, m % 60);
    return std::string(text);
  };
  SimFixture f("timezone: UTC\ndays:\n  - date: " + iso8601_utc(now).substr(0, 10) +
               "\n    periods:\n      - {name: morning, start: \"" + hhmm(minute - 1) +
               "\", end: \"" + hhmm(minute + 8) +
               "\"}\nroll_calls: {first_after_start_min: 1, every_min: 1}\n");
  ASSERT_TRUE(f.service);
  const double seconds = static_cast<double>(roll_calls.back() - now_ms()) / 1000 + 6;
  const auto out = f.run("--mode edge --evidence-interval 3600", seconds);
  EXPECT_EQ(out["refused"], 0);
  EXPECT_GE(out["roll_call_pictures"].get<int>(), 3 * static_cast<int>(roll_calls.size()));
  for (const char* site : {"tp-01", "tp-02", "tp-03"}) {
    const auto seen = f.service->store().observations_since(site, 0, 10000).value();
    std::vector<std::int64_t> pictures;  // capture times of its evidence pictures
    for (const Observation& o : seen) {
      if (!o.frame_path.empty()) pictures.push_back(o.captured_at_ms);
    }
    for (const std::int64_t roll_call : roll_calls) {
      const bool near = std::ranges::any_of(
          pictures, [&](std::int64_t t) { return std::abs(t - roll_call) <= 5000; });
      EXPECT_TRUE(near) << site << ": no picture within 5 s of the roll call at "
                        << iso8601_utc(roll_call) << " among " << pictures.size();
    }
  }
}

// ----------------------------------------------------------------------------------------
// kill -9 of the server under load: every frame it acknowledged is in the database.

TEST(ServerKilled, EveryFrameItAcknowledgedIsInTheDatabaseAfterARestart) {
  testing::TempDir dir;
  const std::filesystem::path source = ATTENDANCE_SOURCE_DIR;
  constexpr int kSites = 12;
  std::string keys = "site_id,secret\n";
  std::vector<std::string> ids;
  {
    auto sample = load_sites_csv(source / "config" / "sites.csv");
    ASSERT_TRUE(sample) << sample.error().message;
    for (int i = 0; i < kSites; ++i) ids.push_back((*sample)[static_cast<size_t>(i)].id);
  }
  for (const auto& id : ids) keys += id + "," + testing::site_secret(id) + "\n";
  testing::write_file(dir / "keys.csv", keys);
  std::filesystem::permissions(
      dir / "keys.csv", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const int port = testing::unused_port();
  // More than one detector can take (12 sites every 0.1 s at 640x360 against one yunet):
  // frames are in the detector, in the queue, being written and refused with 503 when killed.
  testing::write_file(
      dir / "server.yaml",
      "province:\n  name: Lai Châu\n  sites: " + (source / "config" / "sites.csv").string() +
          "\n  schedule: " + (source / "config" / "schedule.yaml").string() +
          "\ndata_dir: data\nlisten: {host: 127.0.0.1, port: " + std::to_string(port) +
          "}\ndetector: {name: yunet, workers: 1}\n"
          "ingest: {queue_capacity: 6, queue_per_site: 1}\n"
          "nodes: {site_keys: keys.csv}\n");
  for (int i = 0; i < 3; ++i) {
    testing::write_file(dir / "frames" / ("f" + std::to_string(i) + ".jpg"),
                        testing::synthetic_jpeg(640, 360, 40 + i));
  }
  const std::vector<std::string> server_args{ATTENDANCE_SERVER_BIN, "--config",
                                             (dir / "server.yaml").string()};
  httplib::Client probe("127.0.0.1", port);
  auto start_server = [&] {
    const pid_t pid = testing::spawn(server_args, dir / "server.log");
    EXPECT_TRUE(eventually([&] { return static_cast<bool>(probe.Get("/healthz")); },
                           std::chrono::seconds(30)))
        << testing::read_file(dir / "server.log");
    return pid;
  };

  pid_t server = start_server();
  const pid_t sim = testing::spawn({ATTENDANCE_SIM_BIN,
                                    "--config",
                                    (dir / "server.yaml").string(),
                                    "--server",
                                    "http://127.0.0.1:" + std::to_string(port),
                                    "--sites",
                                    std::to_string(kSites),
                                    "--interval",
                                    "0.1",
                                    "--duration",
                                    "6",
                                    "--drain",
                                    "60",
                                    "--spool",
                                    "1000",
                                    "--width",
                                    "640",
                                    "--height",
                                    "360",
                                    "--images",
                                    (dir / "frames").string(),
                                    "--acked",
                                    (dir / "acked.txt").string()},
                                   dir / "sim.out");
  for (int kill_round = 0; kill_round < 2; ++kill_round) {
    // Killed once acknowledgements are flowing, restarted a moment later.
    const size_t acked_before = testing::read_file(dir / "acked.txt").size();
    ASSERT_TRUE(eventually(
        [&] { return testing::read_file(dir / "acked.txt").size() > acked_before + 200; },
        std::chrono::seconds(20)));
    ASSERT_EQ(::kill(server, SIGKILL), 0);
    EXPECT_EQ(testing::wait_exit(server, std::chrono::seconds(10)), 128 + SIGKILL);
    std::this_thread::sleep_for(Ms(700));
    server = start_server();
  }
  ASSERT_EQ(testing::wait_exit(sim, std::chrono::seconds(120)), 0)
      << testing::read_file(dir / "sim.out");
  ::kill(server, SIGTERM);
  EXPECT_EQ(testing::wait_exit(server, std::chrono::seconds(20)), 0);

  const std::string text = testing::read_file(dir / "sim.out");
  const auto out = nlohmann::json::parse(text.substr(text.rfind('{')));
  std::cout << "attendance-sim: " << out.dump() << "\n";
  EXPECT_EQ(out["left_in_sim_spools"], 0);
  EXPECT_EQ(out["dropped_in_sim_spools"], 0);
  EXPECT_GT(out["busy_503"].get<std::int64_t>(), 0) << "the service was not under load";
  EXPECT_GT(out["failed"].get<std::int64_t>(), 0) << "no upload was cut by the kills";

  std::set<std::pair<std::string, std::int64_t>> acked;
  std::istringstream lines(testing::read_file(dir / "acked.txt"));
  std::string site;
  std::int64_t sequence = 0;
  while (lines >> site >> sequence) acked.insert({site, sequence});
  auto store = SqliteStore::open(dir / "data" / "attendance.db");
  ASSERT_TRUE(store) << store.error().message;
  std::set<std::pair<std::string, std::int64_t>> stored;
  std::int64_t missing_files = 0;
  for (const auto& id : ids) {
    auto rows = (*store)->observations_since(id, 0, 1'000'000);
    ASSERT_TRUE(rows) << rows.error().message;
    for (const Observation& o : *rows) {
      stored.insert({o.site_id, o.sequence});
      if (!std::filesystem::exists(dir / "data" / o.frame_path)) ++missing_files;
    }
  }
  std::int64_t acked_not_stored = 0;
  for (const auto& a : acked) acked_not_stored += stored.contains(a) ? 0 : 1;
  EXPECT_EQ(acked_not_stored, 0) << "of " << acked.size() << " acknowledged frames";
  // Frames stored but whose answer the kill cut off were sent again and acknowledged as
  // duplicates; with every site's spool drained, both sides hold the same set.
  EXPECT_EQ(stored, acked);
  EXPECT_EQ(missing_files, 0);
  EXPECT_EQ(static_cast<std::int64_t>(acked.size()), out["sampled"].get<std::int64_t>());
}

}  // namespace
}  // namespace att
