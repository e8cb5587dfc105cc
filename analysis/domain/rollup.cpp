#include "analysis/domain/rollup.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace att {

using nlohmann::json;

json RollupRow::to_json() const {
  return {{"group", group},
          {"sites", sites},
          {"sites_counted", sites_counted},
          {"sites_short", sites_short},
          {"expected", expected},
          {"expected_counted", expected_counted},
          {"counted", counted},
          {"rate", std::round(rate() * 1000) / 1000}};
}

json Rollup::to_json() const {
  json districts = json::array(), levels = json::array();
  for (const auto& r : by_district) districts.push_back(r.to_json());
  for (const auto& r : by_level) levels.push_back(r.to_json());
  return {{"by_district", districts}, {"by_level", levels}, {"province", province.to_json()}};
}

Rollup roll_up(const std::vector<SiteFigure>& figures, double under_fraction) {
  Rollup out;
  out.province.group = "province";
  std::map<std::string, size_t> district_index;
  std::map<SchoolLevel, RollupRow> levels;
  const auto add = [&](RollupRow& row, const SiteFigure& f) {
    ++row.sites;
    row.expected += f.site->expected_attendees;
    if (!f.counted) return;
    ++row.sites_counted;
    row.expected_counted += f.site->expected_attendees;
    row.counted += *f.counted;
    if (*f.counted < under_fraction * f.site->expected_attendees) ++row.sites_short;
  };
  for (const SiteFigure& f : figures) {
    auto [it, fresh] = district_index.try_emplace(f.site->district, out.by_district.size());
    if (fresh) out.by_district.push_back(RollupRow{.group = f.site->district});
    add(out.by_district[it->second], f);
    RollupRow& level = levels[f.site->level];
    level.group = std::string(to_string(f.site->level));
    add(level, f);
    add(out.province, f);
  }
  for (auto& [level, row] : levels) out.by_level.push_back(row);  // in the enum's order
  return out;
}

Rollup live_rollup(const std::vector<Site>& sites, const std::vector<RollCall>& roll_calls,
                   double under_fraction) {
  std::map<std::string, const RollCall*> latest;
  for (const RollCall& r : roll_calls) {
    auto& l = latest[r.site_id];
    if (!l || r.scheduled_ms > l->scheduled_ms) l = &r;
  }
  std::vector<SiteFigure> figures;
  for (const Site& s : sites) {
    auto it = latest.find(s.id);
    figures.push_back({&s, it == latest.end() ? std::nullopt : it->second->standing()});
  }
  return roll_up(figures, under_fraction);
}

Rollup period_rollup(const std::vector<Site>& sites, const std::vector<PeriodSummary>& summaries,
                     const std::string& date, const std::string& period, double under_fraction) {
  std::map<std::string, const PeriodSummary*> by_site;
  for (const PeriodSummary& s : summaries) {
    if (s.date == date && s.period == period) by_site[s.site_id] = &s;
  }
  std::vector<SiteFigure> figures;
  for (const Site& s : sites) {
    auto it = by_site.find(s.id);
    const bool has = it != by_site.end() && it->second->frames > 0;
    figures.push_back({&s, has ? std::optional<int>(it->second->median) : std::nullopt});
  }
  return roll_up(figures, under_fraction);
}

Rollup class_rollup(const std::vector<Site>& sites, const std::vector<PeriodSummary>& summaries,
                    double under_fraction) {
  // Each site's latest summary of each period, then the rounded mean of their medians.
  std::map<std::string, std::map<std::pair<std::string, std::string>, const PeriodSummary*>> per;
  for (const PeriodSummary& s : summaries) {
    if (s.frames > 0) per[s.site_id][{s.date, s.period}] = &s;
  }
  std::vector<SiteFigure> figures;
  for (const Site& site : sites) {
    SiteFigure f;
    f.site = &site;
    if (auto it = per.find(site.id); it != per.end() && !it->second.empty()) {
      double sum = 0;
      for (const auto& [key, s] : it->second) sum += s->median;
      f.counted = static_cast<int>(std::lround(sum / static_cast<double>(it->second.size())));
    }
    figures.push_back(f);
  }
  return roll_up(figures, under_fraction);
}

}  // namespace att
