// Local times placed in UTC through the system's zoneinfo (common/time_util.h): a zone without
// clock changes, both kinds of clock change, bad zones and dates, and many threads at once
// (the process's TZ is never touched, so nothing else that reads it is disturbed).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <thread>
#include <vector>

#include "common/time_util.h"

namespace att {
namespace {

constexpr std::int64_t kHour = 3'600'000;

TEST(LocalToUtc, AsiaHoChiMinhIsSevenHoursAhead) {
  // 2027-07-12 00:00 UTC is 1 815 350 400 s after the epoch.
  EXPECT_EQ(local_to_utc_ms("Asia/Ho_Chi_Minh", "2027-07-12", 7 * 60 + 30).value(),
            1'815'350'400'000 + 30 * 60'000);
  EXPECT_EQ(local_to_utc_ms("Asia/Ho_Chi_Minh", "2027-07-12", 0).value(),
            1'815'350'400'000 - 7 * kHour);
  EXPECT_EQ(local_to_utc_ms("UTC", "2027-07-12", 0).value(), 1'815'350'400'000);
}

TEST(LocalToUtc, AClockChangeTakesTheEarliestInstant) {
  // Berlin, 2027-03-28: 02:00 CET became 03:00 CEST (01:00 UTC); 02:30 does not exist.
  const std::int64_t spring = local_to_utc_ms("Europe/Berlin", "2027-03-28", 0).value();
  EXPECT_EQ(local_to_utc_ms("Europe/Berlin", "2027-03-28", 150).value(), spring + 2 * kHour);
  EXPECT_EQ(local_to_utc_ms("Europe/Berlin", "2027-03-28", 180).value(), spring + 2 * kHour);
  // 2027-10-31: 03:00 CEST became 02:00 CET; 02:30 happens twice, first at 00:30 UTC.
  const std::int64_t autumn = local_to_utc_ms("Europe/Berlin", "2027-10-31", 0).value();
  EXPECT_EQ(local_to_utc_ms("Europe/Berlin", "2027-10-31", 150).value(),
            autumn + 2 * kHour + 30 * 60'000);
}

TEST(LocalToUtc, UnknownZonesAndBadDatesAreRefused) {
  EXPECT_EQ(local_to_utc_ms("Asia/Nowhere", "2027-07-12", 0).error().message,
            "unknown time zone 'Asia/Nowhere' (not in /usr/share/zoneinfo)");
  EXPECT_FALSE(local_to_utc_ms("../etc/passwd", "2027-07-12", 0));
  EXPECT_FALSE(local_to_utc_ms("", "2027-07-12", 0));
  EXPECT_EQ(local_to_utc_ms("UTC", "12/07/2027", 0).error().message,
            "'12/07/2027' is not a date YYYY-MM-DD");
  EXPECT_FALSE(local_to_utc_ms("UTC", "2027-13-01", 0));
  EXPECT_FALSE(local_to_utc_ms("UTC", "2027-07-12x", 0));
}

TEST(LocalToUtc, ManyThreadsAtOnceLeaveTheProcesssTimeZoneAlone) {
  // The process's own zone is New York; a thread formatting local times (as libjpeg's or
  // spdlog's callers may) must see New York's offset all along, while others place times
  // in Ho Chi Minh and Berlin. Switching TZ, even under a lock, would show it Asia's.
  ::setenv("TZ", "America/New_York", 1);
  ::tzset();
  const std::time_t july = 1'815'350'400;  // 2027-07-12 00:00 UTC: EDT, -4 h
  const std::int64_t want = local_to_utc_ms("Asia/Ho_Chi_Minh", "2027-07-12", 450).value();
  std::atomic<bool> done{false};
  std::atomic<int> wrong_offset{0}, wrong_result{0};
  std::thread reader([&] {
    while (!done) {
      std::tm tm{};
      localtime_r(&july, &tm);
      if (tm.tm_gmtoff != -4 * 3600) ++wrong_offset;
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        const char* zone = i % 2 ? "Europe/Berlin" : "Asia/Ho_Chi_Minh";
        const auto got = local_to_utc_ms(zone, "2027-07-12", 450);
        if (i % 2 == 0 && got != want) ++wrong_result;
      }
    });
  }
  for (auto& t : threads) t.join();
  done = true;
  reader.join();
  EXPECT_EQ(wrong_result, 0);
  EXPECT_EQ(wrong_offset, 0);
  EXPECT_STREQ(std::getenv("TZ"), "America/New_York");
  ::unsetenv("TZ");
  ::tzset();
}

}  // namespace
}  // namespace att
