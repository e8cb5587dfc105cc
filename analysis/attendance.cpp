#include "analysis/attendance.h"

#include <algorithm>
#include <cstdio>

#include "analysis/export.h"
#include "analysis/ledger.h"
#include "analysis/live.h"
#include "analysis/records.h"
#include "analysis/rollup.h"
#include "common/files.h"
#include "common/log.h"
#include "common/sha256.h"
#include "common/time_util.h"

namespace att {

using nlohmann::json;

namespace {

constexpr std::int64_t kMinuteMs = 60'000;

std::int64_t ms_of_minutes(double minutes) {
  return static_cast<std::int64_t>(minutes * kMinuteMs);
}

std::string hhmm(int minute) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", (minute / 60) % 24, minute % 60);
  return buf;
}

// "07:45" -> "0745", for subjects and file names.
std::string compact(std::string label) {
  label.erase(std::remove(label.begin(), label.end(), ':'), label.end());
  return label;
}

std::string roll_call_subject(const std::string& site, const PeriodSlot& slot, size_t i) {
  return "roll_call/" + site + "/" + slot.date + "/" + slot.period + "/" +
         compact(slot.roll_call_labels[i]);
}

std::string summary_subject(const std::string& site, const PeriodSlot& slot) {
  return "period_summary/" + site + "/" + slot.date + "/" + slot.period;
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
  }
  return "unknown";
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
  return {{"site_id", site_id},
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
          {"evidence_error", evidence_error}};
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
  for (const Observation& o : timeline) {
    if (o.captured_at_ms >= slot.start_ms && o.captured_at_ms < slot.end_ms) in.push_back(&o);
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
  const auto below = [&](const RollCall* r, double fraction) {
    return r->counted && s.expected > 0 && *r->counted < fraction * s.expected;
  };
  if (!calls.empty()) {
    s.late_start = below(calls.front(), config.late_start_fraction);
    s.early_leave = below(calls.back(), config.early_leave_fraction);
  }
  return s;
}

Attendance::Attendance(const std::vector<Site>& sites, std::vector<PeriodSlot> slots,
                       AttendanceConfig config, Store& store, std::filesystem::path data_dir,
                       LiveHub* live, std::map<std::string, std::vector<PeriodSlot>> site_slots)
    : slots_(std::move(slots)),
      site_slots_(std::move(site_slots)),
      site_list_(sites),
      config_(config),
      store_(store),
      data_dir_(std::move(data_dir)),
      live_(live) {
  for (const Site& site : sites) {
    SiteState& s = sites_[site.id];
    s.site = &site;
    auto own = site_slots_.find(site.id);
    s.slots = own != site_slots_.end() ? &own->second : &slots_;
  }
}

Status Attendance::restore() {
  LedgerQuery all;
  all.limit = 0;
  auto entries = store_.entries(Chain::kLedger, all);
  if (!entries) return std::unexpected(entries.error());
  std::lock_guard lock(mu_);
  std::map<std::string, const LedgerEntry*> opened;
  for (const LedgerEntry& e : *entries) {
    if (e.kind == "roll_call" || e.kind == "period_summary" || e.kind == "final_report")
      done_.insert(e.subject);
    if (e.kind == "alert_opened") opened[e.subject] = &e;
    if (e.kind == "alert_closed") opened.erase(e.subject);
  }
  for (const auto& [subject, e] : opened) {
    const json body = json::parse(e->body, nullptr, /*allow_exceptions=*/false);
    auto it = sites_.find(e->site_id);
    if (it == sites_.end() || !body.is_object()) continue;
    const std::string kind = body.value("kind", "");
    for (AlertKind k :
         {AlertKind::kUnderAttendance, AlertKind::kOffline, AlertKind::kCameraFault}) {
      if (kind == to_string(k)) it->second.open[k] = {subject, e->at_ms};
    }
  }
  for (auto& [id, s] : sites_) {
    auto latest = store_.latest_observation(id);
    if (!latest) return std::unexpected(latest.error());
    if (*latest) s.last_frame_ms = (*latest)->captured_at_ms;
  }
  return {};
}

std::int64_t Attendance::class_end_ms() const {
  std::int64_t end = slots_.empty() ? 0 : slots_.back().end_ms;
  for (const auto& [id, slots] : site_slots_) {
    if (!slots.empty()) end = std::max(end, slots.back().end_ms);
  }
  return end;
}

const PeriodSlot* Attendance::period_at(const SiteState& s, std::int64_t t) {
  for (const PeriodSlot& slot : *s.slots) {
    if (t >= slot.start_ms && t < slot.end_ms) return &slot;
  }
  return nullptr;
}

Status Attendance::append(const std::string& kind, const std::string& site_id,
                          const std::string& subject, std::int64_t at_ms, const json& body) {
  LedgerEntry e;
  e.kind = kind;
  e.site_id = site_id;
  e.subject = subject;
  e.at_ms = at_ms;
  e.recorded_at_ms = now_ms();
  e.actor = "system";
  auto canonical = canonical_body(body);
  if (!canonical) return std::unexpected(canonical.error());
  e.body = std::move(*canonical);
  auto appended = store_.append(Chain::kLedger, std::move(e));
  if (!appended) return std::unexpected(appended.error());
  if (live_) live_->publish(kind, body);
  return {};
}

Status Attendance::open_alert(SiteState& s, AlertKind kind, std::int64_t started_ms,
                              std::int64_t at_ms, json details, const Observation* evidence) {
  if (s.open.contains(kind)) return {};
  const std::string subject =
      "alert/" + s.site->id + "/" + std::string(to_string(kind)) + "/" + std::to_string(started_ms);
  json body = {{"kind", to_string(kind)},
               {"site_id", s.site->id},
               {"started_ms", started_ms},
               {"detected_ms", at_ms},
               {"expected", s.site->expected_attendees},
               {"details", std::move(details)}};
  if (evidence) {
    auto saved = save_evidence(
        *evidence, "alerts/" + std::string(to_string(kind)) + "-" + std::to_string(started_ms));
    if (saved) {
      body["evidence_path"] = saved->first;
      body["evidence_sha256"] = saved->second;
      body["sequence"] = evidence->sequence;
    } else {
      log::get("attendance")
          ->warn("site {}: no evidence for the alert: {}", s.site->id, saved.error().message);
    }
  }
  if (auto a = append("alert_opened", s.site->id, subject, started_ms, body); !a) return a;
  s.open[kind] = {subject, started_ms};
  log::get("attendance")
      ->warn("site {}: {} since {}", s.site->id, to_string(kind), iso8601_utc(started_ms));
  return {};
}

Status Attendance::close_alert(SiteState& s, AlertKind kind, std::int64_t ended_ms,
                               const std::string& why) {
  auto it = s.open.find(kind);
  if (it == s.open.end()) return {};
  const json body = {{"kind", to_string(kind)},
                     {"site_id", s.site->id},
                     {"started_ms", it->second.started_ms},
                     {"ended_ms", ended_ms},
                     {"minutes", static_cast<double>(ended_ms - it->second.started_ms) / kMinuteMs},
                     {"why", why}};
  if (auto a = append("alert_closed", s.site->id, it->second.id, ended_ms, body); !a) return a;
  s.open.erase(it);
  return {};
}

Status Attendance::observe(const Observation& obs) {
  std::lock_guard lock(mu_);
  auto it = sites_.find(obs.site_id);
  if (it == sites_.end()) return {};
  SiteState& s = it->second;
  const std::int64_t t = obs.captured_at_ms;
  if (t < s.last_frame_ms) return {};  // late (a spool emptying): roll calls still see it
  if (auto c = close_alert(s, AlertKind::kOffline, t, "frames arrive again"); !c) return c;
  s.last_frame_ms = t;
  const PeriodSlot* slot = period_at(s, t);
  if (!slot) {  // between periods nothing is expected of the room
    s.below_since.reset();
    s.fault_since.reset();
    return {};
  }

  const int expected = s.site->expected_attendees;
  if (expected > 0 && obs.count < config_.under_fraction * expected) {
    if (!s.below_since || *s.below_since < slot->start_ms) s.below_since = t;
    if (t - *s.below_since >= ms_of_minutes(config_.under_minutes)) {
      json details = {{"count", obs.count}, {"threshold", config_.under_fraction * expected}};
      if (auto o = open_alert(s, AlertKind::kUnderAttendance, *s.below_since, t, details, &obs);
          !o) {
        return o;
      }
    }
  } else {
    s.below_since.reset();
    if (auto c = close_alert(s, AlertKind::kUnderAttendance, t, "count back to the threshold");
        !c) {
      return c;
    }
  }

  const auto flags = health_flags(obs.health);
  if (!flags.empty()) {
    if (!s.fault_since || *s.fault_since < slot->start_ms) s.fault_since = t;
    std::string reason;
    for (const auto& f : flags) reason += (reason.empty() ? "" : ", ") + f;
    s.fault_reason = reason;
    if (t - *s.fault_since >= ms_of_minutes(config_.camera_fault_minutes)) {
      if (auto o = open_alert(s, AlertKind::kCameraFault, *s.fault_since, t,
                              {{"flags", flags}, {"reason", reason}}, &obs);
          !o) {
        return o;
      }
    }
  } else {
    s.fault_since.reset();
    if (auto c = close_alert(s, AlertKind::kCameraFault, t, "picture healthy again"); !c) return c;
  }
  return {};
}

Status Attendance::heartbeat(const Heartbeat& hb) {
  const json report = json::parse(hb.report, nullptr, /*allow_exceptions=*/false);
  if (!report.is_object() || report.value("state", "") != "no_frames") return {};
  std::lock_guard lock(mu_);
  auto it = sites_.find(hb.site_id);
  if (it == sites_.end()) return {};
  SiteState& s = it->second;
  const std::int64_t t = hb.captured_at_ms;
  const PeriodSlot* slot = period_at(s, t);
  if (!slot) return {};
  // The node is alive but its camera gives nothing since its last frame.
  const std::int64_t since = std::max(s.last_frame_ms, slot->start_ms);
  std::string reason = "the camera gives no frames";
  if (report.contains("camera") && report["camera"].is_object()) {
    const std::string err = report["camera"].value("last_error", "");
    if (!err.empty()) reason += ": " + err;
  }
  if (t - since >= ms_of_minutes(config_.camera_fault_minutes)) {
    return open_alert(s, AlertKind::kCameraFault, since, t, {{"reason", reason}}, nullptr);
  }
  return {};
}

void Attendance::frame_stored(const Observation& obs, const std::string&) {
  if (auto s = observe(obs); !s) {
    log::get("attendance")
        ->error("site {}: frame {}: {}", obs.site_id, obs.sequence, s.error().message);
  }
}

void Attendance::heartbeat_stored(const Heartbeat& hb, const nlohmann::json&) {
  if (auto s = heartbeat(hb); !s) {
    log::get("attendance")
        ->error("site {}: heartbeat {}: {}", hb.site_id, hb.sequence, s.error().message);
  }
}

Status Attendance::tick(std::int64_t now) {
  std::lock_guard one_at_a_time(tick_mu_);
  const auto grace = static_cast<std::int64_t>(config_.roll_call_grace_s * 1000);
  const auto final_after = static_cast<std::int64_t>(config_.final_after_s * 1000);
  struct Due {
    SiteState* site;
    const PeriodSlot* slot;
    size_t roll_call;  // or npos: the period's summary
  };
  std::vector<Due> due;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, s] : sites_) {
      for (const PeriodSlot& slot : *s.slots) {
        if (now < slot.start_ms) continue;
        // Offline: no frame for too long while the period runs.
        if (now < slot.end_ms) {
          const std::int64_t since = std::max(s.last_frame_ms, slot.start_ms);
          if (now - since >= ms_of_minutes(config_.offline_minutes)) {
            json details = {{"last_frame_ms", s.last_frame_ms}};
            if (auto o = open_alert(s, AlertKind::kOffline, since, now, details, nullptr); !o)
              return o;
          }
        } else {
          // The period is over: what was open in it ends with it.
          for (AlertKind k :
               {AlertKind::kUnderAttendance, AlertKind::kOffline, AlertKind::kCameraFault}) {
            auto open = s.open.find(k);
            if (open != s.open.end() && open->second.started_ms < slot.end_ms &&
                open->second.started_ms >= slot.start_ms) {
              if (auto c = close_alert(s, k, slot.end_ms, "the period ended"); !c) return c;
            }
          }
        }
        for (size_t i = 0; i < slot.roll_calls_ms.size(); ++i) {
          const std::string subject = roll_call_subject(id, slot, i);
          if (slot.roll_calls_ms[i] + grace <= now && done_.insert(subject).second) {
            due.push_back({&s, &slot, i});
          }
        }
        if (slot.end_ms + final_after <= now && done_.insert(summary_subject(id, slot)).second) {
          due.push_back({&s, &slot, std::string::npos});
        }
      }
    }
  }
  // Roll calls read frames and write evidence: outside the lock, so uploads never wait on it.
  // Summaries come after the roll calls of their period (same order as pushed).
  Status result;
  for (const Due& d : due) {
    Status done = d.roll_call == std::string::npos ? summarize(*d.site, *d.slot)
                                                   : take_roll_call(*d.site, *d.slot, d.roll_call);
    if (!done) {
      std::lock_guard lock(mu_);
      done_.erase(d.roll_call == std::string::npos
                      ? summary_subject(d.site->site->id, *d.slot)
                      : roll_call_subject(d.site->site->id, *d.slot, d.roll_call));
      log::get("attendance")->error("site {}: {}", d.site->site->id, done.error().message);
      if (result) result = done;  // retried at the next tick
    }
  }
  // The class is over when its last period is: the final report, once every summary is in.
  if (class_end_ms() > 0 && class_end_ms() + final_after <= now) {
    bool ready = false;
    {
      std::lock_guard lock(mu_);
      ready = !done_.contains("final_report");
      for (const auto& [id, s] : sites_) {
        for (const PeriodSlot& slot : *s.slots)
          ready = ready && done_.contains(summary_subject(id, slot));
      }
      if (ready) done_.insert("final_report");
    }
    if (ready) {
      if (auto f = final_report(); !f) {
        std::lock_guard lock(mu_);
        done_.erase("final_report");
        log::get("attendance")->error("final report: {}", f.error().message);
        if (result) result = f;
      }
    }
  }
  return result;
}

Result<std::pair<std::string, std::string>> Attendance::save_evidence(const Observation& obs,
                                                                      const std::string& name) {
  if (obs.frame_path.empty()) return fail("the frame's picture was deleted by retention");
  auto jpeg = read_file(data_dir_ / obs.frame_path);
  if (!jpeg) return std::unexpected(jpeg.error());
  const auto frame = LiveFrame::make(obs, std::make_shared<const std::string>(std::move(*jpeg)));
  const Result<std::string>& annotated = frame->annotated();
  if (!annotated) return std::unexpected(annotated.error());
  const std::string path = "evidence/" + obs.site_id + "/" + name + ".jpg";
  if (auto w = write_file_atomically(data_dir_ / path, *annotated, /*sync=*/true); !w)
    return std::unexpected(w.error());
  return std::pair{path, sha256_hex(*annotated)};
}

Status Attendance::take_roll_call(SiteState& s, const PeriodSlot& slot, size_t i) {
  const std::int64_t at = slot.roll_calls_ms[i];
  const auto grace = static_cast<std::int64_t>(config_.roll_call_grace_s * 1000);
  const auto max_age = static_cast<std::int64_t>(config_.evidence_max_age_s * 1000);
  auto frames = store_.observations_since(s.site->id, at - max_age, 100000);
  if (!frames) return std::unexpected(frames.error());
  // The latest frame at or before the roll call; else the first one just after it.
  const Observation* chosen = nullptr;
  for (const Observation& o : *frames) {
    if (o.captured_at_ms <= at) chosen = &o;
  }
  if (!chosen) {
    for (const Observation& o : *frames) {
      if (o.captured_at_ms <= at + grace) {
        chosen = &o;
        break;
      }
    }
  }
  RollCall r;
  r.site_id = s.site->id;
  r.date = slot.date;
  r.period = slot.period;
  r.label = slot.roll_call_labels[i];
  r.scheduled_ms = at;
  r.expected = s.site->expected_attendees;
  if (chosen) {
    r.counted = chosen->count;
    r.sequence = chosen->sequence;
    r.captured_at_ms = chosen->captured_at_ms;
    auto saved = save_evidence(*chosen, slot.date + "/" + slot.period + "-" + compact(r.label));
    if (saved) {
      r.evidence_path = saved->first;
      r.evidence_sha256 = saved->second;
    } else {  // the count stands; the record says why it has no picture
      r.evidence_error = saved.error().message;
      log::get("attendance")
          ->error("site {}: roll call {}: no evidence: {}", r.site_id, r.label, r.evidence_error);
    }
  }
  return append("roll_call", s.site->id, roll_call_subject(s.site->id, slot, i), at, r.to_json());
}

Status Attendance::summarize(SiteState& s, const PeriodSlot& slot) {
  auto frames = store_.observations_since(s.site->id, slot.start_ms, 1'000'000);
  if (!frames) return std::unexpected(frames.error());
  LedgerQuery q;
  q.kind = "roll_call";
  q.site_id = s.site->id;
  q.limit = 0;
  auto entries = store_.entries(Chain::kLedger, q);
  if (!entries) return std::unexpected(entries.error());
  std::vector<RollCall> calls;
  for (const LedgerEntry& e : *entries) {
    auto r = RollCall::from_json(json::parse(e.body, nullptr, /*allow_exceptions=*/false));
    if (r) calls.push_back(*r);
  }
  const PeriodSummary summary = summarize_period(*s.site, slot, *frames, calls, config_);
  return append("period_summary", s.site->id, summary_subject(s.site->id, slot), slot.end_ms,
                summary.to_json());
}

void Attendance::set_report_clock(const LocalClock& clock) {
  report_clock_ = std::make_unique<LocalClock>(clock);
}

Status Attendance::final_report() {
  auto records = read_records(store_, "");
  if (!records) return std::unexpected(records.error());
  std::vector<PeriodSummary> summaries;
  for (const auto& s : records->summaries) summaries.push_back(s.summary);
  json periods = json::array();
  for (const PeriodSlot& slot : slots_) {
    periods.push_back({{"date", slot.date},
                       {"period", slot.period},
                       {"rollup", period_rollup(site_list_, summaries, slot.date, slot.period,
                                                config_.under_fraction)
                                      .to_json()}});
  }
  json files = json::array();
  if (report_clock_) {
    const LocalClock& clock = *report_clock_;
    std::vector<std::pair<std::string, std::string>> out = {
        {"roll-calls.csv", roll_calls_csv(site_list_, *records, clock)},
        {"alerts.csv", alerts_csv(site_list_, *records, clock)},
        {"summaries.csv", summaries_csv(site_list_, *records)},
        {"rollups.csv", rollups_csv(site_list_, *records, config_.under_fraction)}};
    ReportOptions options;
    options.data_dir = data_dir_;
    options.slots = slots_;
    options.under_fraction = config_.under_fraction;
    options.generated_at_ms = now_ms();
    options.generated_by = "attendance-server";
    std::vector<std::string> districts;
    for (const Site& s : site_list_) {
      if (std::find(districts.begin(), districts.end(), s.district) == districts.end())
        districts.push_back(s.district);
    }
    for (size_t i = 0; i < districts.size(); ++i) {
      auto html = district_report_html(site_list_, districts[i], *records, clock, options);
      if (!html) return std::unexpected(html.error());
      const std::string number = std::to_string(i + 1);
      out.emplace_back("district-" + std::string(number.size() < 2 ? "0" : "") + number + ".html",
                       std::move(*html));
    }
    for (const auto& [name, bytes] : out) {
      const std::string path = "reports/final/" + name;
      if (auto w = write_file_atomically(data_dir_ / path, bytes, /*sync=*/true); !w) return w;
      files.push_back({{"path", path}, {"sha256", sha256_hex(bytes)}, {"bytes", bytes.size()}});
    }
    for (size_t i = 0; i < districts.size(); ++i) files[4 + i]["district"] = districts[i];
  }
  const json body = {
      {"periods", std::move(periods)},
      {"class", class_rollup(site_list_, summaries, config_.under_fraction).to_json()},
      {"files", std::move(files)},
      {"ledger_last_seq", records->last_seq},
      {"ledger_last_hash", records->last_hash}};
  log::get("attendance")->info("the class is over: final report written");
  return append("final_report", "", "final_report", class_end_ms(), body);
}

}  // namespace att
