#include "common/time_util.h"

#include <date/tz.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

namespace att {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string iso8601_utc(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  int millis = static_cast<int>(ms % 1000);
  if (millis < 0) {
    millis += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

Result<std::int64_t> local_to_utc_ms(const std::string& timezone, const std::string& date,
                                     int minute) {
  // Checked here first for a message that says where zones come from (and no path tricks).
  if (timezone.empty() || timezone.find("..") != std::string::npos || timezone.front() == '/' ||
      !std::filesystem::is_regular_file(std::filesystem::path("/usr/share/zoneinfo") / timezone)) {
    return fail("unknown time zone '" + timezone + "' (not in /usr/share/zoneinfo)");
  }
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (std::sscanf(date.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 ||
      d < 1 || d > 31) {
    return fail("'" + date + "' is not a date YYYY-MM-DD");
  }
  // The zone's rules from the system's zoneinfo (date/tz.h, built with USE_OS_TZDB), read once
  // and shared by every thread. A day past the month's end runs on into the next month.
  try {
    const date::time_zone* zone = date::locate_zone(timezone);
    const date::local_days first{date::year{y} / static_cast<unsigned>(m) / 1};
    const auto local = first + date::days{d - 1} + std::chrono::minutes{minute};
    const auto utc = zone->to_sys(local, date::choose::earliest);
    return std::chrono::duration_cast<std::chrono::milliseconds>(utc.time_since_epoch()).count();
  } catch (const std::exception& e) {
    return fail("cannot place " + date + " in " + timezone + ": " + e.what());
  }
}

}  // namespace att
