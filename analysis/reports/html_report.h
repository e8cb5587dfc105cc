// Printable reports for auditors, per site and per district, that they can sign. Drawn from
// the attendance ledger as stored (the entries of Store::entries, read by extract_ledger) and
// the configured sites; nothing here writes.
//
// Each is one self-contained HTML page (lang="vi", inline CSS with @page A4 and @media print,
// no script, no external resource: evidence thumbnails are data: URIs), so the file stands
// alone when saved, emailed or printed to PDF from a browser. Every figure names the ledger
// entry it comes from (its seq); the footer gives the ledger range read and its last entry's
// hash, to be matched against `attendance-server verify` and ledger.head, and a signature
// block for the preparer and the checker.
//
// The markup is in mustache templates (templates/*.mustache, compiled into the library); the
// functions here only prepare their values, and every value is HTML-escaped as it is placed.
// Pure apart from reading evidence files; thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "analysis/domain/local_clock.h"
#include "analysis/domain/province.h"
#include "analysis/domain/records.h"
#include "analysis/domain/roll_call.h"
#include "common/error.h"

namespace att {

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
