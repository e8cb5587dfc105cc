#include "analysis/reports/html_report.h"

#include <algorithm>
#include <kainjow/mustache.hpp>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "analysis/domain/rollup.h"
#include "analysis/reports/evidence.h"
#include "analysis/reports/ledger_rows.h"
#include "analysis/reports/report_templates.h"
#include "analysis/reports/vi_format.h"

namespace att {

namespace {

// A template's values: text (escaped where the template places it), lists, booleans and
// objects. Every object sets each name its part of a template reads, false or "" included:
// mustache looks a name it does not find up in the enclosing objects.
using Data = kainjow::mustache::data;
using List = kainjow::mustache::list;

// The page template `name` filled in with `page`; every partial is available to it.
Result<std::string> render_page(std::string_view name, Data& page) {
  for (const ReportTemplate& partial : report_partials()) {
    page.set(std::string(partial.name),
             kainjow::mustache::partial([text = std::string(partial.text)] { return text; }));
  }
  kainjow::mustache::mustache page_template{std::string(report_page(name))};
  if (!page_template.is_valid()) {
    return fail("report template " + std::string(name) + ": " + page_template.error_message());
  }
  std::string out = page_template.render(page);
  if (!page_template.is_valid()) {
    return fail("report template " + std::string(name) + ": " + page_template.error_message());
  }
  return out;
}

std::string count_text(const std::optional<int>& counted, int expected) {
  return (counted ? std::to_string(*counted) : std::string("—")) + "/" + std::to_string(expected);
}

std::string rate_text(const std::optional<int>& counted, int expected) {
  if (!counted || expected <= 0) return "—";
  return vi_percent(static_cast<double>(*counted) / expected);
}

// An evidence picture for the evidence_figure partial: its thumbnail or why there is none,
// captioned with `heading` (time, or period and time), count/expected and the first 12 hex
// digits of the SHA-256.
Data figure(const ReportOptions& options, const std::string& heading, const std::string& path,
            const std::string& sha256, const std::optional<int>& counted, int expected,
            const std::vector<Box>& boxes = {}) {
  const EvidenceThumbnail ev = evidence_thumbnail(
      options.data_dir, path, sha256, options.thumbnail_width, options.thumbnail_quality, boxes);
  Data f;
  f.set("heading", heading);
  f.set("count", count_text(counted, expected));
  f.set("has_sha", !sha256.empty());
  f.set("sha_prefix", sha256.substr(0, 12));
  f.set("has_image", !ev.data_uri.empty());
  f.set("data_uri", ev.data_uri);
  f.set("has_problem", !ev.problem.empty());
  f.set("problem_class", std::string(ev.mismatch ? "warn" : "none"));
  f.set("problem", ev.problem);
  return f;
}

// The values of the page_footer partial: when and by whom, the ledger range read and its
// last hash.
void set_footer(Data& page, const LedgerExtract& records, const LocalClock& clock,
                const ReportOptions& options) {
  const std::int64_t t = options.generated_at_ms;
  page.set("generated_at", vi_date(clock.date(t)) + " " + clock.time(t));
  page.set("timezone", clock.timezone());
  page.set("has_generated_by", !options.generated_by.empty());
  page.set("generated_by", options.generated_by);
  if (records.entries == 0) {
    page.set("ledger", false);
    return;
  }
  Data ledger;
  ledger.set("first_seq", std::to_string(records.first_seq));
  ledger.set("last_seq", std::to_string(records.last_seq));
  ledger.set("entries", std::to_string(records.entries));
  ledger.set("last_hash", records.last_hash);
  page.set("ledger", ledger);
}

// The periods to show: the schedule's, then any found only in the records, in time.
struct PeriodKey {
  std::string date, period;
  std::int64_t order_ms = 0;
  const PeriodSlot* slot = nullptr;
};

std::vector<PeriodKey> periods_of(const ReportOptions& options, const LedgerExtract& records,
                                  const std::set<std::string>& site_ids) {
  std::map<std::pair<std::string, std::string>, PeriodKey> keys;
  for (const PeriodSlot& slot : options.slots) {
    keys[{slot.date, slot.period}] = {slot.date, slot.period, slot.start_ms, &slot};
  }
  const auto seen = [&](const std::string& date, const std::string& period, std::int64_t ms) {
    auto [it, fresh] = keys.try_emplace({date, period}, PeriodKey{date, period, ms, nullptr});
    if (!fresh && !it->second.slot) it->second.order_ms = std::min(it->second.order_ms, ms);
  };
  for (const auto& c : records.roll_calls) {
    if (site_ids.contains(c.roll_call.site_id))
      seen(c.roll_call.date, c.roll_call.period, c.roll_call.scheduled_ms);
  }
  for (const auto& s : records.summaries) {
    if (site_ids.contains(s.summary.site_id)) seen(s.summary.date, s.summary.period, s.at_ms);
  }
  std::vector<PeriodKey> out;
  for (auto& [k, v] : keys) out.push_back(v);
  std::stable_sort(out.begin(), out.end(), [](const PeriodKey& a, const PeriodKey& b) {
    return std::tuple(a.date, a.order_ms) < std::tuple(b.date, b.order_ms);
  });
  return out;
}

// The scheduled period an alert started in, or none.
const PeriodSlot* slot_of(const ReportOptions& options, std::int64_t t) {
  for (const PeriodSlot& slot : options.slots) {
    if (t >= slot.start_ms && t < slot.end_ms) return &slot;
  }
  return nullptr;
}

}  // namespace

Result<std::string> site_report_html(const std::vector<Site>& sites, const std::string& site_id,
                                     const LedgerExtract& records, const LocalClock& clock,
                                     const ReportOptions& options) {
  const SiteIndex index(sites);
  const Site* site = index.find(site_id);
  if (!site) return fail("no site '" + site_id + "'");

  // This site's records, each in its period.
  using Key = std::pair<std::string, std::string>;
  std::map<Key, std::vector<const LedgerExtract::Call*>> calls;
  std::map<Key, const LedgerExtract::Summary*> summary;
  std::map<Key, std::vector<const LedgerExtract::Alert*>> alerts;
  std::vector<const LedgerExtract::Alert*> other_alerts;
  for (const auto& c : records.roll_calls) {
    if (c.roll_call.site_id == site_id) calls[{c.roll_call.date, c.roll_call.period}].push_back(&c);
  }
  for (auto& [k, v] : calls) {
    std::stable_sort(v.begin(), v.end(), [](const auto* a, const auto* b) {
      return a->roll_call.scheduled_ms < b->roll_call.scheduled_ms;
    });
  }
  for (const auto& s : records.summaries) {
    if (s.summary.site_id == site_id) summary[{s.summary.date, s.summary.period}] = &s;
  }
  for (const auto& a : records.alerts) {
    if (a.site_id != site_id) continue;
    if (const PeriodSlot* slot = slot_of(options, a.started_ms)) {
      alerts[{slot->date, slot->period}].push_back(&a);
    } else {
      other_alerts.push_back(&a);
    }
  }

  // The alerts_table partial's values: the alerts in the order they started.
  const auto alert_table = [&](std::vector<const LedgerExtract::Alert*> list) {
    std::stable_sort(list.begin(), list.end(),
                     [](const auto* a, const auto* b) { return a->started_ms < b->started_ms; });
    List rows;
    for (const auto* a : list) {
      Data row;
      row.set("kind", std::string(alert_kind_vi(a->kind)));
      row.set("started", clock.time(a->started_ms));
      row.set("open", !a->ended_ms.has_value());
      row.set("ended", a->ended_ms ? clock.time(*a->ended_ms) : "");
      row.set("minutes", a->ended_ms ? vi_number(a->minutes, 1) : "");
      row.set("why_ended", alert_end_vi(a->why_ended));
      row.set("figure",
              a->evidence_path.empty()
                  ? Data(false)
                  : figure(options, clock.time(a->started_ms), a->evidence_path, a->evidence_sha256,
                           a->count, a->expected > 0 ? a->expected : site->expected_attendees));
      row.set("seqs",
              seq_text(a->opened_seq) + (a->closed_seq > 0 ? ", " + seq_text(a->closed_seq) : ""));
      rows.push_back(row);
    }
    Data table;
    table.set("alerts", rows);
    return table;
  };

  const auto call_row = [&](const LedgerExtract::Call& c) {
    const RollCall& r = c.roll_call;
    const bool framed = has_frame(r);
    Data row;
    row.set("label", r.label);
    row.set("captured", framed ? clock.time(r.captured_at_ms, true) : "—");
    row.set("expected", std::to_string(r.expected));
    row.set("counted", r.counted ? std::to_string(*r.counted) : "—");
    row.set("corrected", c.corrected);
    row.set("counted_as_taken", c.counted_as_taken ? std::to_string(*c.counted_as_taken) : "—");
    row.set("corrected_by", c.corrected_by);
    row.set("correction_seq", seq_text(c.correction_seq));
    row.set("correction_reason", c.correction_reason);
    row.set("rate", rate_text(r.standing(), r.expected));
    row.set("set_aside", r.counted && !r.standing());
    row.set("set_aside_why", camera_problems_vi(r.set_aside));
    row.set("no_frame", !framed);
    row.set("not_saved", framed && r.evidence_path.empty());
    row.set("figure", framed && !r.evidence_path.empty()
                          ? figure(options, r.label, r.evidence_path, r.evidence_sha256, r.counted,
                                   r.expected, r.boxes)
                          : Data(false));
    row.set("seq", seq_text(c.seq));
    return row;
  };

  const auto summary_data = [](const LedgerExtract::Summary& entry) {
    const PeriodSummary& s = entry.summary;
    Data d;
    d.set("peak", std::to_string(s.peak));
    d.set("median", std::to_string(s.median));
    d.set("minimum", std::to_string(s.minimum));
    d.set("rate", vi_percent(s.attendance_rate));
    d.set("late_start", std::string(yes_no_vi(s.late_start)));
    d.set("early_leave", std::string(yes_no_vi(s.early_leave)));
    d.set("person_minutes", vi_number(s.present_person_minutes, 1));
    d.set("covered_minutes", vi_number(s.covered_minutes, 1));
    d.set("seq", seq_text(entry.seq));
    d.set("no_frames", s.frames == 0);
    return d;
  };

  // Each day in a section of its own, its periods in time.
  List days;
  List periods;
  const auto end_day = [&] {
    if (periods.empty()) return;
    Data day;
    day.set("periods", periods);
    days.push_back(day);
    periods.clear();
  };
  std::string current_day;
  for (const PeriodKey& p : periods_of(options, records, {site_id})) {
    if (p.date != current_day) {
      end_day();
      current_day = p.date;
    }
    const Key key{p.date, p.period};
    Data period;
    period.set("title", period_title_vi(p.date, p.period));
    List call_rows;
    if (auto it = calls.find(key); it != calls.end()) {
      for (const auto* c : it->second) call_rows.push_back(call_row(*c));
    }
    period.set("has_calls", !call_rows.empty());
    period.set("calls", call_rows);
    const auto s = summary.find(key);
    period.set("summary", s == summary.end() ? Data(false) : summary_data(*s->second));
    const auto a = alerts.find(key);
    period.set("alert_table", a == alerts.end() ? Data(false) : alert_table(a->second));
    periods.push_back(period);
  }
  end_day();

  Data page;
  page.set("subject", site->name);
  page.set("name", site->name);
  page.set("id", site->id);
  page.set("district", site->district);
  page.set("level", std::string(school_level_vi(site->level)));
  page.set("address", site->address);
  page.set("expected", std::to_string(site->expected_attendees));
  page.set("days", days);
  page.set("other_alert_table", other_alerts.empty() ? Data(false) : alert_table(other_alerts));
  set_footer(page, records, clock, options);
  return render_page("site_report", page);
}

Result<std::string> district_report_html(const std::vector<Site>& sites,
                                         const std::string& district, const LedgerExtract& records,
                                         const LocalClock& clock, const ReportOptions& options) {
  std::vector<Site> mine;
  for (const Site& s : sites) {
    if (s.district == district) mine.push_back(s);
  }
  if (mine.empty()) return fail("no site in district '" + district + "'");
  std::set<std::string> ids;
  int expected = 0;
  for (const Site& s : mine) {
    ids.insert(s.id);
    expected += s.expected_attendees;
  }
  const std::vector<PeriodKey> periods = periods_of(options, records, ids);
  const std::vector<PeriodSummary> summaries = period_summaries(records);

  // Roll-up per period and for the class.
  List rollups;
  const auto rollup_row = [&](const std::string& label, const RollupRow& r) {
    Data row;
    row.set("label", label);
    row.set("sites", std::to_string(r.sites));
    row.set("sites_counted", std::to_string(r.sites_counted));
    row.set("sites_short", std::to_string(r.sites_short));
    row.set("expected", vi_number(r.expected));
    row.set("counted", vi_number(r.counted));
    row.set("rate", r.expected_counted > 0 ? vi_percent(r.rate()) : "—");
    rollups.push_back(row);
  };
  for (const PeriodKey& p : periods) {
    rollup_row(period_title_vi(p.date, p.period),
               period_rollup(mine, summaries, p.date, p.period, options.under_fraction).province);
  }
  rollup_row("Cả khoá", class_rollup(mine, summaries, options.under_fraction).province);

  // Each site, each period.
  using Key = std::tuple<std::string, std::string, std::string>;  // site, date, period
  std::map<Key, const LedgerExtract::Summary*> summary;
  std::map<Key, const LedgerExtract::Call*> last_call;
  std::map<Key, std::map<std::string, int>> alert_count;  // by kind
  std::map<std::string, std::map<std::string, int>> other_alerts;
  for (const auto& s : records.summaries) {
    if (ids.contains(s.summary.site_id))
      summary[{s.summary.site_id, s.summary.date, s.summary.period}] = &s;
  }
  for (const auto& c : records.roll_calls) {
    const RollCall& r = c.roll_call;
    if (!ids.contains(r.site_id)) continue;
    auto& last = last_call[{r.site_id, r.date, r.period}];
    if (!last || r.scheduled_ms >= last->roll_call.scheduled_ms) last = &c;
  }
  for (const auto& a : records.alerts) {
    if (!ids.contains(a.site_id)) continue;
    if (const PeriodSlot* slot = slot_of(options, a.started_ms)) {
      ++alert_count[{a.site_id, slot->date, slot->period}][a.kind];
    } else {
      ++other_alerts[a.site_id][a.kind];
    }
  }
  List kind_labels;
  for (AlertKind k : kAlertKinds) kind_labels.push_back(std::string(alert_kind_vi(to_string(k))));
  const auto counts_of = [](const std::map<std::string, int>* by_kind) {
    List counts;
    for (AlertKind k : kAlertKinds) {
      int n = 0;
      if (by_kind) {
        if (auto c = by_kind->find(std::string(to_string(k))); c != by_kind->end()) n = c->second;
      }
      counts.push_back(std::to_string(n));
    }
    return counts;
  };

  List site_list;
  for (const Site& site : mine) {
    List rows;
    for (const PeriodKey& p : periods) {
      const Key key{site.id, p.date, p.period};
      Data row;
      row.set("no_data", false);
      row.set("outside", false);
      row.set("title", period_title_vi(p.date, p.period));
      auto s = summary.find(key);
      if (s != summary.end() && s->second->summary.frames > 0) {
        const PeriodSummary& x = s->second->summary;
        row.set("expected", std::to_string(x.expected));
        row.set("median", std::to_string(x.median));
        row.set("rate", vi_percent(x.attendance_rate));
      } else {
        row.set("expected", std::to_string(site.expected_attendees));
        row.set("median", "—");
        row.set("rate", "—");
      }
      const auto counts = alert_count.find(key);
      row.set("alert_counts", counts_of(counts == alert_count.end() ? nullptr : &counts->second));
      row.set("seq", s != summary.end() ? seq_text(s->second->seq) : "");
      rows.push_back(row);
    }
    if (auto o = other_alerts.find(site.id); o != other_alerts.end()) {
      Data row;
      row.set("no_data", false);
      row.set("outside", true);
      row.set("title", "");
      row.set("expected", "");
      row.set("median", "");
      row.set("rate", "");
      row.set("alert_counts", counts_of(&o->second));
      row.set("seq", "");
      rows.push_back(row);
    }
    if (rows.empty()) {
      Data row;
      row.set("no_data", true);
      rows.push_back(row);
    }
    for (size_t i = 0; i < rows.size(); ++i) rows[i].set("first", i == 0);

    // The last roll call of each period, with its picture.
    List last_calls;
    for (const PeriodKey& p : periods) {
      auto it = last_call.find({site.id, p.date, p.period});
      if (it == last_call.end()) continue;
      const RollCall& r = it->second->roll_call;
      const std::string heading =
          period_vi(r.period) + " " + vi_date(r.date).substr(0, 5) + " " + r.label;
      Data call;
      call.set("heading", heading);
      call.set("count", count_text(r.counted, r.expected));
      call.set("figure", has_frame(r) ? figure(options, heading, r.evidence_path, r.evidence_sha256,
                                               r.counted, r.expected, r.boxes)
                                      : Data(false));
      last_calls.push_back(call);
    }

    Data entry;
    entry.set("name", site.name);
    entry.set("id", site.id);
    entry.set("level", std::string(school_level_vi(site.level)));
    entry.set("rowspan", std::to_string(rows.size()));
    entry.set("rows", rows);
    entry.set("last_calls", last_calls);
    site_list.push_back(entry);
  }

  Data page;
  page.set("subject", district);
  page.set("district", district);
  page.set("site_count", std::to_string(mine.size()));
  page.set("expected", vi_number(expected));
  page.set("under_percent", vi_percent(options.under_fraction));
  page.set("rollups", rollups);
  page.set("alert_kinds", kind_labels);
  // A site without data spans the period, the figures, a column per alert kind and the entry.
  page.set("no_data_span", std::to_string(5 + std::size(kAlertKinds)));
  page.set("site_list", site_list);
  set_footer(page, records, clock, options);
  return render_page("district_report", page);
}

}  // namespace att
