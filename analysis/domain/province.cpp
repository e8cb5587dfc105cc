#include "analysis/domain/province.h"

#include <array>
#include <charconv>
#include <map>

#include "common/csv.h"
#include "common/files.h"
#include "common/yaml_fields.h"

namespace att {
namespace {

constexpr std::array<std::string_view, 7> kSiteColumns = {
    "id", "name", "district", "school_level", "address", "expected_attendees", "camera"};

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// "HH:MM" -> minutes after midnight.
std::optional<int> parse_hhmm(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  for (size_t i : {0, 1, 3, 4}) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  }
  auto h = parse_int(text.substr(0, 2));
  auto m = parse_int(text.substr(3, 2));
  if (!h || !m || *h > 23 || *m > 59) return std::nullopt;
  return *h * 60 + *m;
}

bool valid_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  auto y = parse_int(text.substr(0, 4));
  auto m = parse_int(text.substr(5, 2));
  auto d = parse_int(text.substr(8, 2));
  if (!y || !m || !d || *y < 2000 || *m < 1 || *m > 12 || *d < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
  return *d <= kDays[*m - 1] + (*m == 2 && leap ? 1 : 0);
}

}  // namespace

std::string_view to_string(SchoolLevel level) {
  switch (level) {
    case SchoolLevel::kPreschool:
      return "preschool";
    case SchoolLevel::kPrimary:
      return "primary";
    case SchoolLevel::kLowerSecondary:
      return "lower_secondary";
    case SchoolLevel::kUpperSecondary:
      return "upper_secondary";
  }
  return "unknown";
}

std::optional<SchoolLevel> parse_school_level(std::string_view text) {
  for (auto level : {SchoolLevel::kPreschool, SchoolLevel::kPrimary, SchoolLevel::kLowerSecondary,
                     SchoolLevel::kUpperSecondary}) {
    if (text == to_string(level)) return level;
  }
  return std::nullopt;
}

bool valid_site_id(std::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '-' && c != '_'))) return false;
  }
  return true;
}

Result<std::vector<Site>> parse_sites_csv(std::string_view text) {
  auto records = parse_csv(text);
  if (!records) return std::unexpected(records.error());
  if (records->empty()) return fail("no header line (expected: id,name,district,...)");

  ConfigErrors errors;
  const CsvRecord& header = records->front();
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const std::string name = trim(header.fields[i]);
    bool known = false;
    for (auto c : kSiteColumns) known = known || c == name;
    if (!known) errors.add("line 1: unknown column '" + name + "'");
    if (column.contains(name)) errors.add("line 1: column '" + name + "' appears twice");
    column[name] = i;
  }
  for (auto c : kSiteColumns) {
    if (!column.contains(std::string(c)))
      errors.add("line 1: missing column '" + std::string(c) + "'");
  }
  if (!errors.empty()) return fail(errors.summary("header"));

  std::vector<Site> sites;
  std::map<std::string, int> first_line_of_id;
  for (size_t r = 1; r < records->size(); ++r) {
    const CsvRecord& rec = (*records)[r];
    const std::string at = "line " + std::to_string(rec.line) + ": ";
    if (rec.fields.size() != header.fields.size()) {
      errors.add(at + "has " + std::to_string(rec.fields.size()) + " fields, the header has " +
                 std::to_string(header.fields.size()));
      continue;
    }
    auto get = [&](std::string_view name) { return trim(rec.fields[column[std::string(name)]]); };
    Site site;
    site.id = get("id");
    site.name = get("name");
    site.district = get("district");
    site.address = get("address");
    site.camera = get("camera");
    if (!valid_site_id(site.id)) {
      errors.add(at + "id: '" + site.id +
                 "' is not a valid id (lowercase letters, digits, '-' or '_', at most 32)");
    } else if (auto [it, inserted] = first_line_of_id.emplace(site.id, rec.line); !inserted) {
      errors.add(at + "id: '" + site.id + "' already used on line " + std::to_string(it->second));
    }
    if (site.name.empty()) errors.add(at + "name: empty");
    if (site.district.empty()) errors.add(at + "district: empty");
    if (auto level = parse_school_level(get("school_level"))) {
      site.level = *level;
    } else {
      errors.add(at + "school_level: '" + get("school_level") +
                 "' is not one of preschool, primary, lower_secondary, upper_secondary");
    }
    auto expected = parse_int(get("expected_attendees"));
    if (!expected || *expected < 0 || *expected > 5000) {
      errors.add(at + "expected_attendees: '" + get("expected_attendees") +
                 "' is not a whole number from 0 to 5000");
    } else {
      site.expected_attendees = *expected;
    }
    sites.push_back(std::move(site));
  }
  if (!errors.empty()) return fail(errors.summary("sites"));
  if (sites.empty()) return fail("no sites (only a header line)");
  return sites;
}

std::string sites_to_csv(const std::vector<Site>& sites) {
  std::vector<std::vector<std::string>> rows;
  rows.emplace_back(std::begin(kSiteColumns), std::end(kSiteColumns));
  for (const Site& s : sites) {
    rows.push_back({s.id, s.name, s.district, std::string(to_string(s.level)), s.address,
                    std::to_string(s.expected_attendees), s.camera});
  }
  return csv_document(rows);
}

Result<std::vector<Site>> load_sites_csv(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  auto sites = parse_sites_csv(*text);
  if (!sites) return fail(path.string() + ": " + sites.error().message);
  return sites;
}

Result<Schedule> load_schedule(const std::filesystem::path& path) {
  auto root = load_yaml_file(path);
  if (!root) return std::unexpected(root.error());
  ConfigErrors errors;
  YamlMap top(*root, "", errors);
  Schedule schedule;
  schedule.timezone = top.string("timezone", "", YamlMap::kRequired);
  // One list of days (the common ones, or one site's overrides), checked in order.
  const auto read_days = [&errors](const std::vector<YAML::Node>& list, const std::string& where) {
    std::vector<ClassDay> days;
    std::string previous_date;
    int day_index = 0;
    for (const auto& day_node : list) {
      YamlMap day(day_node, where + "[" + std::to_string(day_index++) + "]", errors);
      ClassDay class_day;
      class_day.date = day.string("date", "", YamlMap::kRequired);
      if (!class_day.date.empty() && !valid_date(class_day.date)) {
        errors.add(day.where("date") + ": '" + class_day.date + "' is not a date YYYY-MM-DD");
      } else if (!class_day.date.empty()) {
        if (class_day.date <= previous_date) {
          errors.add(day.where("date") + ": " + class_day.date + " does not come after " +
                     previous_date);
        }
        previous_date = std::max(previous_date, class_day.date);
      }
      int period_index = 0;
      int previous_end = -1;
      for (const auto& period_node : day.sequence("periods", YamlMap::kRequired)) {
        YamlMap p(period_node, day.where("periods[" + std::to_string(period_index++) + "]"),
                  errors);
        Period period;
        period.name = p.string("name", "", YamlMap::kRequired);
        const std::string start = p.string("start", "", YamlMap::kRequired);
        const std::string end = p.string("end", "", YamlMap::kRequired);
        auto s = parse_hhmm(start);
        auto e = parse_hhmm(end);
        if (!start.empty() && !s) errors.add(p.where("start") + ": '" + start + "' is not HH:MM");
        if (!end.empty() && !e) errors.add(p.where("end") + ": '" + end + "' is not HH:MM");
        if (s && e) {
          if (*s >= *e)
            errors.add(p.where("end") + ": " + end + " is not after the start " + start);
          if (*s < previous_end) errors.add(p.where("start") + ": overlaps the previous period");
          period.start_minute = *s;
          period.end_minute = *e;
          previous_end = *e;
        }
        p.finish();
        class_day.periods.push_back(std::move(period));
      }
      day.finish();
      days.push_back(std::move(class_day));
    }
    return days;
  };
  schedule.days = read_days(top.sequence("days", YamlMap::kRequired), "days");
  int override_index = 0;
  for (const auto& node : top.sequence("overrides")) {
    YamlMap o(node, "overrides[" + std::to_string(override_index++) + "]", errors);
    const std::string site = o.string("site", "", YamlMap::kRequired);
    if (!site.empty() && schedule.overrides.contains(site)) {
      errors.add(o.where("site") + ": '" + site + "' has overrides already");
    }
    auto days = read_days(o.sequence("days", YamlMap::kRequired), o.where("days"));
    if (!site.empty()) schedule.overrides[site] = std::move(days);
    o.finish();
  }
  YamlMap roll = top.map("roll_calls");
  schedule.first_roll_call_after_start_min =
      static_cast<int>(roll.integer("first_after_start_min", 15, 0, 240));
  schedule.roll_call_every_min = static_cast<int>(roll.integer("every_min", 30, 1, 240));
  roll.finish();
  top.finish();
  if (!errors.empty()) return fail(errors.summary(path.string()));
  return schedule;
}

}  // namespace att
