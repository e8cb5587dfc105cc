// Vietnamese as the exports and the printable reports write it: numbers with a decimal comma
// and dots between thousands, dates DD/MM/YYYY, and the words for the codes the records keep
// (school levels, periods, alert kinds, the roll book's reasons for ending an alert).
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analysis/domain/observation_store.h"
#include "analysis/domain/province.h"

namespace att {

// --- Numbers and dates -----------------------------------------------------------------------

std::string vi_number(double v, int decimals = 0);  // 1234.5, 1 -> "1.234,5"
std::string vi_percent(double ratio);               // 0.8667 -> "86,7%" (always one decimal)
std::string vi_date(const std::string& iso);        // "2027-07-12" -> "12/07/2027"; else as given
std::string_view yes_no_vi(bool b);                 // "Có" / "Không"

// --- Labels ----------------------------------------------------------------------------------

std::string_view school_level_vi(SchoolLevel level);    // "Trung học cơ sở"
std::string period_vi(std::string_view period);         // "morning" -> "Sáng"; unknown as given
std::string_view alert_kind_vi(std::string_view kind);  // "offline" -> "Mất kết nối"
std::string_view counted_by_vi(CountedBy who);          // kNode -> "Tại điểm"
std::string alert_end_vi(std::string_view why);         // the roll book's reasons; unknown as given
// A set-aside count's reason: a camera's health flags ({"covered", "frozen"} -> "Bị che, Đứng
// hình"); unknown ones as given.
std::string camera_problems_vi(const std::vector<std::string>& flags);

// A period as a heading: ("2027-07-12", "morning") -> "Ngày 12/07/2027 — buổi sáng".
std::string period_title_vi(const std::string& date, const std::string& period);

}  // namespace att
