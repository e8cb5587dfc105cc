// A class day of the demo province, end to end, as tests/support/demo_day.h replays it: the
// 164 sites of the sample province each upload a signed frame every 5 minutes from 07:20 to
// 17:00, whose painted count follows the script there (tp-01 late, sh-01 offline, pt-01's
// camera covered, td-01 leaving early). Real detection on real frames is tested in
// test_detector, test_eval and test_end_to_end; everything else here is the real thing:
// signatures, the ingest queue, the occupancy window, SQLite, the ledger, the evidence files
// and the final report.
//
// Then: every roll call, alert, summary, roll-up and report file the auditor signs, and
// verify passing on the day's database and failing, naming the entry, on a tampered copy.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "analysis/app/service.h"
#include "analysis/domain/attendance.h"
#include "analysis/domain/ledger.h"
#include "analysis/domain/local_clock.h"
#include "analysis/domain/records.h"
#include "analysis/store/ledger_file.h"
#include "common/sha256.h"
#include "tests/support/demo_day.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::day_minute;
using testing::demo_script;
using testing::RawDb;

class DemoDay : public testing::DemoDayTest {
 protected:
  std::vector<LedgerEntry> entries(const std::string& kind) {
    LedgerQuery q;
    q.kind = kind;
    q.limit = 0;
    auto e = service_->store().entries(Chain::kLedger, q);
    EXPECT_TRUE(e) << e.error().message;
    return e ? *e : std::vector<LedgerEntry>{};
  }

  const Site& site(const std::string& id) const {
    for (const Site& s : config_.sites) {
      if (s.id == id) return s;
    }
    throw std::runtime_error("no site " + id);
  }
};

// "tp-01 under_attendance 07:30-08:05 (count back to the threshold)", in the province's time.
std::string alert_line(const LedgerExtract::Alert& a, const LocalClock& clock) {
  return a.site_id + " " + a.kind + " " + clock.time(a.started_ms) + "-" +
         (a.ended_ms ? clock.time(*a.ended_ms) : std::string("open")) + " (" + a.why_ended + ")";
}

// As the reports write a name: "Phòng GD&ĐT" is "Phòng GD&amp;ĐT".
std::string html_text(const std::string& text) {
  std::string out;
  for (char c : text)
    out += c == '&' ? std::string("&amp;") : c == '<' ? "&lt;" : std::string(1, c);
  return out;
}

TEST_F(DemoDay, TheDemoProvincesDayEndsInASignableRecordThatVerifyChecks) {
  ASSERT_NO_FATAL_FAILURE(start());
  const auto started = std::chrono::steady_clock::now();
  ASSERT_NO_FATAL_FAILURE(run_day());
  std::printf("[ demo day ] 164 sites, a frame every 5 min from 07:20 to 17:00: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

  auto records = read_records(service_->store(), "");
  ASSERT_TRUE(records) << records.error().message;
  auto clock = LocalClock::for_schedule(config_.schedule);
  ASSERT_TRUE(clock) << clock.error().message;

  // Roll calls: 8 in the morning (07:45 ... 11:15) and 7 in the afternoon (13:45 ... 16:45)
  // at every site, each counting the frame of its minute, with its evidence on disk.
  auto slots = expand_schedule(config_.schedule);
  ASSERT_TRUE(slots);
  size_t per_site = 0;
  for (const PeriodSlot& slot : *slots) per_site += slot.roll_calls_ms.size();
  ASSERT_EQ(per_site, 15u);
  ASSERT_EQ(records->roll_calls.size(), 164 * per_site);
  std::map<std::string, int> without_count;
  for (const auto& call : records->roll_calls) {
    const RollCall& r = call.roll_call;
    const Site& s = site(r.site_id);
    const int m = (r.label[0] - '0') * 600 + (r.label[1] - '0') * 60 + std::stoi(r.label.substr(3));
    const int step = (m - day_minute(7, 20)) / kStepMinutes;
    const auto frame = demo_script(s, m, step);
    if (!frame) {
      EXPECT_FALSE(r.counted) << call.subject;
      ++without_count[r.site_id];
      continue;
    }
    ASSERT_TRUE(r.counted) << call.subject;
    EXPECT_EQ(*r.counted, frame->people) << call.subject;
    EXPECT_EQ(r.standing().has_value(), !frame->covered) << call.subject;  // covered: set aside
    EXPECT_EQ(r.expected, s.expected_attendees);
    EXPECT_EQ(r.captured_at_ms, at(m)) << call.subject;
    ASSERT_FALSE(r.evidence_path.empty()) << call.subject << ": " << r.evidence_error;
    EXPECT_EQ(sha256_hex(testing::read_file(config_.data_dir / r.evidence_path)), r.evidence_sha256)
        << r.evidence_path;
  }
  // sh-01 was offline at 09:15 and 09:45: those two roll calls say so, with no count.
  EXPECT_EQ(without_count, (std::map<std::string, int>{{"sh-01", 2}}));

  // Alerts: exactly the script's, each opening and closing at its minute; pt-01's covered
  // camera is a camera fault, its count of 0 no under-attendance.
  std::vector<std::string> alerts;
  for (const auto& a : records->alerts) alerts.push_back(alert_line(a, *clock));
  EXPECT_THAT(alerts, ::testing::UnorderedElementsAre(
                          "tp-01 under_attendance 07:30-08:05 (count back to the threshold)",
                          "sh-01 offline 08:55-09:50 (frames arrive again)",
                          "pt-01 camera_fault 14:00-14:30 (picture healthy again)",
                          "td-01 under_attendance 16:20-17:00 (the period ended)",
                          "tp-01 late_start 07:45-08:15 (the class has arrived)",
                          "td-01 early_leave 16:45-17:00 (the period ended)"));
  for (const auto& a : records->alerts) {
    if (a.kind != "offline") {  // an offline site has no picture to show
      ASSERT_FALSE(a.evidence_path.empty()) << a.subject;
      EXPECT_EQ(sha256_hex(testing::read_file(config_.data_dir / a.evidence_path)),
                a.evidence_sha256);
    }
  }

  // Period summaries: two per site; late start and early leave only where the script has them.
  ASSERT_EQ(records->summaries.size(), 164u * 2);
  std::vector<std::string> late, early;
  for (const auto& s : records->summaries) {
    if (s.summary.late_start) late.push_back(s.summary.site_id + " " + s.summary.period);
    if (s.summary.early_leave) early.push_back(s.summary.site_id + " " + s.summary.period);
    const Site& site_ = site(s.summary.site_id);
    if (site_.id == "tp-01" || site_.id == "sh-01" || site_.id == "pt-01" || site_.id == "td-01")
      continue;
    EXPECT_EQ(s.summary.peak, site_.expected_attendees) << s.summary.site_id;
    EXPECT_EQ(s.summary.minimum, site_.expected_attendees - 2) << s.summary.site_id;
  }
  EXPECT_THAT(late, ::testing::ElementsAre("tp-01 morning"));
  EXPECT_THAT(early, ::testing::ElementsAre("td-01 afternoon"));

  // The final report: once, at the first tick after the end, with roll-ups that add up and
  // files whose SHA-256 it records.
  const auto finals = entries("final_report");
  ASSERT_EQ(finals.size(), 1u);
  EXPECT_EQ(finals[0].at_ms, at(day_minute(17, 0)));
  const json report = json::parse(finals[0].body);
  auto adds_up = [&](const json& rollup, const std::string& what) {
    SCOPED_TRACE(what);
    int sites = 0, counted = 0, expected = 0;
    for (const json& d : rollup["by_district"]) {
      sites += d["sites"].get<int>();
      counted += d["counted"].get<int>();
      expected += d["expected"].get<int>();
    }
    EXPECT_EQ(sites, 164);
    EXPECT_EQ(counted, rollup["province"]["counted"].get<int>());
    EXPECT_EQ(expected, rollup["province"]["expected"].get<int>());
    int by_level = 0;
    for (const json& l : rollup["by_level"]) by_level += l["counted"].get<int>();
    EXPECT_EQ(by_level, counted);
  };
  ASSERT_EQ(report["periods"].size(), 2u);
  for (const json& p : report["periods"]) adds_up(p["rollup"], p["period"].get<std::string>());
  adds_up(report["class"], "class");
  int expected_all = 0;
  for (const Site& s : config_.sites) expected_all += s.expected_attendees;
  EXPECT_EQ(report["class"]["province"]["expected"], expected_all);

  std::set<std::string> districts;
  for (const Site& s : config_.sites) districts.insert(s.district);
  ASSERT_EQ(report["files"].size(), 4 + districts.size());
  for (const json& f : report["files"]) {
    const std::string bytes = testing::read_file(config_.data_dir / f["path"].get<std::string>());
    EXPECT_EQ(sha256_hex(bytes), f["sha256"]) << f["path"];
    if (!f.contains("district")) continue;
    for (const Site& s : config_.sites) {  // each district's report names its own sites only
      EXPECT_EQ(bytes.find(html_text(s.name)) != std::string::npos, s.district == f["district"])
          << f["path"] << " and " << s.id;
    }
  }
  const std::string calls_csv =
      testing::read_file(config_.data_dir / "reports/final/roll-calls.csv");
  EXPECT_EQ(std::count(calls_csv.begin(), calls_csv.end(), '\n'), 1 + 164 * 15);

  // verify: the day's database passes; a copy with one count changed fails, naming it.
  service_.reset();
  auto intact = verify_database(config_.data_dir / "attendance.db");
  ASSERT_TRUE(intact) << intact.error().message;
  EXPECT_TRUE(intact->intact());
  EXPECT_EQ(intact->ledger_entries, static_cast<std::int64_t>(164 * 15 + 6 * 2 + 164 * 2 + 1));

  const fs::path copy = dir_ / "copy";
  fs::create_directories(copy);
  for (const char* name : {"attendance.db", "attendance.db-wal", "ledger.head"}) {
    if (fs::exists(config_.data_dir / name)) fs::copy_file(config_.data_dir / name, copy / name);
  }
  std::int64_t seq = 0;
  {
    RawDb raw(copy / "attendance.db");
    raw.exec("DROP TRIGGER ledger_no_update");  // what someone with the sqlite3 shell can do
    seq = std::stoll(raw.scalar("SELECT seq FROM ledger WHERE subject = 'roll_call/tp-01/" + date_ +
                                "/morning/0745'"));
    const int late = site("tp-01").expected_attendees / 4;  // counted at 07:45; made full
    raw.exec("UPDATE ledger SET body = replace(body, '\"counted\":" + std::to_string(late) +
             ",', '\"counted\":" + std::to_string(late * 4) +
             ",') WHERE seq = " + std::to_string(seq));
    ASSERT_EQ(raw.scalar("SELECT changes()"), "1");
  }
  auto tampered = verify_database(copy / "attendance.db");
  ASSERT_TRUE(tampered) << tampered.error().message;
  ASSERT_EQ(tampered->problems.size(), 1u);
  EXPECT_EQ(describe(tampered->problems[0]), "ledger entry " + std::to_string(seq) +
                                                 ": edited: its hash does not match its content");
}

}  // namespace
}  // namespace att
