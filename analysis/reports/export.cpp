#include "analysis/reports/export.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <span>
#include <tuple>

#include "analysis/domain/rollup.h"
#include "common/encoding.h"
#include "common/files.h"
#include "common/sha256.h"
#include "common/time_util.h"
#include "counting/jpeg.h"

namespace att {

using nlohmann::json;

namespace {

constexpr std::int64_t kMaxEvidencePixels = 40'000'000;

// --- small formatting helpers ----------------------------------------------------------------

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Rate as percent for CSV ("86.7"); "" when there is nothing to rate against.
std::string percent_csv(std::optional<int> counted, int expected) {
  if (!counted || expected <= 0) return "";
  return fixed(100.0 * *counted / expected, 1);
}

// Vietnamese number: decimal comma, thousands separated by dots ("1.234,5").
std::string vi_number(double v, int decimals = 0) {
  std::string s = fixed(v, decimals);
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

// "2027-07-12" -> "12/07/2027"
std::string vi_date(const std::string& iso) {
  if (iso.size() != 10) return iso;
  return iso.substr(8, 2) + "/" + iso.substr(5, 2) + "/" + iso.substr(0, 4);
}

std::string esc(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Sites by id with their position in the list, for ordering rows as organizers list them.
struct SiteIndex {
  std::map<std::string, std::pair<size_t, const Site*>> by_id;
  explicit SiteIndex(const std::vector<Site>& sites) {
    for (size_t i = 0; i < sites.size(); ++i) by_id.try_emplace(sites[i].id, i, &sites[i]);
  }
  const Site* find(const std::string& id) const {
    auto it = by_id.find(id);
    return it == by_id.end() ? nullptr : it->second.second;
  }
  size_t order(const std::string& id) const {
    auto it = by_id.find(id);
    return it == by_id.end() ? by_id.size() : it->second.first;
  }
};

std::string yes_no(bool b) {
  return b ? "Có" : "Không";
}

std::string seq_text(std::int64_t seq) {
  return seq > 0 ? std::to_string(seq) : "";
}

std::vector<PeriodSummary> summaries_of(const LedgerExtract& records) {
  std::vector<PeriodSummary> out;
  for (const auto& s : records.summaries) out.push_back(s.summary);
  return out;
}

}  // namespace

// --- Vietnamese labels -----------------------------------------------------------------------

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
  return std::string(period);
}

std::string_view alert_kind_vi(std::string_view kind) {
  if (kind == "under_attendance") return "Thiếu học viên";
  if (kind == "offline") return "Mất kết nối";
  if (kind == "camera_fault") return "Lỗi camera";
  return "Cảnh báo khác";
}

std::string alert_end_vi(std::string_view why) {
  if (why == "frames arrive again") return "Hình ảnh gửi về trở lại";
  if (why == "count back to the threshold") return "Số học viên trở lại mức yêu cầu";
  if (why == "picture healthy again") return "Hình ảnh bình thường trở lại";
  if (why == "the period ended") return "Hết buổi học";
  return std::string(why);
}

// --- CSV exports -----------------------------------------------------------------------------

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
  rows.push_back({"Mã điểm", "Tên điểm", "Huyện/Thành phố", "Cấp học", "Ngày", "Buổi",
                  "Giờ điểm danh", "Giờ chụp ảnh", "Số dự kiến", "Số đếm được", "Tỉ lệ (%)",
                  "Tệp ảnh minh chứng", "SHA-256 ảnh", "Ghi chú", "Mục sổ", "Số đếm khi điểm danh",
                  "Người hiệu chỉnh", "Lý do hiệu chỉnh", "Mục sổ hiệu chỉnh"});
  for (const auto* c : calls) {
    const RollCall& r = c->roll_call;
    const Site& site = *index.find(r.site_id);
    const bool has_frame = r.sequence >= 0 && r.captured_at_ms > 0;
    std::string note;
    if (!has_frame) {
      note = "Không có hình để đếm";
    } else if (r.evidence_path.empty()) {
      note = "Không lưu được ảnh minh chứng";
    }
    rows.push_back({r.site_id, site.name, site.district, std::string(school_level_vi(site.level)),
                    r.date, period_vi(r.period), r.label,
                    has_frame ? clock.time(r.captured_at_ms, /*seconds=*/true) : "",
                    std::to_string(r.expected), r.counted ? std::to_string(*r.counted) : "",
                    percent_csv(r.counted, r.expected), r.evidence_path, r.evidence_sha256, note,
                    seq_text(c->seq),
                    c->corrected && c->counted_as_taken ? std::to_string(*c->counted_as_taken) : "",
                    c->corrected ? c->corrected_by : "", c->corrected ? c->correction_reason : "",
                    seq_text(c->correction_seq)});
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
                  "SHA-256 ảnh", "Mục sổ mở", "Mục sổ đóng"});
  for (const auto* a : alerts) {
    const Site& site = *index.find(a->site_id);
    rows.push_back(
        {a->site_id, site.name, site.district, std::string(alert_kind_vi(a->kind)), a->kind,
         clock.date_time(a->started_ms), a->ended_ms ? clock.date_time(*a->ended_ms) : "",
         a->ended_ms ? fixed(a->minutes, 1) : "", a->ended_ms ? "Đã kết thúc" : "Đang mở",
         alert_end_vi(a->why_ended), a->evidence_path, a->evidence_sha256, seq_text(a->opened_seq),
         seq_text(a->closed_seq)});
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
    rows.push_back({s.site_id, site.name, site.district, s.date, period_vi(s.period),
                    std::to_string(s.expected), std::to_string(s.frames), std::to_string(s.peak),
                    std::to_string(s.median), std::to_string(s.minimum),
                    fixed(s.attendance_rate * 100, 1), yes_no(s.late_start), yes_no(s.early_leave),
                    fixed(s.present_person_minutes, 1), fixed(s.covered_minutes, 1),
                    seq_text(p->seq)});
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
  const std::vector<PeriodSummary> summaries = summaries_of(records);
  for (const auto& [date, period] : summary_periods(records)) {
    add(date, period_vi(period), period_rollup(sites, summaries, date, period, under_fraction));
  }
  add("", "Cả khoá", class_rollup(sites, summaries, under_fraction));
  return csv_document(rows);
}

// --- Printable reports -----------------------------------------------------------------------

Result<std::string> thumbnail_jpeg(std::string_view jpeg, int max_width, int quality) {
  const std::span<const unsigned char> bytes(reinterpret_cast<const unsigned char*>(jpeg.data()),
                                             jpeg.size());
  auto image = decode_jpeg(bytes, kMaxEvidencePixels);
  if (!image) return std::unexpected(image.error());
  cv::Mat small = *image;
  max_width = std::max(1, max_width);
  if (image->cols > max_width) {
    const int height = std::max(1, static_cast<int>(std::lround(static_cast<double>(image->rows) *
                                                                max_width / image->cols)));
    cv::resize(*image, small, cv::Size(max_width, height), 0, 0, cv::INTER_AREA);
  }
  const auto encoded = encode_jpeg(small, quality);
  if (encoded.empty()) return fail("cannot encode the thumbnail");
  return std::string(encoded.begin(), encoded.end());
}

namespace {

constexpr char kStyle[] = R"css(
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans", "DejaVu Sans", "Segoe UI", Arial, sans-serif; font-size: 10pt;
  line-height: 1.35; color: #000; background: #fff; margin: 0 auto; max-width: 190mm; }
h1 { font-size: 15pt; text-align: center; text-transform: uppercase; margin: 4pt 0 2pt; }
p.sub { text-align: center; margin: 0 0 10pt; }
h2 { font-size: 12pt; margin: 14pt 0 4pt; border-bottom: 1px solid #000; }
h3 { font-size: 10.5pt; margin: 8pt 0 3pt; }
h2, h3 { break-after: avoid; page-break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 2pt 0 6pt; }
th, td { border: 1px solid #555; padding: 2pt 4pt; text-align: left; vertical-align: top; }
th { background: #eee; font-weight: bold; font-size: 9pt; }
th.n { text-align: right; }
td.n { text-align: right; white-space: nowrap; }
.note { display: block; white-space: normal; text-align: left; font-size: 8.5pt; }
table.info th { width: 32%; }
thead { display: table-header-group; }
tr, figure, .keep, .sign { break-inside: avoid; page-break-inside: avoid; }
section.day + section.day { break-before: page; page-break-before: always; }
figure.ev { display: inline-block; margin: 0 4pt 4pt 0; width: 60mm; vertical-align: top; }
figure.ev img { display: block; width: 100%; height: auto; border: 1px solid #999; }
td figure.ev { width: 48mm; margin: 0; }
figcaption { font-size: 8.5pt; }
.warn { color: #b00000; font-weight: bold; }
.none { color: #444; font-style: italic; }
.small { font-size: 8.5pt; }
code { font-family: "DejaVu Sans Mono", "Consolas", monospace; font-size: 8.5pt;
  word-break: break-all; }
footer { margin-top: 14pt; border-top: 1px solid #000; padding-top: 6pt; font-size: 9pt; }
.place { text-align: right; font-style: italic; margin-top: 10pt; }
.sign { display: flex; justify-content: space-around; text-align: center; margin-top: 4pt; }
.sign > div { width: 45%; }
.sign .space { height: 24mm; }
@media screen { body { padding: 10mm; } }
@media print {
  body { max-width: none; }
  th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
)css";

std::string page_start(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         esc(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
}

// An evidence picture for a report: its thumbnail, or why there is none.
struct Evidence {
  std::string data_uri;  // "" when none
  std::string problem;   // Vietnamese; "" when the picture is there and matches
  bool mismatch = false;
};

Evidence load_evidence(const ReportOptions& options, const std::string& relative,
                       const std::string& sha256) {
  Evidence ev;
  if (relative.empty()) {
    ev.problem = "Không có ảnh minh chứng";
    return ev;
  }
  const std::filesystem::path rel(relative);
  bool unsafe = rel.is_absolute();
  for (const auto& part : rel) unsafe = unsafe || part == "..";
  if (unsafe) {
    ev.problem = "Đường dẫn ảnh minh chứng không hợp lệ";
    return ev;
  }
  auto bytes = read_file(options.data_dir / rel);
  if (!bytes) {
    ev.problem = "Không tìm thấy tệp ảnh minh chứng";
    return ev;
  }
  if (sha256_hex(*bytes) != sha256) {
    ev.mismatch = true;
    ev.problem = "Ảnh không khớp mã SHA-256 đã ghi trong sổ: tệp đã bị thay đổi";
  }
  auto thumb = thumbnail_jpeg(*bytes, options.thumbnail_width, options.thumbnail_quality);
  if (!thumb) {
    ev.problem = ev.mismatch ? ev.problem : "Tệp ảnh minh chứng bị hỏng";
    return ev;
  }
  ev.data_uri = "data:image/jpeg;base64," + base64(*thumb);
  return ev;
}

std::string count_text(const std::optional<int>& counted, int expected) {
  return (counted ? std::to_string(*counted) : std::string("—")) + "/" + std::to_string(expected);
}

// A thumbnail with its caption: `heading` (time, or period and time), count/expected and the
// first 12 hex digits of the SHA-256.
std::string figure_html(const ReportOptions& options, const std::string& heading,
                        const std::string& path, const std::string& sha256,
                        const std::optional<int>& counted, int expected) {
  const Evidence ev = load_evidence(options, path, sha256);
  std::string caption = esc(heading) + " · " + esc(count_text(counted, expected));
  if (!sha256.empty()) caption += " · SHA-256 " + esc(sha256.substr(0, 12));
  std::string out = "<figure class=\"ev\">";
  if (!ev.data_uri.empty()) {
    out += "<img src=\"" + ev.data_uri + "\" alt=\"Ảnh minh chứng " + esc(heading) + "\">";
  }
  out += "<figcaption>" + caption;
  if (!ev.problem.empty()) {
    out += "<br><span class=\"" + std::string(ev.mismatch ? "warn" : "none") + "\">" +
           esc(ev.problem) + "</span>";
  }
  out += "</figcaption></figure>";
  return out;
}

// The periods to show: the schedule's, then any found only in the records, in time.
struct PeriodKey {
  std::string date, period;
  std::int64_t order_ms = 0;
  const PeriodSlot* slot = nullptr;
};

std::vector<PeriodKey> periods_of(const ReportOptions& options, const LedgerExtract& records,
                                  const std::set<std::string>& site_ids) {
  std::map<std::pair<std::string, std::string>, PeriodKey> keys;
  for (const PeriodSlot& slot : options.slots) {
    keys[{slot.date, slot.period}] = {slot.date, slot.period, slot.start_ms, &slot};
  }
  const auto seen = [&](const std::string& date, const std::string& period, std::int64_t ms) {
    auto [it, fresh] = keys.try_emplace({date, period}, PeriodKey{date, period, ms, nullptr});
    if (!fresh && !it->second.slot) it->second.order_ms = std::min(it->second.order_ms, ms);
  };
  for (const auto& c : records.roll_calls) {
    if (site_ids.contains(c.roll_call.site_id))
      seen(c.roll_call.date, c.roll_call.period, c.roll_call.scheduled_ms);
  }
  for (const auto& s : records.summaries) {
    if (site_ids.contains(s.summary.site_id)) seen(s.summary.date, s.summary.period, s.at_ms);
  }
  std::vector<PeriodKey> out;
  for (auto& [k, v] : keys) out.push_back(v);
  std::stable_sort(out.begin(), out.end(), [](const PeriodKey& a, const PeriodKey& b) {
    return std::tuple(a.date, a.order_ms) < std::tuple(b.date, b.order_ms);
  });
  return out;
}

// The scheduled period an alert started in, or none.
const PeriodSlot* slot_of(const ReportOptions& options, std::int64_t t) {
  for (const PeriodSlot& slot : options.slots) {
    if (t >= slot.start_ms && t < slot.end_ms) return &slot;
  }
  return nullptr;
}

// "Ngày 12/07/2027 — buổi sáng"
std::string period_title(const std::string& date, const std::string& period) {
  std::string p = period_vi(period);
  if (p == "Sáng") p = "sáng";
  if (p == "Chiều") p = "chiều";
  if (p == "Tối") p = "tối";
  return "Ngày " + vi_date(date) + " — buổi " + p;
}

std::string footer_html(const LedgerExtract& records, const LocalClock& clock,
                        const ReportOptions& options) {
  const std::int64_t t = options.generated_at_ms;
  std::string out = "<footer>\n<p>Lập lúc " + vi_date(clock.date(t)) + " " + clock.time(t) +
                    " (giờ địa phương, múi giờ " + esc(clock.timezone()) + ")";
  if (!options.generated_by.empty()) out += "; người xuất: " + esc(options.generated_by);
  out += ".</p>\n";
  if (records.entries == 0) {
    out += "<p>Sổ điểm danh chưa có mục nào.</p>\n";
  } else {
    const std::string last = std::to_string(records.last_seq);
    out += "<p>Số liệu lấy từ sổ điểm danh: các mục số " + std::to_string(records.first_seq) +
           " đến " + last + " (" + std::to_string(records.entries) +
           " mục). Mã băm SHA-256 của mục số " + last + ": <code>" + esc(records.last_hash) +
           "</code>.</p>\n";
    out +=
        "<p class=\"small\">Sổ điểm danh được nối chuỗi bằng mã băm: mỗi mục gắn với mục trước "
        "nó, nên không thể sửa, xoá hay chèn một mục mà không bị phát hiện. Để kiểm tra, chạy "
        "lệnh <code>attendance-server verify</code> trên cơ sở dữ liệu (phải báo sổ nguyên vẹn) "
        "và đối chiếu mã băm trên với mục số " +
        last +
        " trong cơ sở dữ liệu hoặc với dòng <code>ledger</code> của tệp <code>ledger.head</code> "
        "nếu sổ chưa ghi thêm. Cột “Mục sổ” cho biết mỗi số liệu lấy từ mục nào; mã SHA-256 "
        "dưới mỗi ảnh là của tệp ảnh minh chứng gốc.</p>\n";
  }
  out +=
      "<div class=\"keep\"><p class=\"place\">……………, ngày …… tháng …… năm ………</p>\n"
      "<div class=\"sign\"><div><b>Người lập biểu</b><br><i>(Ký, ghi rõ họ tên)</i>"
      "<div class=\"space\"></div></div><div><b>Người kiểm tra</b><br>"
      "<i>(Ký, ghi rõ họ tên)</i><div class=\"space\"></div></div></div></div>\n</footer>\n";
  return out;
}

std::string rate_text(const std::optional<int>& counted, int expected) {
  if (!counted || expected <= 0) return "—";
  return vi_percent(static_cast<double>(*counted) / expected);
}

}  // namespace

Result<std::string> site_report_html(const std::vector<Site>& sites, const std::string& site_id,
                                     const LedgerExtract& records, const LocalClock& clock,
                                     const ReportOptions& options) {
  const SiteIndex index(sites);
  const Site* site = index.find(site_id);
  if (!site) return fail("no site '" + site_id + "'");

  std::string out = page_start("Báo cáo điểm danh — " + site->name);
  out += "<header>\n<h1>Báo cáo điểm danh lớp bồi dưỡng</h1>\n<p class=\"sub\">Theo điểm học: " +
         esc(site->name) + "</p>\n<table class=\"info\">\n";
  const auto info = [&](const std::string& label, const std::string& value) {
    out += "<tr><th>" + esc(label) + "</th><td>" + esc(value) + "</td></tr>\n";
  };
  info("Tên điểm", site->name);
  info("Mã điểm", site->id);
  info("Huyện/Thành phố", site->district);
  info("Cấp học", std::string(school_level_vi(site->level)));
  info("Địa chỉ", site->address);
  info("Số học viên dự kiến", std::to_string(site->expected_attendees));
  out += "</table>\n</header>\n";

  // This site's records, each in its period.
  using Key = std::pair<std::string, std::string>;
  std::map<Key, std::vector<const LedgerExtract::Call*>> calls;
  std::map<Key, const LedgerExtract::Summary*> summary;
  std::map<Key, std::vector<const LedgerExtract::Alert*>> alerts;
  std::vector<const LedgerExtract::Alert*> other_alerts;
  for (const auto& c : records.roll_calls) {
    if (c.roll_call.site_id == site_id) calls[{c.roll_call.date, c.roll_call.period}].push_back(&c);
  }
  for (auto& [k, v] : calls) {
    std::stable_sort(v.begin(), v.end(), [](const auto* a, const auto* b) {
      return a->roll_call.scheduled_ms < b->roll_call.scheduled_ms;
    });
  }
  for (const auto& s : records.summaries) {
    if (s.summary.site_id == site_id) summary[{s.summary.date, s.summary.period}] = &s;
  }
  for (const auto& a : records.alerts) {
    if (a.site_id != site_id) continue;
    if (const PeriodSlot* slot = slot_of(options, a.started_ms)) {
      alerts[{slot->date, slot->period}].push_back(&a);
    } else {
      other_alerts.push_back(&a);
    }
  }

  const auto alerts_table = [&](std::vector<const LedgerExtract::Alert*> list) {
    std::stable_sort(list.begin(), list.end(),
                     [](const auto* a, const auto* b) { return a->started_ms < b->started_ms; });
    std::string t =
        "<table>\n<thead><tr><th>Loại cảnh báo</th><th>Bắt đầu</th><th>Kết thúc</th>"
        "<th class=\"n\">Số phút</th><th>Lý do kết thúc</th><th>Ảnh minh chứng</th>"
        "<th class=\"n\">Mục sổ</th></tr></thead>\n<tbody>\n";
    for (const auto* a : list) {
      t += "<tr><td>" + esc(alert_kind_vi(a->kind)) + "</td><td>" + esc(clock.time(a->started_ms)) +
           "</td><td>" +
           (a->ended_ms ? esc(clock.time(*a->ended_ms))
                        : std::string("<span class=\"warn\">Đang mở</span>")) +
           "</td><td class=\"n\">" + (a->ended_ms ? vi_number(a->minutes, 1) : "") + "</td><td>" +
           esc(alert_end_vi(a->why_ended)) + "</td><td>";
      if (!a->evidence_path.empty()) {
        t += figure_html(options, clock.time(a->started_ms), a->evidence_path, a->evidence_sha256,
                         a->count, a->expected > 0 ? a->expected : site->expected_attendees);
      } else {
        t += "<span class=\"none\">Không có</span>";
      }
      t += "</td><td class=\"n\">" + seq_text(a->opened_seq) +
           (a->closed_seq > 0 ? ", " + seq_text(a->closed_seq) : "") + "</td></tr>\n";
    }
    return t + "</tbody>\n</table>\n";
  };

  std::string current_day;
  for (const PeriodKey& p : periods_of(options, records, {site_id})) {
    if (p.date != current_day) {
      if (!current_day.empty()) out += "</section>\n";
      current_day = p.date;
      out += "<section class=\"day\">\n";
    }
    const Key key{p.date, p.period};
    out += "<h2>" + esc(period_title(p.date, p.period)) + "</h2>\n<h3>Các lượt điểm danh</h3>\n";
    if (auto it = calls.find(key); it == calls.end()) {
      out += "<p class=\"none\">Chưa có lượt điểm danh nào được ghi.</p>\n";
    } else {
      out +=
          "<table>\n<thead><tr><th>Giờ điểm danh</th><th>Giờ chụp ảnh</th>"
          "<th class=\"n\">Số dự kiến</th><th class=\"n\">Số đếm được</th>"
          "<th class=\"n\">Tỉ lệ</th><th>Ảnh minh chứng</th><th class=\"n\">Mục sổ</th></tr>"
          "</thead>\n<tbody>\n";
      for (const auto* c : it->second) {
        const RollCall& r = c->roll_call;
        const bool has_frame = r.sequence >= 0 && r.captured_at_ms > 0;
        out += "<tr><td>" + esc(r.label) + "</td><td>" +
               (has_frame ? esc(clock.time(r.captured_at_ms, true)) : "—") +
               "</td><td class=\"n\">" + std::to_string(r.expected) + "</td><td class=\"n\">" +
               (r.counted ? std::to_string(*r.counted) : "—");
        if (c->corrected) {
          out += "<span class=\"note\">Hiệu chỉnh từ " +
                 (c->counted_as_taken ? std::to_string(*c->counted_as_taken) : "—") + " bởi " +
                 esc(c->corrected_by) + " (mục " + seq_text(c->correction_seq) +
                 "): " + esc(c->correction_reason) + "</span>";
        }
        out += "</td><td class=\"n\">" + rate_text(r.counted, r.expected) + "</td><td>";
        if (!has_frame) {
          out += "<span class=\"none\">Không có hình để đếm (mất kết nối)</span>";
        } else if (r.evidence_path.empty()) {
          out += "<span class=\"warn\">Không lưu được ảnh minh chứng</span>";
        } else {
          out += figure_html(options, r.label, r.evidence_path, r.evidence_sha256, r.counted,
                             r.expected);
        }
        out += "</td><td class=\"n\">" + seq_text(c->seq) + "</td></tr>\n";
      }
      out += "</tbody>\n</table>\n";
    }

    out += "<h3>Tổng hợp buổi</h3>\n";
    if (auto it = summary.find(key); it == summary.end()) {
      out += "<p class=\"none\">Chưa có tổng hợp (buổi học chưa kết thúc).</p>\n";
    } else {
      const PeriodSummary& s = it->second->summary;
      out +=
          "<table class=\"keep\">\n<thead><tr><th class=\"n\">Cao nhất</th>"
          "<th class=\"n\">Trung vị</th><th class=\"n\">Thấp nhất</th>"
          "<th class=\"n\">Tỉ lệ (trung vị/dự kiến)</th><th>Vào lớp muộn</th><th>Ra về sớm</th>"
          "<th class=\"n\">Người-phút có mặt</th><th class=\"n\">Số phút có hình</th>"
          "<th class=\"n\">Mục sổ</th></tr></thead>\n<tbody>\n<tr><td class=\"n\">" +
          std::to_string(s.peak) + "</td><td class=\"n\">" + std::to_string(s.median) +
          "</td><td class=\"n\">" + std::to_string(s.minimum) + "</td><td class=\"n\">" +
          vi_percent(s.attendance_rate) + "</td><td>" + yes_no(s.late_start) + "</td><td>" +
          yes_no(s.early_leave) + "</td><td class=\"n\">" + vi_number(s.present_person_minutes, 1) +
          "</td><td class=\"n\">" + vi_number(s.covered_minutes, 1) + "</td><td class=\"n\">" +
          seq_text(it->second->seq) + "</td></tr>\n</tbody>\n</table>\n";
      if (s.frames == 0) {
        out += "<p class=\"warn\">Không nhận được hình nào trong buổi.</p>\n";
      }
    }

    out += "<h3>Cảnh báo</h3>\n";
    if (auto it = alerts.find(key); it == alerts.end()) {
      out += "<p class=\"none\">Không có cảnh báo.</p>\n";
    } else {
      out += alerts_table(it->second);
    }
  }
  if (!current_day.empty()) out += "</section>\n";
  if (!other_alerts.empty()) {
    out += "<h2>Cảnh báo ngoài các buổi học</h2>\n" + alerts_table(other_alerts);
  }
  out += footer_html(records, clock, options);
  out += "</body>\n</html>\n";
  return out;
}

Result<std::string> district_report_html(const std::vector<Site>& sites,
                                         const std::string& district, const LedgerExtract& records,
                                         const LocalClock& clock, const ReportOptions& options) {
  std::vector<Site> mine;
  for (const Site& s : sites) {
    if (s.district == district) mine.push_back(s);
  }
  if (mine.empty()) return fail("no site in district '" + district + "'");
  std::set<std::string> ids;
  int expected = 0;
  for (const Site& s : mine) {
    ids.insert(s.id);
    expected += s.expected_attendees;
  }
  const std::vector<PeriodKey> periods = periods_of(options, records, ids);
  const std::vector<PeriodSummary> summaries = summaries_of(records);

  std::string out = page_start("Báo cáo điểm danh — " + district);
  out +=
      "<header>\n<h1>Báo cáo điểm danh lớp bồi dưỡng</h1>\n<p class=\"sub\">Theo huyện/thành "
      "phố: " +
      esc(district) + "</p>\n<table class=\"info\">\n<tr><th>Huyện/Thành phố</th><td>" +
      esc(district) + "</td></tr>\n<tr><th>Số điểm học</th><td>" + std::to_string(mine.size()) +
      "</td></tr>\n<tr><th>Số học viên dự kiến</th><td>" + vi_number(expected) +
      "</td></tr>\n</table>\n</header>\n";

  // Roll-up per period and for the class.
  out +=
      "<h2>Tổng hợp theo buổi</h2>\n<p class=\"small\">Số đếm của mỗi điểm là trung vị số "
      "người trong buổi; cả khoá: trung bình các buổi của điểm. Tỉ lệ tính trên số dự kiến "
      "của các điểm có số đếm. Điểm thiếu người: dưới " +
      vi_percent(options.under_fraction) +
      " số dự kiến.</p>\n<table>\n<thead><tr><th>Buổi</th><th class=\"n\">Số điểm</th>"
      "<th class=\"n\">Có số đếm</th><th class=\"n\">Thiếu người</th>"
      "<th class=\"n\">Số dự kiến</th><th class=\"n\">Số đếm được</th><th class=\"n\">Tỉ lệ</th>"
      "</tr></thead>\n<tbody>\n";
  const auto rollup_row = [&](const std::string& label, const RollupRow& r) {
    out += "<tr><td>" + esc(label) + "</td><td class=\"n\">" + std::to_string(r.sites) +
           "</td><td class=\"n\">" + std::to_string(r.sites_counted) + "</td><td class=\"n\">" +
           std::to_string(r.sites_short) + "</td><td class=\"n\">" + vi_number(r.expected) +
           "</td><td class=\"n\">" + vi_number(r.counted) + "</td><td class=\"n\">" +
           (r.expected_counted > 0 ? vi_percent(r.rate()) : "—") + "</td></tr>\n";
  };
  for (const PeriodKey& p : periods) {
    rollup_row(period_title(p.date, p.period),
               period_rollup(mine, summaries, p.date, p.period, options.under_fraction).province);
  }
  rollup_row("Cả khoá", class_rollup(mine, summaries, options.under_fraction).province);
  out += "</tbody>\n</table>\n";

  // Each site, each period.
  using Key = std::tuple<std::string, std::string, std::string>;  // site, date, period
  std::map<Key, const LedgerExtract::Summary*> summary;
  std::map<Key, const LedgerExtract::Call*> last_call;
  std::map<Key, std::map<std::string, int>> alert_count;  // by kind
  std::map<std::string, std::map<std::string, int>> other_alerts;
  for (const auto& s : records.summaries) {
    if (ids.contains(s.summary.site_id))
      summary[{s.summary.site_id, s.summary.date, s.summary.period}] = &s;
  }
  for (const auto& c : records.roll_calls) {
    const RollCall& r = c.roll_call;
    if (!ids.contains(r.site_id)) continue;
    auto& last = last_call[{r.site_id, r.date, r.period}];
    if (!last || r.scheduled_ms >= last->roll_call.scheduled_ms) last = &c;
  }
  for (const auto& a : records.alerts) {
    if (!ids.contains(a.site_id)) continue;
    if (const PeriodSlot* slot = slot_of(options, a.started_ms)) {
      ++alert_count[{a.site_id, slot->date, slot->period}][a.kind];
    } else {
      ++other_alerts[a.site_id][a.kind];
    }
  }
  static constexpr const char* kKinds[] = {"under_attendance", "offline", "camera_fault"};

  out +=
      "<h2>Từng điểm học</h2>\n<table>\n<thead><tr><th>Điểm học</th><th>Buổi</th>"
      "<th class=\"n\">Số dự kiến</th><th class=\"n\">Trung vị</th><th class=\"n\">Tỉ lệ</th>";
  for (const char* k : kKinds) out += "<th class=\"n\">" + esc(alert_kind_vi(k)) + "</th>";
  out += "<th class=\"n\">Mục sổ</th></tr></thead>\n<tbody>\n";
  for (const Site& site : mine) {
    std::vector<std::string> rows;
    for (const PeriodKey& p : periods) {
      const Key key{site.id, p.date, p.period};
      std::string row = "<td>" + esc(period_title(p.date, p.period)) + "</td>";
      auto s = summary.find(key);
      if (s != summary.end() && s->second->summary.frames > 0) {
        const PeriodSummary& x = s->second->summary;
        row += "<td class=\"n\">" + std::to_string(x.expected) + "</td><td class=\"n\">" +
               std::to_string(x.median) + "</td><td class=\"n\">" + vi_percent(x.attendance_rate) +
               "</td>";
      } else {
        row += "<td class=\"n\">" + std::to_string(site.expected_attendees) +
               "</td><td class=\"n\">—</td><td class=\"n\">—</td>";
      }
      const auto counts = alert_count.find(key);
      for (const char* k : kKinds) {
        int n = 0;
        if (counts != alert_count.end()) {
          if (auto c = counts->second.find(k); c != counts->second.end()) n = c->second;
        }
        row += "<td class=\"n\">" + std::to_string(n) + "</td>";
      }
      row += "<td class=\"n\">" + (s != summary.end() ? seq_text(s->second->seq) : "") + "</td>";
      rows.push_back(std::move(row));
    }
    if (auto o = other_alerts.find(site.id); o != other_alerts.end()) {
      std::string row =
          "<td>Ngoài các buổi học</td><td class=\"n\"></td><td class=\"n\"></td>"
          "<td class=\"n\"></td>";
      for (const char* k : kKinds) {
        auto c = o->second.find(k);
        row += "<td class=\"n\">" + std::to_string(c == o->second.end() ? 0 : c->second) + "</td>";
      }
      rows.push_back(row + "<td class=\"n\"></td>");
    }
    if (rows.empty()) rows.push_back("<td colspan=\"8\" class=\"none\">Chưa có số liệu</td>");
    for (size_t i = 0; i < rows.size(); ++i) {
      out += "<tr>";
      if (i == 0) {
        out += "<td rowspan=\"" + std::to_string(rows.size()) + "\">" + esc(site.name) +
               "<br><span class=\"small\">" + esc(site.id) + " · " +
               esc(school_level_vi(site.level)) + "</span></td>";
      }
      out += rows[i] + "</tr>\n";
    }
  }
  out += "</tbody>\n</table>\n";

  // The last roll call of each period at each site, with its picture.
  out += "<h2>Ảnh minh chứng lượt điểm danh cuối mỗi buổi</h2>\n";
  for (const Site& site : mine) {
    out += "<div class=\"keep\">\n<h3>" + esc(site.name) + " (" + esc(site.id) + ")</h3>\n";
    bool any = false;
    for (const PeriodKey& p : periods) {
      auto it = last_call.find({site.id, p.date, p.period});
      if (it == last_call.end()) continue;
      any = true;
      const RollCall& r = it->second->roll_call;
      const std::string heading =
          period_vi(r.period) + " " + vi_date(r.date).substr(0, 5) + " " + r.label;
      const bool has_frame = r.sequence >= 0 && r.captured_at_ms > 0;
      if (!has_frame) {
        out += "<figure class=\"ev\"><figcaption>" + esc(heading) + " · " +
               esc(count_text(r.counted, r.expected)) +
               "<br><span class=\"none\">Không có hình để đếm (mất kết nối)</span>"
               "</figcaption></figure>";
      } else {
        out += figure_html(options, heading, r.evidence_path, r.evidence_sha256, r.counted,
                           r.expected);
      }
      out += "\n";
    }
    if (!any) out += "<p class=\"none\">Chưa có lượt điểm danh nào được ghi.</p>\n";
    out += "</div>\n";
  }
  out += footer_html(records, clock, options);
  out += "</body>\n</html>\n";
  return out;
}

Result<std::vector<ReportFile>> final_report_files(const std::vector<Site>& sites,
                                                   const LedgerExtract& records,
                                                   const LocalClock& clock,
                                                   const ReportOptions& options) {
  std::vector<ReportFile> out = {
      {"roll-calls.csv", roll_calls_csv(sites, records, clock), ""},
      {"alerts.csv", alerts_csv(sites, records, clock), ""},
      {"summaries.csv", summaries_csv(sites, records), ""},
      {"rollups.csv", rollups_csv(sites, records, options.under_fraction), ""}};
  std::vector<std::string> districts;
  for (const Site& s : sites) {
    if (std::find(districts.begin(), districts.end(), s.district) == districts.end())
      districts.push_back(s.district);
  }
  for (size_t i = 0; i < districts.size(); ++i) {
    auto html = district_report_html(sites, districts[i], records, clock, options);
    if (!html) return std::unexpected(html.error());
    const std::string number = std::to_string(i + 1);
    out.push_back({"district-" + std::string(number.size() < 2 ? "0" : "") + number + ".html",
                   std::move(*html), districts[i]});
  }
  return out;
}

FinalReportWriter final_report_writer(std::vector<Site> sites, LocalClock clock,
                                      ReportOptions options) {
  options.generated_by = "attendance-server";
  return [sites = std::move(sites), clock = std::move(clock),
          options = std::move(options)](const LedgerExtract& records) {
    ReportOptions now = options;
    now.generated_at_ms = now_ms();
    return final_report_files(sites, records, clock, now);
  };
}

}  // namespace att
