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

#include "analysis/attendance.h"
#include "analysis/csv.h"
#include "analysis/province.h"
#include "analysis/store.h"
#include "common/error.h"

namespace att {

// --- Local time ------------------------------------------------------------------------------

// Formats UTC instants in the province's time without touching the process's TZ, so that it
// can be used from any thread. Its UTC offsets are worked out once, when it is made, for
// each date given: offset(date) = date's midnight read as UTC - local_to_utc_ms(zone, date,
// 0). An instant takes the offset of the latest given date whose local midnight is at or
// before it (the first date's for earlier instants). This is exact for a zone whose offset
// does not change within a day, as Asia/Ho_Chi_Minh (UTC+7, no daylight saving since 1975).
class LocalClock {
 public:
  // Fails on an unknown zone, a malformed date or no dates. local_to_utc_ms switches the
  // process's TZ for a moment: make it while setting up.
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

// --- The ledger, read for exports ------------------------------------------------------------

// The records of a run of ledger entries, each with the seq of the entry it comes from.
struct LedgerExtract {
  struct Call {
    RollCall roll_call;  // as taken, but `counted` is the latest correction's when corrected
    std::int64_t seq = 0;
    std::string subject;  // the ledger subject, which a correction names
    bool corrected = false;
    std::optional<int> counted_as_taken;  // when corrected: the count the roll call took
    std::string corrected_by, correction_reason;
    std::int64_t correction_seq = 0;
  };
  struct Alert {
    std::string subject, site_id, kind;  // kind: under_attendance, offline, camera_fault
    std::int64_t started_ms = 0, detected_ms = 0;
    std::optional<std::int64_t> ended_ms;  // none: still open
    double minutes = 0;                    // when ended
    std::string why_ended;                 // as recorded (English); see alert_end_vi()
    std::optional<int> count;  // the count that opened it (under-attendance), if recorded
    int expected = 0;          // the site's expected attendees then; 0 when not recorded
    std::string evidence_path, evidence_sha256;
    std::int64_t opened_seq = 0, closed_seq = 0;  // 0: not among the entries read
  };
  struct Summary {
    PeriodSummary summary;
    std::int64_t seq = 0;
    std::int64_t at_ms = 0;  // the period's end
  };
  std::vector<Call> roll_calls;    // in ledger order
  std::vector<Alert> alerts;       // in the order they opened
  std::vector<Summary> summaries;  // in ledger order
  std::int64_t entries = 0;        // ledger entries read
  std::int64_t first_seq = 0;      // the range read (0 when none) ...
  std::int64_t last_seq = 0;       // ...
  std::string last_hash;           // ... and the hash of its last entry
};

// Reads `entries`, in seq order as Store::entries returns them (all of the ledger, or a range:
// the footer of a report names what was read): roll_call, correction, alert_opened,
// alert_closed and period_summary entries; other kinds only count in the range. Fails, naming the
// entry's seq and kind, on a body that is not what its kind says: an export to be signed must not
// leave out a record silently. An alert closed without its opening among the entries (a partial
// range) keeps what its closing says; a correction of a roll call not among them is ignored.
Result<LedgerExtract> extract_ledger(const std::vector<LedgerEntry>& entries);

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

}  // namespace att
