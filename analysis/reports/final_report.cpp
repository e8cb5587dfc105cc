#include "analysis/reports/final_report.h"

#include <algorithm>
#include <string>
#include <utility>

#include "analysis/reports/csv_export.h"
#include "common/time_util.h"

namespace att {

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
