// Wall-clock helpers. Times cross the wire and the database as milliseconds since the Unix
// epoch, UTC; only the dashboard turns them into the province's local time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace att {

// Injected wherever a rule depends on the time, so tests can fix it.
using WallClock = std::function<std::int64_t()>;

std::int64_t now_ms();

// "2027-07-12T00:30:05.123Z"
std::string iso8601_utc(std::int64_t ms);

}  // namespace att
