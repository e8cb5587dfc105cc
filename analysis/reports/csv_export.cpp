#include "analysis/reports/csv_export.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>

#include "analysis/domain/rollup.h"
#include "analysis/reports/ledger_rows.h"
#include "analysis/reports/vi_format.h"
#include "common/csv.h"

namespace att {

namespace {

// A number with a decimal point whatever the locale ("86.7").
std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Rate as percent ("86.7"); "" when there is nothing to rate against.
std::string percent_csv(std::optional<int> counted, int expected) {
  if (!counted || expected <= 0) return "";
  return fixed(100.0 * *counted / expected, 1);
}

}  // namespace

std::string roll_calls_csv(const std::vector<Site>& sites, const LedgerExtract& records,
                           const LocalClock& clock) {
  const SiteIndex index(sites);
  std::vector<const LedgerExtract::Call*> calls;
  for (const auto& c : records.roll_calls) {
    if (index.find(c.roll_call.site_id)) calls.push_back(&c);
  }
  std::stable_sort(calls.begin(), calls.end(), [&](const auto* a, const auto* b) {
    return std::tuple(index.order(a->roll_call.site_id), a->roll_call.scheduled_ms) <
           std::tuple(index.order(b->roll_call.site_id), b->roll_call.scheduled_ms);
  });
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"Mã điểm",
                  "Tên điểm",
                  "Huyện/Thành phố",
                  "Cấp học",
                  "Ngày",
                  "Buổi",
                  "Giờ điểm danh",
                  "Giờ chụp ảnh",
                  "Số dự kiến",
                  "Số đếm được",
                  "Tỉ lệ (%)",
                  "Tệp ảnh minh chứng",
                  "SHA-256 ảnh",
                  "Ghi chú",
                  "Mục sổ",
                  "Số đếm khi điểm danh",
                  "Người hiệu chỉnh",
                  "Lý do hiệu chỉnh",
                  "Mục sổ hiệu chỉnh",
                  "Nơi đếm",
                  "Số đếm trên ảnh tại điểm",
                  "Số đếm kiểm tra tại trung tâm",
                  "Số người đếm trên ảnh (kiểm tra viên)",
                  "Số ước tính (hiệu chỉnh của điểm)"});
  const std::map<std::string, SiteCalibration> calibrations = site_calibrations(records);
  for (const auto* c : calls) {
    const RollCall& r = c->roll_call;
    const Site& site = *index.find(r.site_id);
    const bool framed = has_frame(r);
    std::string note;
    if (!framed) {
      note = "Không có hình để đếm";
    } else if (r.evidence_path.empty()) {
      note = "Không lưu được ảnh minh chứng";
    }
    if (!r.standing() && r.counted) {
      note += (note.empty() ? "" : "; ") + std::string("Số đếm bị gác lại, camera: ") +
              camera_problems_vi(r.set_aside);
    }
    rows.push_back(
        {r.site_id,
         site.name,
         site.district,
         std::string(school_level_vi(site.level)),
         r.date,
         period_vi(r.period),
         r.label,
         framed ? clock.time(r.captured_at_ms, /*seconds=*/true) : "",
         std::to_string(r.expected),
         r.counted ? std::to_string(*r.counted) : "",
         percent_csv(r.standing(), r.expected),
         r.evidence_path,
         r.evidence_sha256,
         note,
         seq_text(c->seq),
         c->corrected && c->counted_as_taken ? std::to_string(*c->counted_as_taken) : "",
         c->corrected ? c->corrected_by : "",
         c->corrected ? c->correction_reason : "",
         seq_text(c->correction_seq),
         framed ? std::string(counted_by_vi(r.counted_by)) : "",
         r.evidence_count ? std::to_string(*r.evidence_count) : "",
         r.audit_count ? std::to_string(*r.audit_count) : "",
         c->check ? std::to_string(c->check->people()) : "",
         estimated(calibrations, *c) ? std::to_string(*estimated(calibrations, *c)) : ""});
  }
  return csv_document(rows);
}

std::string alerts_csv(const std::vector<Site>& sites, const LedgerExtract& records,
                       const LocalClock& clock) {
  const SiteIndex index(sites);
  std::vector<const LedgerExtract::Alert*> alerts;
  for (const auto& a : records.alerts) {
    if (index.find(a.site_id)) alerts.push_back(&a);
  }
  std::stable_sort(alerts.begin(), alerts.end(), [&](const auto* a, const auto* b) {
    return std::tuple(index.order(a->site_id), a->started_ms) <
           std::tuple(index.order(b->site_id), b->started_ms);
  });
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"Mã điểm", "Tên điểm", "Huyện/Thành phố", "Loại cảnh báo", "Mã loại", "Bắt đầu",
                  "Kết thúc", "Số phút", "Trạng thái", "Lý do kết thúc", "Tệp ảnh minh chứng",
                  "SHA-256 ảnh", "Mục sổ mở", "Mục sổ đóng", "Số đếm",
                  "Số đếm kiểm tra tại trung tâm"});
  for (const auto* a : alerts) {
    const Site& site = *index.find(a->site_id);
    rows.push_back(
        {a->site_id, site.name, site.district, std::string(alert_kind_vi(a->kind)), a->kind,
         clock.date_time(a->started_ms), a->ended_ms ? clock.date_time(*a->ended_ms) : "",
         a->ended_ms ? fixed(a->minutes, 1) : "", a->ended_ms ? "Đã kết thúc" : "Đang mở",
         alert_end_vi(a->why_ended), a->evidence_path, a->evidence_sha256, seq_text(a->opened_seq),
         seq_text(a->closed_seq), a->count ? std::to_string(*a->count) : "",
         a->audit_count ? std::to_string(*a->audit_count) : ""});
  }
  return csv_document(rows);
}

std::string summaries_csv(const std::vector<Site>& sites, const LedgerExtract& records) {
  const SiteIndex index(sites);
  std::vector<const LedgerExtract::Summary*> summaries;
  for (const auto& s : records.summaries) {
    if (index.find(s.summary.site_id)) summaries.push_back(&s);
  }
  std::stable_sort(summaries.begin(), summaries.end(), [&](const auto* a, const auto* b) {
    return std::tuple(index.order(a->summary.site_id), a->at_ms) <
           std::tuple(index.order(b->summary.site_id), b->at_ms);
  });
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"Mã điểm", "Tên điểm", "Huyện/Thành phố", "Ngày", "Buổi", "Số dự kiến",
                  "Số khung hình", "Cao nhất", "Trung vị", "Thấp nhất", "Tỉ lệ (%)", "Vào lớp muộn",
                  "Ra về sớm", "Người-phút có mặt", "Số phút có hình", "Mục sổ"});
  for (const auto* p : summaries) {
    const PeriodSummary& s = p->summary;
    const Site& site = *index.find(s.site_id);
    // A period without a frame has no count, rate or late/early fact: empty, never 0 or "Không".
    const bool framed = s.frames > 0;
    const auto when_framed = [framed](std::string v) { return framed ? v : std::string(); };
    rows.push_back(
        {s.site_id, site.name, site.district, s.date, period_vi(s.period),
         std::to_string(s.expected), std::to_string(s.frames), when_framed(std::to_string(s.peak)),
         when_framed(std::to_string(s.median)), when_framed(std::to_string(s.minimum)),
         when_framed(s.expected > 0 ? fixed(s.attendance_rate * 100, 1) : ""),
         when_framed(std::string(yes_no_vi(s.late_start))),
         when_framed(std::string(yes_no_vi(s.early_leave))), fixed(s.present_person_minutes, 1),
         fixed(s.covered_minutes, 1), seq_text(p->seq)});
  }
  return csv_document(rows);
}

namespace {

// (date, period) of the summaries, in time.
std::vector<std::pair<std::string, std::string>> summary_periods(const LedgerExtract& records) {
  std::map<std::pair<std::string, std::string>, std::int64_t> end;
  for (const auto& s : records.summaries) {
    auto [it, fresh] = end.try_emplace({s.summary.date, s.summary.period}, s.at_ms);
    if (!fresh) it->second = std::min(it->second, s.at_ms);
  }
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& [k, ms] : end) keys.push_back(k);
  std::stable_sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
    return std::tuple(a.first, end[a]) < std::tuple(b.first, end[b]);
  });
  return keys;
}

std::string level_group_vi(const std::string& code) {
  auto level = parse_school_level(code);
  return level ? std::string(school_level_vi(*level)) : code;
}

}  // namespace

std::string rollups_csv(const std::vector<Site>& sites, const LedgerExtract& records,
                        double under_fraction) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"Ngày", "Buổi", "Loại nhóm", "Nhóm", "Số điểm", "Số điểm có số đếm",
                  "Số điểm thiếu người", "Số dự kiến", "Số dự kiến (điểm có số đếm)", "Số đếm được",
                  "Tỉ lệ (%)"});
  const auto add = [&](const std::string& date, const std::string& period, const Rollup& r) {
    const auto row = [&](const std::string& kind, const std::string& group, const RollupRow& x) {
      rows.push_back({date, period, kind, group, std::to_string(x.sites),
                      std::to_string(x.sites_counted), std::to_string(x.sites_short),
                      std::to_string(x.expected), std::to_string(x.expected_counted),
                      std::to_string(x.counted),
                      x.expected_counted > 0 ? fixed(x.rate() * 100, 1) : ""});
    };
    for (const auto& d : r.by_district) row("Huyện/Thành phố", d.group, d);
    for (const auto& l : r.by_level) row("Cấp học", level_group_vi(l.group), l);
    row("Tổng", "Tất cả các điểm", r.province);
  };
  const std::vector<PeriodSummary> summaries = period_summaries(records);
  for (const auto& [date, period] : summary_periods(records)) {
    add(date, period_vi(period), period_rollup(sites, summaries, date, period, under_fraction));
  }
  add("", "Cả khoá", class_rollup(sites, summaries, under_fraction));
  return csv_document(rows);
}

namespace {

// The next code point of UTF-8 `s` from `at` (advanced past it); U+FFFD for a bad sequence.
char32_t next_code_point(std::string_view s, size_t& at) {
  const auto b = static_cast<unsigned char>(s[at++]);
  int more = b < 0x80 ? 0 : (b >> 5) == 0x6 ? 1 : (b >> 4) == 0xE ? 2 : (b >> 3) == 0x1E ? 3 : -1;
  if (more < 0) return 0xFFFD;
  char32_t c = more == 0 ? b : more == 1 ? (b & 0x1F) : more == 2 ? (b & 0x0F) : (b & 0x07);
  for (; more > 0; --more) {
    if (at >= s.size() || (static_cast<unsigned char>(s[at]) >> 6) != 0x2) return 0xFFFD;
    c = (c << 6) | (static_cast<unsigned char>(s[at++]) & 0x3F);
  }
  return c;
}

// The ASCII letter a Vietnamese letter is written with, without its marks; 0 for none.
char vietnamese_base(char32_t c) {
  static const std::pair<char, std::string_view> kGroups[] = {
      {'a', "àáạảãâầấậẩẫăằắặẳẵÀÁẠẢÃÂẦẤẬẨẪĂẰẮẶẲẴ"},
      {'e', "èéẹẻẽêềếệểễÈÉẸẺẼÊỀẾỆỂỄ"},
      {'i', "ìíịỉĩÌÍỊỈĨ"},
      {'o', "òóọỏõôồốộổỗơờớợởỡÒÓỌỎÕÔỒỐỘỔỖƠỜỚỢỞỠ"},
      {'u', "ùúụủũưừứựửữÙÚỤỦŨƯỪỨỰỬỮ"},
      {'y', "ỳýỵỷỹỲÝỴỶỸ"},
      {'d', "đĐ"}};
  for (const auto& [base, letters] : kGroups) {
    for (size_t at = 0; at < letters.size();) {
      if (next_code_point(letters, at) == c) return base;
    }
  }
  return 0;
}

// "Tam Đường" -> "tam-duong": lower-case ASCII letters and digits, '-' between words.
std::string ascii_slug(std::string_view text) {
  std::string out;
  for (size_t at = 0; at < text.size() && out.size() < 48;) {
    const char32_t c = next_code_point(text, at);
    char a = 0;
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      a = static_cast<char>(c);
    } else if (c >= 'A' && c <= 'Z') {
      a = static_cast<char>(c - 'A' + 'a');
    } else {
      a = vietnamese_base(c);
    }
    if (a) {
      out += a;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

}  // namespace

std::string export_file_name(std::string_view table, std::string_view site,
                             std::string_view district, std::string_view date) {
  const std::string_view what = table == "roll-calls"  ? "diem-danh"
                                : table == "alerts"    ? "canh-bao"
                                : table == "summaries" ? "cac-buoi"
                                : table == "rollups"   ? "tong-hop"
                                                       : "du-lieu";
  std::string scope = ascii_slug(!site.empty() ? site : district);
  if (scope.empty()) scope = "toan-tinh";
  std::string name = std::string(what) + "_" + scope;
  if (const std::string day = ascii_slug(date); !day.empty()) name += "_" + day;
  return name + ".csv";
}

}  // namespace att
