// Everything the reports layer offers, for a caller that uses all of it (the web layer's
// records API): CSV exports (csv_export.h), printable HTML reports (html_report.h), evidence
// thumbnails (evidence.h), the final report (final_report.h) and the Vietnamese words they
// use (vi_format.h). A caller that needs one of them includes that header instead.
#pragma once

#include "analysis/reports/csv_export.h"
#include "analysis/reports/evidence.h"
#include "analysis/reports/final_report.h"
#include "analysis/reports/html_report.h"
#include "analysis/reports/vi_format.h"
