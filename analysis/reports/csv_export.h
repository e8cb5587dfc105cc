// CSV exports for auditors' own spreadsheets, drawn from the attendance ledger as stored (the
// entries of Store::entries, read by extract_ledger) and the configured sites; nothing here
// writes.
//
// CSV: RFC 4180 as spreadsheets open it (common/csv.h): UTF-8 with a byte order mark (so Excel
// does not read Vietnamese as Windows-1252), CRLF line ends, a cell quoted when it holds a
// comma, a quote or a line break. A cell that begins with = + - @ tab or carriage return is
// prefixed with ' so that a spreadsheet shows it as text instead of running it as a formula
// (OWASP "CSV injection"). Our own numeric columns are never negative, so no number we write
// is touched; any text cell that starts with '-' is neutralised, a dash included.
// Numbers are written with a decimal point whatever the reader's locale; rates as percent
// with one decimal ("86.7"); dates YYYY-MM-DD and times HH:MM in the province's time.
//
// Rows for the given sites only (pass a district's sites for a district), in the order of
// `sites`, then in time. The first row is the Vietnamese header. Pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analysis/domain/local_clock.h"
#include "analysis/domain/province.h"
#include "analysis/domain/records.h"

namespace att {

// One row per roll call: Mã điểm, Tên điểm, Huyện/Thành phố, Cấp học, Ngày, Buổi,
// Giờ điểm danh, Giờ chụp ảnh, Số dự kiến, Số đếm được (empty: no count), Tỉ lệ (%),
// Tệp ảnh minh chứng, SHA-256 ảnh, Ghi chú, Mục sổ, then the correction if any: Số đếm khi
// điểm danh, Người hiệu chỉnh, Lý do hiệu chỉnh, Mục sổ hiệu chỉnh.
std::string roll_calls_csv(const std::vector<Site>& sites, const LedgerExtract& records,
                           const LocalClock& clock);

// One row per alert: Mã điểm, Tên điểm, Huyện/Thành phố, Loại cảnh báo, Mã loại, Bắt đầu,
// Kết thúc (empty: still open), Số phút, Trạng thái, Lý do kết thúc, Tệp ảnh minh chứng,
// SHA-256 ảnh, Mục sổ mở, Mục sổ đóng.
std::string alerts_csv(const std::vector<Site>& sites, const LedgerExtract& records,
                       const LocalClock& clock);

// One row per period summary: Mã điểm, Tên điểm, Huyện/Thành phố, Ngày, Buổi, Số dự kiến,
// Số khung hình, Cao nhất, Trung vị, Thấp nhất, Tỉ lệ (%), Vào lớp muộn, Ra về sớm,
// Người-phút có mặt, Số phút có hình, Mục sổ. A period without a frame (Số khung hình 0) has
// Cao nhất to Ra về sớm empty: nothing was seen, which is not a count of 0.
std::string summaries_csv(const std::vector<Site>& sites, const LedgerExtract& records);

// Final roll-ups from the period summaries (each site's median count, rollup.h): for each
// period, then for the whole class ("Cả khoá": each site's mean of its periods' medians,
// rounded), by district, by school level and for all the given sites. Columns: Ngày, Buổi,
// Loại nhóm, Nhóm, Số điểm, Số điểm có số đếm, Số điểm thiếu người, Số dự kiến,
// Số dự kiến (điểm có số đếm), Số đếm được, Tỉ lệ (%) (counted over the expected of the
// sites with a count).
std::string rollups_csv(const std::vector<Site>& sites, const LedgerExtract& records,
                        double under_fraction);

// The name a downloaded export is saved under, saying what it holds: the table in Vietnamese
// without diacritics ("diem-danh", "canh-bao", "cac-buoi", "tong-hop" for roll-calls, alerts,
// summaries, rollups), the scope (the site's id, else the district's name, else "toan-tinh")
// and `date` (YYYY-MM-DD, the day it was exported in the province's time), e.g.
// "diem-danh_tp-01_2027-07-12.csv", "canh-bao_tam-duong_2027-07-12.csv". ASCII only
// (letters, digits, '-', '_', '.'), so it is safe in a Content-Disposition header and on any
// file system; Vietnamese letters lose their marks (Đ -> d), anything else becomes '-'.
std::string export_file_name(std::string_view table, std::string_view site,
                             std::string_view district, std::string_view date);

}  // namespace att
