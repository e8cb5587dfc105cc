#include "common/time_util.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <mutex>

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
  // An unknown name would silently mean UTC to tzset(): check the zone file first.
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
  static std::mutex mu;
  std::lock_guard lock(mu);
  const char* old = std::getenv("TZ");
  const std::string saved = old ? old : "";
  ::setenv("TZ", timezone.c_str(), 1);
  ::tzset();
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  tm.tm_hour = minute / 60;
  tm.tm_min = minute % 60;
  tm.tm_isdst = -1;  // the zone's rules decide
  const std::time_t t = std::mktime(&tm);
  if (old) {
    ::setenv("TZ", saved.c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
  if (t == static_cast<std::time_t>(-1)) return fail("cannot place " + date + " in " + timezone);
  return static_cast<std::int64_t>(t) * 1000;
}

}  // namespace att
