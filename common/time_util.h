// Wall-clock helpers. Times cross the wire and the database as milliseconds since the Unix
// epoch, UTC; only the dashboard turns them into the province's local time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/error.h"

namespace att {

// Injected wherever a rule depends on the time, so tests can fix it.
using WallClock = std::function<std::int64_t()>;

std::int64_t now_ms();

// "2027-07-12T00:30:05.123Z"
std::string iso8601_utc(std::int64_t ms);

// The UTC instant (ms since epoch) of `minute` minutes after local midnight of `date`
// (YYYY-MM-DD) in the IANA zone `timezone` (e.g. "Asia/Ho_Chi_Minh"), from the system's
// zoneinfo through date/tz.h; a local time that a clock change skips or repeats takes its
// earliest instant. Fails on an unknown zone or a malformed date. Thread-safe: the process's
// TZ is never touched.
Result<std::int64_t> local_to_utc_ms(const std::string& timezone, const std::string& date,
                                     int minute);

}  // namespace att
