// The demo province's class day, as the tests replay it against a real service built as
// main() builds it from config/server.yaml: the 164 sites of config/sites.csv, the first day
// of config/schedule.yaml, the thresholds of `attendance:`. Every site's node uploads a signed
// frame every 5 minutes over HTTP on loopback from 07:20 to 17:00 (none over lunch), and the
// roll book ticks on the service's clock, which the fixture moves (no sleeping).
//
// The frames carry their count as painted squares, which the stand-in detector counts
// (fake_detector.h), so that the day's count timeline is exactly the script:
// every site full all day (its expected attendees, less 0 to 2), except
//   tp-01  late start: a quarter of its attendees until 08:05
//   sh-01  offline: no frame from 09:00 to 09:45
//   pt-01  camera covered (and seeing nobody) from 14:00 to 14:25
//   td-01  early leave: a third of its attendees from 16:20
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "analysis/app/service.h"
#include "tests/support/test_support.h"

namespace att::testing {

// A local minute of the day: day_minute(7, 20) is 07:20.
constexpr int day_minute(int hour, int min) {
  return hour * 60 + min;
}

// What a site's camera shows at a local minute of the day.
struct DemoFrame {
  int people = 0;
  bool covered = false;
};

// The script above: the frame of `site` at local minute `m`, the day's `step`-th upload;
// none when no frame arrives.
std::optional<DemoFrame> demo_script(const Site& site, int m, int step);

class DemoDayTest : public ::testing::Test {
 protected:
  static constexpr int kStepMinutes = 5;
  static constexpr int kUploaders = 4;  // nodes uploading at once

  // The demo province's config with one day of its class, a data directory of its own, port
  // 0 and a window of one frame (frames come every 5 minutes here, not every 5 seconds).
  void SetUp() override;

  // A local minute of the day in UTC ms, from the day's midnight (the zone has no clock
  // change in the day: SetUp checks).
  std::int64_t at(int local_minute) const { return midnight_ + local_minute * 60'000LL; }

  // The service on `config` with the fixture's clock and the painted-heads detector.
  void start(const ServerConfig& config);
  void start() { start(config_); }

  // Every site's frame of this step (and, with heartbeats_, its heartbeat once an hour), by
  // kUploaders nodes at once; a 503 (the queue is full) is retried as a node does. Returns
  // the uploads that were not stored.
  std::vector<std::string> upload_step(int m, int step);

  // A frame painted with `people` heads, made once per count.
  const std::string& jpeg(int people);

  // The whole day: an upload step every 5 minutes (none over lunch, as nothing is expected
  // of the room), a tick after each, and one at 17:01 for the final report, which must not
  // come before.
  void run_day();

  TempDir dir_;
  ServerConfig config_;
  std::string date_;
  std::int64_t midnight_ = 0;
  std::atomic<std::int64_t> now_{0};
  std::unique_ptr<Service> service_;
  int port_ = 0;
  bool heartbeats_ = false;  // upload_step sends each site's heartbeat once an hour

 private:
  std::mutex jpeg_mu_;
  std::map<int, std::string> jpegs_;
};

}  // namespace att::testing
