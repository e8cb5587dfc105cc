// The province as organizers describe it: the sites (config/sites.csv, edited in a
// spreadsheet) and the class schedule (config/schedule.yaml).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace att {

enum class SchoolLevel { kPreschool, kPrimary, kLowerSecondary, kUpperSecondary };

// "preschool", "primary", "lower_secondary", "upper_secondary" (the last also covers
// continuing education).
std::string_view to_string(SchoolLevel level);
std::optional<SchoolLevel> parse_school_level(std::string_view text);

struct Site {
  std::string id;  // [a-z0-9][a-z0-9_-]{0,31}, e.g. "td-01"
  std::string name;
  std::string district;
  SchoolLevel level = SchoolLevel::kPrimary;
  std::string address;
  int expected_attendees = 0;
  std::string camera;  // free text: model and position
};

// True for ids the system accepts: they appear in URLs and file names.
bool valid_site_id(std::string_view id);

// Parses sites CSV text. Columns are found by header name, in any order; all of
// id,name,district,school_level,address,expected_attendees,camera must be present and no
// other. Every bad row is reported with its line number ("line 17: expected_attendees: ..."),
// and any error fails the whole import.
Result<std::vector<Site>> parse_sites_csv(std::string_view text);
Result<std::vector<Site>> load_sites_csv(const std::filesystem::path& path);
// The sites as a sites CSV (csv_document: BOM, CRLF), the columns in the order above, which
// parse_sites_csv reads back to the same sites (texts beginning with = + - @ come back with
// the ' that neutralises them for spreadsheets).
std::string sites_to_csv(const std::vector<Site>& sites);

struct Period {
  std::string name;      // "morning", "afternoon"
  int start_minute = 0;  // minutes after local midnight
  int end_minute = 0;
};

struct ClassDay {
  std::string date;  // YYYY-MM-DD, local
  std::vector<Period> periods;
};

struct Schedule {
  std::string timezone;  // IANA name, e.g. "Asia/Ho_Chi_Minh"
  std::vector<ClassDay> days;
  // Sites that keep other hours: on each date listed, a site's periods replace the common
  // ones (a site that starts late, or has no afternoon). schedule.yaml "overrides:".
  std::map<std::string, std::vector<ClassDay>> overrides;
  int first_roll_call_after_start_min = 15;
  int roll_call_every_min = 30;
};

// Loads and checks the schedule: dates valid and increasing, periods "HH:MM" with start
// before end and not overlapping. Reports every error at once.
Result<Schedule> load_schedule(const std::filesystem::path& path);

}  // namespace att
