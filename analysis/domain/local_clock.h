// Instants in the province's local time, for exports, reports and roll-call labels.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "analysis/domain/province.h"
#include "common/error.h"

namespace att {

// Formats UTC instants in the province's time without touching the process's TZ, so that it
// can be used from any thread. Its UTC offsets are worked out once, when it is made, for
// each date given: offset(date) = date's midnight read as UTC - local_to_utc_ms(zone, date,
// 0). An instant takes the offset of the latest given date whose local midnight is at or
// before it (the first date's for earlier instants). This is exact for a zone whose offset
// does not change within a day, as Asia/Ho_Chi_Minh (UTC+7, no daylight saving since 1975).
class LocalClock {
 public:
  // Fails on an unknown zone, a malformed date or no dates.
  static Result<LocalClock> make(const std::string& timezone,
                                 const std::vector<std::string>& dates);
  // With the class days of `schedule`.
  static Result<LocalClock> for_schedule(const Schedule& schedule);

  std::string date(std::int64_t utc_ms) const;  // "2027-07-12"
  // "07:45", or "07:45:09" with seconds.
  std::string time(std::int64_t utc_ms, bool seconds = false) const;
  std::string date_time(std::int64_t utc_ms) const;  // "2027-07-12 07:45"
  std::int64_t offset_ms(std::int64_t utc_ms) const;
  const std::string& timezone() const { return timezone_; }

 private:
  std::string timezone_;
  std::vector<std::pair<std::int64_t, std::int64_t>> offsets_;  // local midnight (UTC), offset
};

}  // namespace att
