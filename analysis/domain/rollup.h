// Roll-ups: a set of sites' counts summed by district, by school level and for the province.
// Live, from each site's latest roll call; final, per period from the period summaries'
// medians, and for the whole class from every period of it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/domain/province.h"
#include "analysis/domain/roll_call.h"

namespace att {

// One site's figure in a roll-up: a count (none: the site has none to give) against its
// expected attendees.
struct SiteFigure {
  const Site* site = nullptr;
  std::optional<int> counted;
};

struct RollupRow {
  std::string group;  // the district's name, the school level, or "province"
  int sites = 0;
  int sites_counted = 0;     // with a count
  int sites_short = 0;       // counted below AttendanceConfig::under_fraction of expected
  int expected = 0;          // all sites' expected attendees
  int expected_counted = 0;  // those of the sites with a count
  int counted = 0;
  double rate() const {  // counted / expected, over the sites with a count
    return expected_counted > 0 ? static_cast<double>(counted) / expected_counted : 0;
  }
  nlohmann::json to_json() const;
};

struct Rollup {
  std::vector<RollupRow> by_district;  // in the order districts first appear in sites.csv
  std::vector<RollupRow> by_level;     // preschool, primary, lower and upper secondary
  RollupRow province;
  nlohmann::json to_json() const;
};

Rollup roll_up(const std::vector<SiteFigure>& figures, double under_fraction);

// Live: each site's latest roll call among `roll_calls` (any order).
Rollup live_rollup(const std::vector<Site>& sites, const std::vector<RollCall>& roll_calls,
                   double under_fraction);

// Final for one period (date, period): each site's median count from its period summary.
Rollup period_rollup(const std::vector<Site>& sites, const std::vector<PeriodSummary>& summaries,
                     const std::string& date, const std::string& period, double under_fraction);

// Final for the whole class: each site's rounded mean of its periods' medians (periods with
// frames only; a site with none has no count).
Rollup class_rollup(const std::vector<Site>& sites, const std::vector<PeriodSummary>& summaries,
                    double under_fraction);

}  // namespace att
