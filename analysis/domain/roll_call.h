// What the roll book records and the rules it records them by: its thresholds, the schedule
// placed in time, a roll call, a period's summary, and the health flags and alert kinds it
// acts on. Pure functions and plain values; the roll book itself is attendance.h.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/domain/observation_store.h"
#include "analysis/domain/province.h"
#include "common/box.h"
#include "common/error.h"

namespace att {

inline constexpr std::int64_t kMinuteMs = 60'000;
// A threshold in minutes (AttendanceConfig) as a span of ms.
inline std::int64_t ms_of_minutes(double minutes) {
  return static_cast<std::int64_t>(minutes * kMinuteMs);
}

// Thresholds (server.yaml "attendance:").
struct AttendanceConfig {
  double under_fraction = 0.8;        // under-attendance: count below this share of expected...
  double under_minutes = 15;          // ...for longer than this
  double offline_minutes = 10;        // no frame for longer than this while a period runs
  double camera_fault_minutes = 10;   // a health flag (dark, covered, ...) for this long
  double late_start_fraction = 0.5;   // late start: below this share of expected at the
                                      // period's first roll call
  double early_leave_fraction = 0.5;  // early leave: below this share at its last roll call
  double roll_call_grace_s = 120;     // a roll call at T is taken at T + grace, so that frames
                                      // captured just before T have arrived
  double evidence_max_age_s = 600;    // a frame older than T - this is no evidence for T
  double final_after_s = 30;          // a period's summary, and after the last period the
                                      // class's final report, this long after its end
  // What under-attendance compares with under_fraction x expected: the count seen, or the
  // people it stands for by the site's checked roll calls (records.h, site calibration);
  // without one a site's count is compared as seen.
  bool alert_on_estimated = false;  // attendance.alert_on: seen | estimated
};

// One period of one class day, in UTC, with its roll-call times.
struct PeriodSlot {
  std::string date;    // local, YYYY-MM-DD
  std::string period;  // "morning"
  std::int64_t start_ms = 0, end_ms = 0;
  std::vector<std::int64_t> roll_calls_ms;
  std::vector<std::string> roll_call_labels;  // local "07:45"
};

// Every period of the schedule placed in time, in time order: the common days, or for
// `site_id` with its overrides in place of the dates they list. Fails on an unknown time zone.
Result<std::vector<PeriodSlot>> expand_schedule(const Schedule& schedule,
                                                const std::string& site_id = "");

// A roll call as recorded in the ledger (kind "roll_call").
struct RollCall {
  std::string site_id, date, period, label;  // label: local time "07:45"
  std::int64_t scheduled_ms = 0;
  std::optional<int> counted;  // none: no frame to count from (site offline)
  int expected = 0;
  std::int64_t sequence = -1;  // the observation counted
  std::int64_t captured_at_ms = 0;
  CountedBy counted_by = CountedBy::kService;  // who counted it
  // The node's evidence picture, when the count came without one: its sequence and capture
  // time (-1 and 0: the picture is the counted observation's own).
  std::int64_t evidence_sequence = -1;
  std::int64_t evidence_captured_at_ms = 0;
  std::string evidence_path;  // relative to the data directory
  std::string evidence_sha256;
  std::string evidence_error;  // why there is no evidence picture despite a count
  // The audit of a node's evidence picture (analysis/domain/audit.h): the node's count of that
  // picture alone and the service's own count of it; none when it was not audited.
  std::optional<int> evidence_count;
  std::optional<int> audit_count;
  // The evidence picture's counted boxes, in its pixels: the page draws them over the
  // picture, which is kept as the camera gave it.
  std::vector<Box> boxes;
  // The camera's problems in the counted frame (its health flags: covered, frozen, dark...):
  // such a count says nothing of the room and is set aside: kept and shown, but out of the
  // roll-ups and raising no alert. An auditor's recount from the evidence stands again.
  std::vector<std::string> set_aside;

  // The count the record stands on: none without a frame, or when set aside.
  std::optional<int> standing() const { return set_aside.empty() ? counted : std::nullopt; }

  nlohmann::json to_json() const;
  static std::optional<RollCall> from_json(const nlohmann::json& j);
};

// A period's count timeline summed up (ledger kind "period_summary").
struct PeriodSummary {
  std::string site_id, date, period;
  int expected = 0;
  int frames = 0;  // observations in the period
  int peak = 0, median = 0, minimum = 0;
  double attendance_rate = 0;  // median / expected
  bool late_start = false, early_leave = false;
  double present_person_minutes = 0;  // the count integrated over the period's covered time
  double covered_minutes = 0;         // time with frames (gaps over offline_minutes excluded)

  nlohmann::json to_json() const;
  static std::optional<PeriodSummary> from_json(const nlohmann::json& j);
};

// Whether a roll call counted fewer than `fraction` of its expected attendees (a late start at
// a period's first, an early leave at its last); false without a count.
bool counted_below(const RollCall& r, double fraction);

// Sums up `timeline` (a site's observations in the period, oldest first).
PeriodSummary summarize_period(const Site& site, const PeriodSlot& slot,
                               const std::vector<Observation>& timeline,
                               const std::vector<RollCall>& roll_calls,
                               const AttendanceConfig& config);

// The health flags a node raised on a frame ("dark", "covered", ...), from Observation::health
// (its X-Health JSON); none when it has none or is not of that form.
std::vector<std::string> health_flags(const std::string& health);

// Late start: a period's first roll call counted below late_start_fraction of the expected
// (ends at the first later roll call at or above it); early leave: its last roll call below
// early_leave_fraction (ends with the period).
enum class AlertKind {
  kUnderAttendance,
  kOffline,
  kCameraFault,
  kCountDisputed,
  kLateStart,
  kEarlyLeave
};
inline constexpr AlertKind kAlertKinds[] = {AlertKind::kUnderAttendance, AlertKind::kOffline,
                                            AlertKind::kCameraFault,     AlertKind::kCountDisputed,
                                            AlertKind::kLateStart,       AlertKind::kEarlyLeave};
// "under_attendance", "offline", "camera_fault", "count_disputed", "late_start", "early_leave".
std::string_view to_string(AlertKind kind);

}  // namespace att
