// Two service processes and PostgreSQL behind nginx (docs/deployment.md): a class morning of
// the sample province through both, and the process that keeps the roll book killed with
// SIGKILL half way. Everything is the real thing: attendance-server twice on one PostgreSQL
// database the test starts, nginx with config/nginx/attendance.conf in front of both, and the
// 164 sites of config/sites.csv as nodes that count (attendance-sim --mode edge) sending counts,
// evidence pictures and reports over HTTPS to nginx.
//
// The morning is short and real: a period that starts at the next minute and lasts three, with
// a roll call every minute. Checked afterwards, in the database: every count, picture and report
// a node had acknowledged is stored; every roll call and period summary is in the ledger once;
// the final report is written once; `attendance-server verify` passes. Along the way: the other
// process takes the roll book over (the time it took is printed), a browser connected to one
// process is sent the live events of sites whose uploads reach the other, and a session opened
// through nginx is good at whichever process a request reaches.
//
// And in one process, two services on one database: what one saves reaches the other, also
// when the other could not hear it for a while (its listening connection cut).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "analysis/app/service.h"
#include "analysis/domain/province.h"
#include "common/time_util.h"
#include "tests/support/fake_detector.h"
#include "tests/support/nginx.h"
#include "tests/support/postgres.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr char kPassword[] = "a password for the cluster test";

// "HH:MM" of a minute of the day.
std::string hhmm(int minute) {
  char text[8];
  std::snprintf(text, sizeof text, "%02d:%02d", minute / 60 % 24, minute % 60);
  return text;
}

// Whether the process listening on `port` holds `role` (its /metrics, read on loopback).
bool holds(int port, const std::string& role) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(std::chrono::seconds(1));
  auto res = c.Get("/metrics");
  return res && res->status == 200 &&
         res->body.find("attendance_cluster_role{role=\"" + role + "\"} 1") != std::string::npos;
}

std::set<std::pair<std::string, std::int64_t>> read_pairs(const fs::path& file) {
  std::set<std::pair<std::string, std::int64_t>> out;
  std::ifstream in(file);
  std::string site;
  std::int64_t sequence = 0;
  while (in >> site >> sequence) out.insert({site, sequence});
  return out;
}

TEST(Cluster, AClassMorningThroughTwoProcessesOutlivesTheRollBooksProcessBeingKilled) {
  testing::PostgresDatabase db;
  ASSERT_TRUE(db.ok()) << db.error();
  testing::TempDir dir;
  const fs::path source = ATTENDANCE_SOURCE_DIR;
  auto sites = load_sites_csv(source / "config" / "sites.csv");
  ASSERT_TRUE(sites) << sites.error().message;

  // Today, in a zone where the next five minutes stay within the day.
  const std::int64_t start_ms = now_ms();
  std::string zone = "Asia/Ho_Chi_Minh";
  int offset_min = 7 * 60;
  int local = static_cast<int>((start_ms / 60000 + offset_min) % 1440);
  if (local < 10 || local > 1420) zone = "UTC", offset_min = 0;
  local = static_cast<int>((start_ms / 60000 + offset_min) % 1440);
  const std::time_t day_s = (start_ms / 1000) + offset_min * 60;
  char date[16];
  std::strftime(date, sizeof date, "%F", std::gmtime(&day_s));
  const int begin = local + 1, end = begin + 3;  // roll calls at begin + 1 and begin + 2
  testing::write_file(dir / "schedule.yaml",
                      "timezone: " + zone + "\ndays:\n  - date: " + date +
                          "\n    periods:\n      - {name: morning, start: \"" + hhmm(begin) +
                          "\", end: \"" + hhmm(end) +
                          "\"}\nroll_calls:\n  first_after_start_min: 1\n  every_min: 1\n");
  const std::int64_t end_ms = (start_ms / 60000 + (end - local)) * 60000;

  std::string keys = "site_id,secret\n";
  for (const Site& s : *sites) keys += s.id + "," + testing::site_secret(s.id) + "\n";
  testing::write_file(dir / "keys.csv", keys);
  fs::permissions(dir / "keys.csv", fs::perms::owner_read | fs::perms::owner_write);
  testing::write_file(
      dir / "server.yaml",
      "province:\n  name: Lai Châu\n  sites: " + (source / "config" / "sites.csv").string() +
          "\n  schedule: schedule.yaml\n"
          "data_dir: data\n"
          "listen: {host: 127.0.0.1, port: 0, trusted_proxies: [127.0.0.1]}\n"
          "detector: {name: yunet, workers: 1}\n"
          "storage:\n  backend: postgres\n  postgres: \"" +
          db.conninfo() +
          "\"\n"
          "nodes: {site_keys: keys.csv}\n"
          "attendance: {roll_call_grace_s: 5, final_after_s: 5}\n");
  const std::vector<std::string> server{ATTENDANCE_SERVER_BIN, "--config",
                                        (dir / "server.yaml").string()};
  auto added = testing::run_command(
      {server[0], server[1], server[2], "users", "add", "auditor", "--role", "auditor"}, dir.path(),
      std::string(kPassword) + "\n");
  ASSERT_EQ(added.exit_code, 0) << added.err;

  // Process A first, so that it keeps the roll book; then B.
  const int ports[2] = {testing::unused_port(), testing::unused_port()};
  pid_t pids[2] = {-1, -1};
  const auto start = [&](int i) {
    std::vector<std::string> args = server;
    args.insert(args.end(), {"--listen", "127.0.0.1:" + std::to_string(ports[i])});
    pids[i] = testing::spawn(args, dir / ("server-" + std::to_string(i) + ".log"));
    httplib::Client probe("127.0.0.1", ports[i]);
    return testing::eventually([&] { return static_cast<bool>(probe.Get("/healthz")); },
                               std::chrono::seconds(30));
  };
  struct Stop {
    pid_t* pids;
    ~Stop() {
      for (int i = 0; i < 2; ++i) {
        if (pids[i] > 0)
          kill(pids[i], SIGTERM), testing::wait_exit(pids[i], std::chrono::seconds(20));
      }
    }
  } stop{pids};
  ASSERT_TRUE(start(0)) << testing::read_file(dir / "server-0.log");
  ASSERT_TRUE(
      testing::eventually([&] { return holds(ports[0], "roll_book"); }, std::chrono::seconds(20)));
  ASSERT_TRUE(start(1)) << testing::read_file(dir / "server-1.log");
  EXPECT_FALSE(holds(ports[1], "roll_book"));

  testing::FrontDoor door({ports[0], ports[1]}, source / "dashboard");
  ASSERT_TRUE(door.ok()) << door.error();

  // A browser on B: the live events of every site, whichever process its uploads reach.
  std::mutex seen_mu;
  std::set<std::string> counted_sites;
  std::atomic<bool> done{false};
  httplib::Client browser("127.0.0.1", ports[1]);
  browser.set_read_timeout(std::chrono::seconds(30));
  browser.set_default_headers(testing::log_in(browser, "auditor", kPassword));
  std::thread events([&] {
    std::string buffer;
    browser.Get("/api/v1/events", [&](const char* data, size_t size) {
      buffer.append(data, size);
      static const std::regex count_event("event: count\ndata: \\{[^\n]*\"site_id\":\"([^\"]+)\"");
      for (std::sregex_iterator it(buffer.begin(), buffer.end(), count_event), last; it != last;
           ++it) {
        std::lock_guard lock(seen_mu);
        counted_sites.insert((*it)[1]);
      }
      if (const auto cut = buffer.rfind("\n\n"); cut != std::string::npos) buffer.erase(0, cut);
      return !done;
    });
  });
  struct Join {
    std::atomic<bool>& done;
    std::thread& t;
    ~Join() {
      done = true;
      if (t.joinable()) t.join();
    }
  } join{done, events};

  // The province's nodes, through nginx, until the morning is over.
  for (int i = 0; i < 3; ++i) {
    testing::write_file(dir / "frames" / ("f" + std::to_string(i) + ".jpg"),
                        testing::synthetic_jpeg(640, 360, 40 + i));
  }
  const auto duration_s = (end_ms - now_ms()) / 1000 + 10;
  const pid_t sim = testing::spawn({ATTENDANCE_SIM_BIN,
                                    "--config",
                                    (dir / "server.yaml").string(),
                                    "--server",
                                    "https://127.0.0.1:" + std::to_string(door.https_port()),
                                    "--ca-file",
                                    door.cert().string(),
                                    "--mode",
                                    "edge",
                                    "--interval",
                                    "5",
                                    "--heartbeat-interval",
                                    "10",
                                    "--duration",
                                    std::to_string(duration_s),
                                    "--drain",
                                    "60",
                                    "--images",
                                    (dir / "frames").string(),
                                    "--width",
                                    "640",
                                    "--height",
                                    "360",
                                    "--acked",
                                    (dir / "acked.txt").string(),
                                    "--acked-reports",
                                    (dir / "reports.txt").string()},
                                   dir / "sim.out");

  // The first roll call taken by A, A killed; B takes the roll book over.
  ASSERT_TRUE(testing::eventually(
      [&] { return db.integer("SELECT COUNT(*) FROM ledger WHERE kind = 'roll_call'") > 0; },
      std::chrono::minutes(3)))
      << testing::read_file(dir / "server-0.log");
  kill(pids[0], SIGKILL);
  const auto killed = Clock::now();
  EXPECT_EQ(testing::wait_exit(pids[0], std::chrono::seconds(5)), 128 + SIGKILL);
  pids[0] = -1;
  ASSERT_TRUE(
      testing::eventually([&] { return holds(ports[1], "roll_book"); }, std::chrono::seconds(30)));
  const double takeover_s = std::chrono::duration<double>(Clock::now() - killed).count();
  std::printf("the roll book taken over %.1f s after its process was killed\n", takeover_s);

  // Sessions are the database's: requests through nginx reach either process.
  httplib::Client front("https://127.0.0.1:" + std::to_string(door.https_port()));
  front.set_ca_cert_path(door.cert().c_str());
  front.enable_server_certificate_verification(true);
  front.set_default_headers(testing::log_in(front, "auditor", kPassword));
  for (int i = 0; i < 6; ++i) {
    auto res = front.Get("/api/v1/sites");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
  }

  ASSERT_TRUE(testing::eventually(
      [&] { return db.integer("SELECT COUNT(*) FROM ledger WHERE kind = 'final_report'") > 0; },
      std::chrono::milliseconds(end_ms - now_ms() + 90'000)))
      << testing::read_file(dir / "server-1.log");
  EXPECT_EQ(testing::wait_exit(sim, std::chrono::seconds(120)), 0)
      << testing::read_file(dir / "sim.out");

  // Every count, picture and report a node had acknowledged is stored.
  const auto acked = read_pairs(dir / "acked.txt");
  const auto reports = read_pairs(dir / "reports.txt");
  EXPECT_GT(acked.size(), sites->size() * 5);
  EXPECT_GT(reports.size(), sites->size() * 5);
  const auto stored = [&](const char* table) {
    std::set<std::pair<std::string, std::int64_t>> rows;
    std::istringstream text(db.scalar(std::string("SELECT string_agg(site_id || ' ' || sequence, "
                                                  "' ') FROM ") +
                                      table));
    std::string site;
    std::int64_t sequence = 0;
    while (text >> site >> sequence) rows.insert({site, sequence});
    return rows;
  };
  const auto observations = stored("observations"), heartbeats = stored("heartbeats");
  int lost = 0;
  for (const auto& a : acked) lost += observations.contains(a) ? 0 : 1;
  for (const auto& r : reports) lost += heartbeats.contains(r) ? 0 : 1;
  EXPECT_EQ(lost, 0) << "of " << acked.size() << " counts and " << reports.size() << " reports";

  // Every roll call and summary once, for every site; the final report once.
  const std::int64_t times =
      db.integer("SELECT COUNT(DISTINCT at_ms) FROM ledger WHERE kind = 'roll_call'");
  EXPECT_EQ(times, 2);
  EXPECT_EQ(db.integer("SELECT COUNT(*) FROM ledger WHERE kind = 'roll_call'"),
            times * static_cast<std::int64_t>(sites->size()));
  EXPECT_EQ(db.integer("SELECT COUNT(DISTINCT subject) FROM ledger WHERE kind = 'roll_call'"),
            times * static_cast<std::int64_t>(sites->size()));
  EXPECT_EQ(db.integer("SELECT COUNT(*) FROM ledger WHERE kind = 'period_summary'"),
            static_cast<std::int64_t>(sites->size()));
  EXPECT_EQ(db.integer("SELECT COUNT(DISTINCT subject) FROM ledger WHERE kind = 'period_summary'"),
            static_cast<std::int64_t>(sites->size()));
  EXPECT_EQ(db.integer("SELECT COUNT(*) FROM ledger WHERE kind = 'final_report'"), 1);
  EXPECT_EQ(db.integer("SELECT COUNT(*) FROM (SELECT kind, subject FROM ledger "
                       "GROUP BY kind, subject HAVING COUNT(*) > 1) twice"),
            0);

  // The live events of sites whose uploads reached A came to the browser on B too.
  {
    std::lock_guard lock(seen_mu);
    EXPECT_GT(counted_sites.size(), sites->size() * 9 / 10) << counted_sites.size() << " sites";
  }

  auto verify = testing::run_command({server[0], server[1], server[2], "verify"}, dir.path());
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_THAT(verify.out, ::testing::HasSubstr("chain intact"));
}

// Two services of one database in this process, on ports of their own.
class TwoServices : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok()) << db_.error();
    for (int i = 0; i < 2; ++i) {
      ServerConfig config = testing::test_server_config(dirs_[i].path());
      config.storage.backend = "postgres";
      config.storage.postgres = db_.conninfo();
      config.live.keepalive_s = 1;
      ServiceHooks hooks;
      hooks.detector = testing::FakeDetector::painted_heads().choice();
      auto service = Service::create(std::move(config), hooks);
      ASSERT_TRUE(service) << service.error().message;
      services_[i] = std::move(*service);
      auto port = services_[i]->start();
      ASSERT_TRUE(port) << port.error().message;
      ports_[i] = *port;
    }
  }
  void TearDown() override {
    for (auto& s : services_) s.reset();  // before the database goes
  }

  // The version of `site`'s setup in force at service i, as its technician's page reads it.
  std::int64_t version_at(int i, const std::string& site) {
    httplib::Client client("127.0.0.1", ports_[i]);
    const auto session = testing::log_in_as(client, services_[i]->store(), Role::kTechnician);
    auto res = client.Get("/api/v1/sites/" + site + "/setup", session);
    if (!res || res->status != 200) return -1;
    return json::parse(res->body).value("version", std::int64_t{-1});
  }
  std::string metrics(int i) {
    httplib::Client client("127.0.0.1", ports_[i]);
    auto res = client.Get("/metrics");
    return res && res->status == 200 ? res->body : "";
  }

  testing::PostgresDatabase db_;
  testing::TempDir dirs_[2];
  std::unique_ptr<Service> services_[2];
  int ports_[2] = {0, 0};
};

TEST_F(TwoServices, WhatOneSavesReachesTheOtherAlsoAfterItCouldNotHearForAWhile) {
  const std::string site = testing::small_province().at(0).id;
  SiteZones zones;
  zones.min_score = 0.4f;
  ASSERT_TRUE(services_[0]->set_site_setup(site, zones, {}, cv::Size2f(640, 480)));
  EXPECT_TRUE(
      testing::eventually([&] { return version_at(1, site) == 1; }, std::chrono::seconds(10)))
      << "the other process has version " << version_at(1, site);

  // A browser on the second service's live events.
  httplib::Client browser("127.0.0.1", ports_[1]);
  const auto session = testing::log_in_as(browser, services_[1]->store(), Role::kOrganizer);
  std::mutex mu;
  std::string received;
  std::atomic<bool> done = false;
  std::thread watching([&] {
    browser.Get("/api/v1/events", session, [&](const char* data, size_t n) {
      std::lock_guard lock(mu);
      received.append(data, n);
      return !done.load();
    });
  });
  const auto has = [&](const std::string& text) {
    std::lock_guard lock(mu);
    return received.find(text) != std::string::npos;
  };
  ASSERT_TRUE(testing::eventually([&] { return has(": subscribed"); }, std::chrono::seconds(10)));

  // Both processes' listening connections are cut (not those of other tests' databases on
  // the same server); a setup saved meanwhile is not heard.
  EXPECT_EQ(db_.integer("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                        "datname = current_database() AND query LIKE 'LISTEN%' AND "
                        "pid <> pg_backend_pid()"),
            2);
  zones.min_score = 0.5f;
  ASSERT_TRUE(services_[0]->set_site_setup(site, zones, {}, cv::Size2f(640, 480)));

  // Listening again, the second reads every site's setup from the store, and tells its
  // browsers to reload what they show.
  EXPECT_TRUE(
      testing::eventually([&] { return version_at(1, site) == 2; }, std::chrono::seconds(10)))
      << "the other process has version " << version_at(1, site);
  EXPECT_TRUE(
      testing::eventually([&] { return has(R"({"reason":"missed"})"); }, std::chrono::seconds(10)))
      << received;
  EXPECT_THAT(metrics(1), ::testing::HasSubstr("attendance_cluster_reconnects_total 1\n"));
  EXPECT_THAT(metrics(1),
              ::testing::HasSubstr("attendance_events_resets_total{reason=\"missed\"} 1\n"));
  done = true;
  browser.stop();
  watching.join();
}

}  // namespace
}  // namespace att
