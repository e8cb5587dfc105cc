#include "analysis/domain/local_clock.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>

#include "common/time_util.h"

namespace att {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;

// Days since the epoch of a strict YYYY-MM-DD, or none.
std::optional<std::int64_t> epoch_days(const std::string& date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (date[i] < '0' || date[i] > '9') return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day ymd{year{std::stoi(date.substr(0, 4))},
                           month{static_cast<unsigned>(std::stoi(date.substr(5, 2)))},
                           day{static_cast<unsigned>(std::stoi(date.substr(8, 2)))}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd}.time_since_epoch().count();
}

}  // namespace

Result<LocalClock> LocalClock::make(const std::string& timezone,
                                    const std::vector<std::string>& dates) {
  if (dates.empty()) return fail("no dates to work out the UTC offset of " + timezone + " for");
  LocalClock clock;
  clock.timezone_ = timezone;
  std::map<std::int64_t, std::int64_t> offsets;
  for (const std::string& date : dates) {
    const auto days = epoch_days(date);
    if (!days) return fail("'" + date + "' is not a date YYYY-MM-DD");
    auto midnight = local_to_utc_ms(timezone, date, 0);
    if (!midnight) return std::unexpected(midnight.error());
    offsets[*midnight] = *days * kDayMs - *midnight;
  }
  clock.offsets_.assign(offsets.begin(), offsets.end());
  return clock;
}

Result<LocalClock> LocalClock::for_schedule(const Schedule& schedule) {
  std::vector<std::string> dates;
  for (const ClassDay& day : schedule.days) dates.push_back(day.date);
  return make(schedule.timezone, dates);
}

std::int64_t LocalClock::offset_ms(std::int64_t utc_ms) const {
  if (offsets_.empty()) return 0;
  auto it = std::upper_bound(offsets_.begin(), offsets_.end(), utc_ms,
                             [](std::int64_t t, const auto& o) { return t < o.first; });
  return it == offsets_.begin() ? offsets_.front().second : std::prev(it)->second;
}

namespace {

struct Civil {
  int year = 0;
  unsigned month = 0, day = 0;
  long hour = 0, minute = 0, second = 0;
};

Civil civil(std::int64_t local_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> tp{milliseconds{local_ms}};
  const auto dp = floor<days>(tp);
  const year_month_day ymd{dp};
  const hh_mm_ss hms{floor<seconds>(tp - dp)};
  return {static_cast<int>(ymd.year()),
          static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day()),
          static_cast<long>(hms.hours().count()),
          static_cast<long>(hms.minutes().count()),
          static_cast<long>(hms.seconds().count())};
}

}  // namespace

std::string LocalClock::date(std::int64_t utc_ms) const {
  const Civil c = civil(utc_ms + offset_ms(utc_ms));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.year, c.month, c.day);
  return buf;
}

std::string LocalClock::time(std::int64_t utc_ms, bool seconds) const {
  const Civil c = civil(utc_ms + offset_ms(utc_ms));
  char buf[32];
  if (seconds) {
    std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", c.hour, c.minute, c.second);
  } else {
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", c.hour, c.minute);
  }
  return buf;
}

std::string LocalClock::date_time(std::int64_t utc_ms) const {
  return date(utc_ms) + " " + time(utc_ms);
}

}  // namespace att
