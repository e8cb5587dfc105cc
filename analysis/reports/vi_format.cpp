#include "analysis/reports/vi_format.h"

#include <cstdio>
#include <map>

namespace att {

std::string vi_number(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  std::string frac;
  if (auto dot = s.find('.'); dot != std::string::npos) {
    frac = "," + s.substr(dot + 1);
    s.resize(dot);
  }
  std::string sign;
  if (!s.empty() && s.front() == '-') {
    sign = "-";
    s.erase(0, 1);
  }
  std::string grouped;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) grouped += '.';
    grouped += s[i];
  }
  return sign + grouped + frac;
}

std::string vi_percent(double ratio) {
  return vi_number(ratio * 100, 1) + "%";
}

std::string vi_date(const std::string& iso) {
  if (iso.size() != 10) return iso;
  return iso.substr(8, 2) + "/" + iso.substr(5, 2) + "/" + iso.substr(0, 4);
}

std::string_view yes_no_vi(bool b) {
  return b ? "Có" : "Không";
}

std::string_view school_level_vi(SchoolLevel level) {
  switch (level) {
    case SchoolLevel::kPreschool:
      return "Mầm non";
    case SchoolLevel::kPrimary:
      return "Tiểu học";
    case SchoolLevel::kLowerSecondary:
      return "Trung học cơ sở";
    case SchoolLevel::kUpperSecondary:
      return "Trung học phổ thông và GDTX";
  }
  return "";
}

std::string period_vi(std::string_view period) {
  if (period == "morning") return "Sáng";
  if (period == "afternoon") return "Chiều";
  if (period == "evening") return "Tối";
  if (period == "night") return "Đêm";
  return std::string(period);
}

std::string_view alert_kind_vi(std::string_view kind) {
  if (kind == "under_attendance") return "Thiếu học viên";
  if (kind == "offline") return "Mất kết nối";
  if (kind == "camera_fault") return "Lỗi camera";
  if (kind == "count_disputed") return "Số đếm không khớp";
  if (kind == "late_start") return "Vào muộn";
  if (kind == "early_leave") return "Về sớm";
  return "Cảnh báo khác";
}

std::string_view counted_by_vi(CountedBy who) {
  return who == CountedBy::kNode ? "Tại điểm" : "Tại trung tâm";
}

std::string camera_problems_vi(const std::vector<std::string>& flags) {
  static const std::map<std::string_view, std::string_view> words = {
      {"dark", "Tối"},         {"covered", "Bị che"}, {"blurred", "Mờ"},
      {"frozen", "Đứng hình"}, {"moved", "Lệch góc"}, {"no_frames", "Không có hình"}};
  std::string out;
  for (const std::string& f : flags) {
    const auto it = words.find(f);
    out += (out.empty() ? "" : ", ") + (it == words.end() ? f : std::string(it->second));
  }
  return out;
}

std::string alert_end_vi(std::string_view why) {
  if (why == "frames arrive again") return "Hình ảnh gửi về trở lại";
  if (why == "count back to the threshold") return "Số học viên trở lại mức yêu cầu";
  if (why == "picture healthy again") return "Hình ảnh bình thường trở lại";
  if (why == "the period ended") return "Hết buổi học";
  if (why == "the counts agree again") return "Số đếm khớp trở lại";
  if (why == "the class has arrived") return "Học viên đã đến đủ mức yêu cầu";
  return std::string(why);
}

std::string period_title_vi(const std::string& date, const std::string& period) {
  std::string p = period_vi(period);
  if (p == "Sáng") p = "sáng";
  if (p == "Chiều") p = "chiều";
  if (p == "Tối") p = "tối";
  if (p == "Đêm") p = "đêm";
  return "Ngày " + vi_date(date) + " — buổi " + p;
}

}  // namespace att
