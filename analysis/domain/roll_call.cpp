#include "analysis/domain/roll_call.h"

#include <algorithm>
#include <cstdio>

#include "common/time_util.h"
#include "protocol/boxes.h"

namespace att {

using nlohmann::json;

namespace {

std::string hhmm(int minute) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", (minute / 60) % 24, minute % 60);
  return buf;
}

}  // namespace

std::vector<std::string> health_flags(const std::string& health) {
  std::vector<std::string> flags;
  const json h = json::parse(health, nullptr, /*allow_exceptions=*/false);
  if (h.is_object() && h.contains("flags") && h["flags"].is_array()) {
    for (const auto& f : h["flags"])
      if (f.is_string()) flags.push_back(f.get<std::string>());
  }
  return flags;
}

std::string_view to_string(AlertKind kind) {
  switch (kind) {
    case AlertKind::kUnderAttendance:
      return "under_attendance";
    case AlertKind::kOffline:
      return "offline";
    case AlertKind::kCameraFault:
      return "camera_fault";
    case AlertKind::kCountDisputed:
      return "count_disputed";
    case AlertKind::kLateStart:
      return "late_start";
    case AlertKind::kEarlyLeave:
      return "early_leave";
  }
  return "unknown";
}

bool counted_below(const RollCall& r, double fraction) {
  const std::optional<int> n = r.standing();
  return n && r.expected > 0 && *n < fraction * r.expected;
}

Result<std::vector<PeriodSlot>> expand_schedule(const Schedule& schedule,
                                                const std::string& site_id) {
  std::vector<ClassDay> days = schedule.days;
  if (auto o = schedule.overrides.find(site_id); o != schedule.overrides.end()) {
    for (const ClassDay& own : o->second) {
      auto same = std::find_if(days.begin(), days.end(),
                               [&](const ClassDay& d) { return d.date == own.date; });
      if (same != days.end()) {
        *same = own;
      } else {
        days.push_back(own);
      }
    }
    std::sort(days.begin(), days.end(),
              [](const ClassDay& a, const ClassDay& b) { return a.date < b.date; });
  }
  std::vector<PeriodSlot> slots;
  for (const ClassDay& day : days) {
    for (const Period& p : day.periods) {
      PeriodSlot slot;
      slot.date = day.date;
      slot.period = p.name;
      auto start = local_to_utc_ms(schedule.timezone, day.date, p.start_minute);
      if (!start) return std::unexpected(start.error());
      slot.start_ms = *start;
      slot.end_ms = *start + (p.end_minute - p.start_minute) * kMinuteMs;
      for (int m = p.start_minute + schedule.first_roll_call_after_start_min; m < p.end_minute;
           m += schedule.roll_call_every_min) {
        slot.roll_calls_ms.push_back(*start + (m - p.start_minute) * kMinuteMs);
        slot.roll_call_labels.push_back(hhmm(m));
      }
      slots.push_back(std::move(slot));
    }
  }
  return slots;
}

json RollCall::to_json() const {
  json j = {{"site_id", site_id},
            {"date", date},
            {"period", period},
            {"label", label},
            {"scheduled_ms", scheduled_ms},
            {"counted", counted ? json(*counted) : json(nullptr)},
            {"expected", expected},
            {"sequence", sequence},
            {"captured_at_ms", captured_at_ms},
            {"evidence_path", evidence_path},
            {"evidence_sha256", evidence_sha256},
            {"evidence_error", evidence_error},
            {"boxes", boxes_to_json(boxes)},
            {"set_aside", set_aside}};
  // A node's count: who counted, and its evidence picture when it is another observation.
  if (counted_by == CountedBy::kNode) {
    j["counted_by"] = "node";
    if (evidence_sequence >= 0) {
      j["evidence_sequence"] = evidence_sequence;
      j["evidence_captured_at_ms"] = evidence_captured_at_ms;
    }
    if (audit_count) {
      j["evidence_count"] = evidence_count ? json(*evidence_count) : json(nullptr);
      j["audit_count"] = *audit_count;
    }
  }
  return j;
}

std::optional<RollCall> RollCall::from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  try {
    RollCall r;
    r.site_id = j.at("site_id").get<std::string>();
    r.date = j.at("date").get<std::string>();
    r.period = j.at("period").get<std::string>();
    r.label = j.at("label").get<std::string>();
    r.scheduled_ms = j.at("scheduled_ms").get<std::int64_t>();
    if (!j.at("counted").is_null()) r.counted = j.at("counted").get<int>();
    r.expected = j.at("expected").get<int>();
    r.sequence = j.at("sequence").get<std::int64_t>();
    r.captured_at_ms = j.at("captured_at_ms").get<std::int64_t>();
    r.evidence_path = j.at("evidence_path").get<std::string>();
    r.evidence_sha256 = j.at("evidence_sha256").get<std::string>();
    r.evidence_error = j.value("evidence_error", "");
    if (j.contains("boxes")) r.boxes = boxes_from_json(j["boxes"]);
    if (j.contains("set_aside")) r.set_aside = j["set_aside"].get<std::vector<std::string>>();
    r.counted_by = j.value("counted_by", "") == "node" ? CountedBy::kNode : CountedBy::kService;
    r.evidence_sequence = j.value("evidence_sequence", std::int64_t{-1});
    r.evidence_captured_at_ms = j.value("evidence_captured_at_ms", std::int64_t{0});
    if (j.contains("audit_count")) {
      r.audit_count = j.at("audit_count").get<int>();
      if (!j.at("evidence_count").is_null()) r.evidence_count = j.at("evidence_count").get<int>();
    }
    return r;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

json PeriodSummary::to_json() const {
  return {{"site_id", site_id},
          {"date", date},
          {"period", period},
          {"expected", expected},
          {"frames", frames},
          {"peak", peak},
          {"median", median},
          {"minimum", minimum},
          {"attendance_rate", std::round(attendance_rate * 1000) / 1000},
          {"late_start", late_start},
          {"early_leave", early_leave},
          {"present_person_minutes", std::round(present_person_minutes * 10) / 10},
          {"covered_minutes", std::round(covered_minutes * 10) / 10}};
}

std::optional<PeriodSummary> PeriodSummary::from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  try {
    PeriodSummary s;
    s.site_id = j.at("site_id").get<std::string>();
    s.date = j.at("date").get<std::string>();
    s.period = j.at("period").get<std::string>();
    s.expected = j.at("expected").get<int>();
    s.frames = j.at("frames").get<int>();
    s.peak = j.at("peak").get<int>();
    s.median = j.at("median").get<int>();
    s.minimum = j.at("minimum").get<int>();
    s.attendance_rate = j.at("attendance_rate").get<double>();
    s.late_start = j.at("late_start").get<bool>();
    s.early_leave = j.at("early_leave").get<bool>();
    s.present_person_minutes = j.at("present_person_minutes").get<double>();
    s.covered_minutes = j.at("covered_minutes").get<double>();
    return s;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

PeriodSummary summarize_period(const Site& site, const PeriodSlot& slot,
                               const std::vector<Observation>& timeline,
                               const std::vector<RollCall>& roll_calls,
                               const AttendanceConfig& config) {
  PeriodSummary s;
  s.site_id = site.id;
  s.date = slot.date;
  s.period = slot.period;
  s.expected = site.expected_attendees;
  std::vector<const Observation*> in;
  // A frame the camera spoiled (a health flag) says nothing of the room: its time is not
  // covered, as if there were no frame.
  for (const Observation& o : timeline) {
    if (o.captured_at_ms >= slot.start_ms && o.captured_at_ms < slot.end_ms &&
        health_flags(o.health).empty()) {
      in.push_back(&o);
    }
  }
  s.frames = static_cast<int>(in.size());
  if (!in.empty()) {
    std::vector<int> counts;
    for (const Observation* o : in) counts.push_back(o->count);
    std::sort(counts.begin(), counts.end());
    s.minimum = counts.front();
    s.peak = counts.back();
    s.median = counts[counts.size() / 2];
    // Each frame's count holds until the next frame, but no longer than a site may be
    // silent before it is offline: a gap in the frames is not presence.
    const std::int64_t hold = ms_of_minutes(config.offline_minutes);
    for (size_t i = 0; i < in.size(); ++i) {
      const std::int64_t from = in[i]->captured_at_ms;
      const std::int64_t next = i + 1 < in.size() ? in[i + 1]->captured_at_ms : slot.end_ms;
      const std::int64_t to = std::min({next, from + hold, slot.end_ms});
      const double minutes = static_cast<double>(to - from) / kMinuteMs;
      s.covered_minutes += minutes;
      s.present_person_minutes += minutes * in[i]->count;
    }
  }
  s.attendance_rate = s.expected > 0 ? static_cast<double>(s.median) / s.expected : 0;
  std::vector<const RollCall*> calls;
  for (const RollCall& r : roll_calls) {
    if (r.site_id == site.id && r.date == slot.date && r.period == slot.period) calls.push_back(&r);
  }
  std::sort(calls.begin(), calls.end(),
            [](const RollCall* a, const RollCall* b) { return a->scheduled_ms < b->scheduled_ms; });
  if (!calls.empty()) {
    s.late_start = counted_below(*calls.front(), config.late_start_fraction);
    s.early_leave = counted_below(*calls.back(), config.early_leave_fraction);
  }
  return s;
}

}  // namespace att
