// Exports for auditors (issue 6): CSV for their own spreadsheets and printable reports per
// site and per district that they can sign. Everything is drawn from the attendance ledger
// as stored (the entries of Store::entries) and the configured sites; nothing here writes.
//
// CSV: RFC 4180 as spreadsheets open it: UTF-8 with a byte order mark (so Excel does not
// read Vietnamese as Windows-1252), CRLF line ends, a cell quoted when it holds a comma, a
// quote or a line break. A cell that begins with = + - @ tab or carriage return is prefixed
// with ' so that a spreadsheet shows it as text instead of running it as a formula (OWASP
// "CSV injection"). Our own numeric columns are never negative, so no number we write is
// touched; any text cell that starts with '-' is neutralised, a dash included.
// Numbers are written with a decimal point whatever the reader's locale; rates as percent
// with one decimal ("86.7"); dates YYYY-MM-DD and times HH:MM in the province's time.
//
// Reports: one self-contained HTML page each (lang="vi", inline CSS with @page A4 and
// @media print, no script, no external resource: evidence thumbnails are data: URIs), so
// the file stands alone when saved, emailed or printed to PDF from a browser. Every figure
// names the ledger entry it comes from (its seq); the footer gives the ledger range read
// and its last entry's hash, to be matched against `attendance-server verify` and
// ledger.head, and a signature block for the preparer and the checker.
//
// All functions are pure apart from reading evidence files, and thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analysis/domain/attendance.h"
#include "analysis/domain/local_clock.h"
#include "analysis/domain/province.h"
#include "analysis/domain/records.h"
#include "analysis/domain/store.h"
#include "common/csv.h"
#include "common/error.h"

namespace att {

// --- Vietnamese labels -----------------------------------------------------------------------

std::string_view school_level_vi(SchoolLevel level);    // "Trung học cơ sở"
std::string period_vi(std::string_view period);         // "morning" -> "Sáng"; unknown as given
std::string_view alert_kind_vi(std::string_view kind);  // "offline" -> "Mất kết nối"
std::string alert_end_vi(std::string_view why);         // the roll book's reasons; unknown as given

// --- CSV exports -----------------------------------------------------------------------------
// Rows for the given sites only (pass a district's sites for a district), in the order of
// `sites`, then in time. The first row is the Vietnamese header.

// One row per roll call: Mã điểm, Tên điểm, Huyện/Thành phố, Cấp học, Ngày, Buổi,
// Giờ điểm danh, Giờ chụp ảnh, Số dự kiến, Số đếm được (empty: no count), Tỉ lệ (%),
// Tệp ảnh minh chứng, SHA-256 ảnh, Mục sổ, then the correction if any: Số đếm khi điểm danh,
// Người hiệu chỉnh, Lý do hiệu chỉnh, Mục sổ hiệu chỉnh.
std::string roll_calls_csv(const std::vector<Site>& sites, const LedgerExtract& records,
                           const LocalClock& clock);

// One row per alert: Mã điểm, Tên điểm, Huyện/Thành phố, Loại cảnh báo, Mã loại, Bắt đầu,
// Kết thúc (empty: still open), Số phút, Trạng thái, Lý do kết thúc, Tệp ảnh minh chứng,
// SHA-256 ảnh, Mục sổ mở, Mục sổ đóng.
std::string alerts_csv(const std::vector<Site>& sites, const LedgerExtract& records,
                       const LocalClock& clock);

// One row per period summary: Mã điểm, Tên điểm, Huyện/Thành phố, Ngày, Buổi, Số dự kiến,
// Cao nhất, Trung vị, Thấp nhất, Tỉ lệ (%), Vào lớp muộn, Ra về sớm, Người-phút có mặt,
// Số phút có hình, Mục sổ.
std::string summaries_csv(const std::vector<Site>& sites, const LedgerExtract& records);

// Final roll-ups from the period summaries (each site's median count, rollup.h): for each
// period, then for the whole class ("Cả khoá": each site's mean of its periods' medians,
// rounded), by district, by school level and for all the given sites. Columns: Ngày, Buổi,
// Loại nhóm, Nhóm, Số điểm, Số điểm có số đếm, Số điểm thiếu người, Số dự kiến,
// Số dự kiến (điểm có số đếm), Số đếm được, Tỉ lệ (%) (counted over the expected of the
// sites with a count).
std::string rollups_csv(const std::vector<Site>& sites, const LedgerExtract& records,
                        double under_fraction);

// --- Printable reports -----------------------------------------------------------------------

struct ReportOptions {
  std::filesystem::path data_dir;  // evidence paths are relative to it
  // The schedule placed in time (Attendance::slots()): orders the periods and places alerts
  // in them. Periods found only in the records are shown too.
  std::vector<PeriodSlot> slots;
  double under_fraction = 0.8;       // "short" in roll-ups (attendance.under_fraction)
  std::int64_t generated_at_ms = 0;  // shown in the footer
  std::string generated_by;          // the user exporting; shown when not empty
  int thumbnail_width = 240;         // px; evidence is scaled down to it, never up
  int thumbnail_quality = 70;        // JPEG quality of the thumbnails
};

// The evidence picture scaled down to `max_width` (never up) and re-encoded as JPEG.
// Fails on bytes that are not a JPEG or one over 40 megapixels.
Result<std::string> thumbnail_jpeg(std::string_view jpeg, int max_width, int quality);

// One site: who and where; for each day and period its roll calls with thumbnails (time,
// count/expected, SHA-256 prefix; a picture whose bytes no longer match the recorded SHA-256
// is flagged, a missing one said so), the period summary and the alerts; then the footer.
// Fails on a site id not among `sites`.
Result<std::string> site_report_html(const std::vector<Site>& sites, const std::string& site_id,
                                     const LedgerExtract& records, const LocalClock& clock,
                                     const ReportOptions& options);

// One district (as spelt in sites.csv): its roll-up for each period and for the class, a
// table of its sites with each period's median, expected, rate and alerts by kind, and the
// thumbnail of each site's last roll call of each period; then the footer. Fails on a
// district with no site among `sites`.
Result<std::string> district_report_html(const std::vector<Site>& sites,
                                         const std::string& district, const LedgerExtract& records,
                                         const LocalClock& clock, const ReportOptions& options);

// The final report's files: roll-calls.csv, alerts.csv, summaries.csv and rollups.csv of every
// site, then district-01.html, district-02.html, ... (one per district, in the order of their
// first site in `sites`).
Result<std::vector<ReportFile>> final_report_files(const std::vector<Site>& sites,
                                                   const LedgerExtract& records,
                                                   const LocalClock& clock,
                                                   const ReportOptions& options);

// The roll book's writer of the final report (Attendance::set_final_report_writer): the files
// above, generated by "attendance-server" at the time of writing.
FinalReportWriter final_report_writer(std::vector<Site> sites, LocalClock clock,
                                      ReportOptions options);

}  // namespace att
