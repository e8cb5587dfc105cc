#include "tests/support/demo_day.h"

#include <httplib.h>

#include <filesystem>
#include <thread>

#include "analysis/domain/ledger.h"
#include "common/time_util.h"
#include "protocol/wire.h"
#include "tests/support/fake_detector.h"

namespace att::testing {
namespace {

constexpr int kHeartbeatEverySteps = 12;        // an hour
constexpr std::int64_t kHeartbeatSeq = 100000;  // the nodes' counter, past the day's frames

}  // namespace

std::optional<DemoFrame> demo_script(const Site& site, int m, int step) {
  const int full = site.expected_attendees - step % 3;
  if (site.id == "tp-01" && m < day_minute(8, 5)) return DemoFrame{site.expected_attendees / 4};
  if (site.id == "sh-01" && m >= day_minute(9, 0) && m <= day_minute(9, 45)) return std::nullopt;
  if (site.id == "pt-01" && m >= day_minute(14, 0) && m <= day_minute(14, 25)) {
    return DemoFrame{0, true};
  }
  if (site.id == "td-01" && m >= day_minute(16, 20)) {
    return DemoFrame{site.expected_attendees / 3};
  }
  return DemoFrame{full};
}

void DemoDayTest::SetUp() {
  const std::filesystem::path config_dir = std::filesystem::path(ATTENDANCE_SOURCE_DIR) / "config";
  auto loaded = load_server_config(config_dir / "server.yaml");
  ASSERT_TRUE(loaded) << loaded.error().message;
  config_ = std::move(*loaded);
  ASSERT_EQ(config_.sites.size(), 164u);
  ASSERT_FALSE(config_.schedule.days.empty());
  config_.schedule.days.resize(1);  // one day of the class: its end is the class's end
  date_ = config_.schedule.days[0].date;
  config_.data_dir = dir_ / "data";
  config_.listen_port = 0;
  config_.detector.workers = 2;
  config_.counting.window_s = 10;  // a frame every 5 minutes: a window of one frame
  config_.counting.min_hits = 1;
  for (const Site& s : config_.sites) config_.site_keys[s.id] = site_secret(s.id);
  midnight_ = local_to_utc_ms(config_.schedule.timezone, date_, 0).value();
  ASSERT_EQ(at(day_minute(17, 0)),
            local_to_utc_ms(config_.schedule.timezone, date_, day_minute(17, 0)))
      << "a clock change in the day";
  now_ = at(day_minute(7, 0));
}

void DemoDayTest::start(const ServerConfig& config) {
  ServiceHooks hooks;
  hooks.clock = [this] { return now_.load(); };
  hooks.detector = FakeDetector::painted_heads().choice();
  auto service = Service::create(config, hooks);
  ASSERT_TRUE(service) << service.error().message;
  service_ = std::move(*service);
  auto port = service_->start();
  ASSERT_TRUE(port) << port.error().message;
  port_ = *port;
}

std::vector<std::string> DemoDayTest::upload_step(int m, int step) {
  std::mutex mu;
  std::vector<std::string> failed;
  std::vector<std::thread> nodes;
  for (int u = 0; u < kUploaders; ++u) {
    nodes.emplace_back([&, u] {
      httplib::Client client("127.0.0.1", port_);
      const auto post = [&](const std::string& path, const std::string& site, std::int64_t seq,
                            const std::string& body, const std::string& type,
                            const std::string& extra) {
        int status = 0;
        for (int attempt = 0; attempt < 200; ++attempt) {
          auto res = post_signed(client, path, site, std::to_string(seq), std::to_string(at(m)),
                                 body, type, extra);
          status = res ? res->status : -1;
          if (status != 503) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (status != 201) {
          std::lock_guard lock(mu);
          failed.push_back(site + " " + path + " at " + std::to_string(m) + ": " +
                           std::to_string(status));
        }
      };
      for (size_t i = u; i < config_.sites.size(); i += kUploaders) {
        const Site& site = config_.sites[i];
        if (heartbeats_ && step % kHeartbeatEverySteps == 0) {
          post(wire::kHealthPath, site.id, kHeartbeatSeq + step,
               R"({"state":"ok","uptime_s":)" + std::to_string(step * 300) + "}",
               wire::kJsonContentType, std::to_string(step / kHeartbeatEverySteps));
        }
        const auto frame = demo_script(site, m, step);
        if (!frame) continue;
        post(wire::kFramesPath, site.id, step + 1, jpeg(frame->people), "image/jpeg",
             frame->covered ? R"({"flags":["covered"]})" : "");
      }
    });
  }
  for (auto& n : nodes) n.join();
  return failed;
}

const std::string& DemoDayTest::jpeg(int people) {
  std::lock_guard lock(jpeg_mu_);
  auto [it, added] = jpegs_.try_emplace(people);
  if (added) it->second = painted_frame(people);
  return it->second;
}

void DemoDayTest::run_day() {
  int step = 0;
  for (int m = day_minute(7, 20); m <= day_minute(17, 0); m += kStepMinutes, ++step) {
    now_ = at(m);
    const bool lunch = m > day_minute(11, 30) && m < day_minute(13, 20);
    if (!lunch) {
      const auto failed = upload_step(m, step);
      ASSERT_TRUE(failed.empty()) << ::testing::PrintToString(failed);
    }
    auto ticked = service_->tick_roll_book();
    ASSERT_TRUE(ticked) << "at " << m << ": " << ticked.error().message;
    if (m == day_minute(17, 0)) {
      LedgerQuery q;
      q.kind = "final_report";
      auto reports = service_->store().entries(Chain::kLedger, q);
      ASSERT_TRUE(reports) << reports.error().message;
      EXPECT_TRUE(reports->empty()) << "the final report came before the class ended";
    }
  }
  now_ = at(day_minute(17, 1));
  auto ticked = service_->tick_roll_book();
  ASSERT_TRUE(ticked) << ticked.error().message;
}

}  // namespace att::testing
