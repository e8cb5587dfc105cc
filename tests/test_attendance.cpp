// The roll book on a scripted class morning: three sites, frames every minute with the
// counts and health a script gives, time injected (no sleeping). Roll calls at the set
// times with evidence, alerts opening and closing at the right minutes, period summaries,
// and a restart that takes nothing twice.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "analysis/domain/attendance.h"
#include "analysis/domain/records.h"
#include "analysis/domain/rollup.h"
#include "analysis/reports/final_report.h"
#include "analysis/store/sqlite_store.h"
#include "analysis/web/auth.h"
#include "analysis/web/records_api.h"
#include "analysis/web/route_table.h"
#include "common/sha256.h"
#include "common/time_util.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

using nlohmann::json;

constexpr char kZone[] = "Asia/Ho_Chi_Minh";
constexpr char kDate[] = "2027-07-12";

// ms of a local time on the class day.
std::int64_t at(int hour, int minute) {
  return local_to_utc_ms(kZone, kDate, hour * 60 + minute).value();
}

Schedule morning_only() {
  Schedule s;
  s.timezone = kZone;
  s.days.push_back({kDate, {Period{"morning", 7 * 60 + 30, 11 * 60 + 30}}});
  return s;  // roll calls 15 min after the start, then every 30 min
}

TEST(Schedule, PeriodsArePlacedInTheProvincesTimeWithTheirRollCalls) {
  auto slots = expand_schedule(morning_only());
  ASSERT_TRUE(slots) << slots.error().message;
  ASSERT_EQ(slots->size(), 1u);
  const PeriodSlot& m = (*slots)[0];
  EXPECT_EQ(iso8601_utc(m.start_ms), "2027-07-12T00:30:00.000Z");  // 07:30 at UTC+7
  EXPECT_EQ(iso8601_utc(m.end_ms), "2027-07-12T04:30:00.000Z");
  EXPECT_THAT(m.roll_call_labels, ::testing::ElementsAre("07:45", "08:15", "08:45", "09:15",
                                                         "09:45", "10:15", "10:45", "11:15"));
  EXPECT_EQ(m.roll_calls_ms.front(), at(7, 45));

  Schedule bad = morning_only();
  bad.timezone = "Asia/Nowhere";
  auto refused = expand_schedule(bad);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "unknown time zone 'Asia/Nowhere' (not in /usr/share/zoneinfo)");
}

// A site's frame at a minute of the day: its count and health flags, or none.
using Script = std::function<std::optional<std::pair<int, std::vector<std::string>>>(int)>;

TEST(Schedule, ASiteThatKeepsOtherHoursHasItsOwnPeriodsOnTheDatesItLists) {
  Schedule s = morning_only();
  s.days.push_back({"2027-07-13", {Period{"morning", 7 * 60 + 30, 11 * 60 + 30}}});
  s.overrides["mt-01"] = {{kDate, {Period{"morning", 9 * 60, 11 * 60 + 30}}}};
  auto own = expand_schedule(s, "mt-01");
  ASSERT_TRUE(own) << own.error().message;
  ASSERT_EQ(own->size(), 2u);
  EXPECT_EQ((*own)[0].start_ms, at(9, 0));
  EXPECT_EQ((*own)[0].roll_call_labels.front(), "09:15");
  EXPECT_EQ((*own)[1].date, "2027-07-13");  // the other day as everyone's
  EXPECT_EQ((*own)[1].roll_call_labels.front(), "07:45");
  EXPECT_EQ(expand_schedule(s, "td-01")->front().start_ms, at(7, 30));
}

class ClassMorning : public ::testing::Test {
 protected:
  void SetUp() override {
    sites_ = testing::small_province();  // td-01 60, td-02 45, mt-01 38 expected
    auto store = SqliteStore::open(dir_ / "attendance.db");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(store_->sync_sites(sites_));
    auto slots = expand_schedule(morning_only());
    ASSERT_TRUE(slots);
    slots_ = *slots;
    attendance_ =
        std::make_unique<Attendance>(sites_, slots_, config_, *store_, *store_, dir_.path());
    ASSERT_TRUE(attendance_->restore());
  }

  // A frame of `site` at `t` with the windowed `count` and the node's health `flags`.
  void frame(const std::string& site, std::int64_t t, int count,
             const std::vector<std::string>& flags = {}) {
    Observation o;
    o.site_id = site;
    o.sequence = ++sequence_[site];
    o.captured_at_ms = t;
    o.received_at_ms = t + 500;
    o.count = o.frame_count = count;
    o.detector = "fused";
    o.width = 320;
    o.height = 180;
    o.frame_path = "frames/" + site + "/" + std::to_string(o.sequence) + ".jpg";
    testing::write_file(dir_ / o.frame_path, jpeg_);
    o.frame_sha256 = sha256_hex(jpeg_);
    o.health = json{{"flags", flags}}.dump();
    if (count > 0) o.boxes = {kPerson};
    ASSERT_EQ(store_->insert_observation(o), InsertOutcome::kInserted);
    ASSERT_TRUE(attendance_->observe(o));
  }

  // Plays the morning minute by minute: each site's script says its frame (or none) at
  // each minute, and the clock ticks.
  void play(const std::map<std::string, Script>& scripts, int from_minute, int to_minute) {
    for (int m = from_minute; m < to_minute; ++m) {
      const std::int64_t t = at(0, m);
      for (const auto& [site, script] : scripts) {
        if (auto f = script(m)) frame(site, t, f->first, f->second);
      }
      ASSERT_TRUE(attendance_->tick(t + 30'000));
    }
  }

  std::vector<LedgerEntry> ledger(const std::string& kind, const std::string& site = "") {
    LedgerQuery q;
    q.kind = kind;
    q.site_id = site;
    q.limit = 0;
    return store_->entries(Chain::kLedger, q).value();
  }

  testing::TempDir dir_;
  std::vector<Site> sites_;
  std::unique_ptr<SqliteStore> store_;
  std::vector<PeriodSlot> slots_;
  AttendanceConfig config_;  // under 80 % for 15 min, offline 10 min, camera fault 10 min
  std::unique_ptr<Attendance> attendance_;
  std::map<std::string, std::int64_t> sequence_;
  const std::string jpeg_ = testing::synthetic_jpeg(320, 180);
  static constexpr Box kPerson{40.5f, 60, 32, 36.5f, 0.875f};  // each frame's one box
};

constexpr int kStart = 7 * 60 + 30, kEnd = 11 * 60 + 30;

// td-01: full all morning (58 of 60). td-02: 20 of 45 until 08:10, then 44 (a late start).
// mt-01: 35 of 38 until 09:00, no frame until 10:00, then a dark picture for 15 minutes,
// then 10 people to the end (most left early).
std::map<std::string, Script> the_morning() {
  using Frame = std::optional<std::pair<int, std::vector<std::string>>>;
  return {{"td-01",
           [](int) -> Frame {
             return std::pair{58, std::vector<std::string>{}};
           }},
          {"td-02",
           [](int m) -> Frame {
             return std::pair{m < 8 * 60 + 10 ? 20 : 44, std::vector<std::string>{}};
           }},
          {"mt-01", [](int m) -> Frame {
             if (m < 9 * 60) return std::pair{35, std::vector<std::string>{}};
             if (m < 10 * 60) return std::nullopt;
             if (m < 10 * 60 + 15) return std::pair{3, std::vector<std::string>{"dark"}};
             return std::pair{10, std::vector<std::string>{}};
           }}};
}

TEST_F(ClassMorning, RollCallsAreTakenAtTheirTimesWithEvidence) {
  play(the_morning(), kStart, kEnd + 5);
  const auto calls = ledger("roll_call");
  ASSERT_EQ(calls.size(), 3u * 8u);
  std::map<std::string, std::vector<RollCall>> by_site;
  for (const LedgerEntry& e : calls) {
    auto r = RollCall::from_json(json::parse(e.body));
    ASSERT_TRUE(r) << e.body;
    EXPECT_EQ(e.at_ms, r->scheduled_ms);
    by_site[r->site_id].push_back(*r);
  }
  for (const RollCall& r : by_site["td-01"]) {
    EXPECT_EQ(r.counted, 58) << r.label;
    EXPECT_EQ(r.expected, 60);
    EXPECT_LE(r.captured_at_ms, r.scheduled_ms);  // the frame before the roll call
    EXPECT_GT(r.captured_at_ms, r.scheduled_ms - 60'000);
    const std::string evidence = testing::read_file(dir_ / r.evidence_path);
    ASSERT_FALSE(evidence.empty()) << r.evidence_path;
    EXPECT_EQ(sha256_hex(evidence), r.evidence_sha256);
    EXPECT_TRUE(evidence == jpeg_);  // as the camera gave it: the page draws the boxes
    EXPECT_THAT(r.boxes, ::testing::ElementsAre(kPerson));
    EXPECT_TRUE(r.set_aside.empty());
  }
  EXPECT_EQ(by_site["td-02"][0].counted, 20);  // 07:45
  EXPECT_EQ(by_site["td-02"][1].counted, 44);  // 08:15
  // mt-01 at 09:15 and 09:45: no frame within 10 minutes before: no count, no evidence.
  const auto& mt = by_site["mt-01"];
  EXPECT_EQ(mt[2].label, "08:45");
  EXPECT_EQ(mt[2].counted, 35);
  EXPECT_EQ(mt[3].label, "09:15");
  EXPECT_FALSE(mt[3].counted);
  EXPECT_TRUE(mt[3].evidence_path.empty());
  EXPECT_FALSE(mt[4].counted);
  EXPECT_EQ(mt[5].counted, 10);  // 10:15: the picture is healthy again from 10:15
}

// A site whose node counts: a count without a picture every 5 s, and an evidence picture
// (the node's count of that very frame) a second before each roll call and every minute.
TEST_F(ClassMorning, AnEdgeSitesRollCallHasTheNodesCountAndItsEvidencePicture) {
  EXPECT_EQ(attendance_->roll_calls_between("td-01", at(7, 30), at(8, 30)),
            (std::vector<std::int64_t>{at(7, 45), at(8, 15)}));
  EXPECT_TRUE(attendance_->roll_calls_between("td-01", at(12, 0), at(23, 0)).empty());
  EXPECT_TRUE(attendance_->roll_calls_between("nowhere", at(7, 30), at(8, 30)).empty());

  std::int64_t evidence_sequence = -1;
  for (std::int64_t t = at(7, 40); t <= at(7, 46); t += 5'000) {
    Observation o;
    o.site_id = "td-01";
    o.sequence = ++sequence_["td-01"];
    o.captured_at_ms = t;
    o.received_at_ms = t + 300;
    o.count = 57;
    o.frame_count = 50;
    o.detector = "yunet";
    o.width = 320;
    o.height = 180;
    o.counted_by = CountedBy::kNode;
    o.frame_sha256 = sha256_hex("count " + std::to_string(t));
    if (t == at(7, 44) + 55'000) {  // the node's roll-call picture, 07:44:59
      o.count = 56;
      o.frame_path = "frames/td-01/evidence.jpg";
      testing::write_file(dir_ / o.frame_path, jpeg_);
      o.frame_sha256 = sha256_hex(jpeg_);
      evidence_sequence = o.sequence;
    }
    ASSERT_EQ(store_->insert_observation(o), InsertOutcome::kInserted);
    ASSERT_TRUE(attendance_->observe(o));
  }
  // The picture is audited before the roll call is recorded (the auditor's way, in the
  // service: it counts the picture and records the count).
  std::vector<std::int64_t> audited;
  attendance_->set_audit({}, [&](const Observation& o) -> Result<int> {
    audited.push_back(o.sequence);
    return 48;
  });
  ASSERT_TRUE(attendance_->tick(at(7, 48)));
  EXPECT_EQ(audited, std::vector<std::int64_t>{evidence_sequence});
  const auto calls = ledger("roll_call", "td-01");
  ASSERT_EQ(calls.size(), 1u);
  const json body = json::parse(calls[0].body);
  auto r = RollCall::from_json(body);
  ASSERT_TRUE(r);
  // The node's count at 07:45:00 exactly, counted by the node...
  EXPECT_EQ(r->counted, 57);
  EXPECT_EQ(r->captured_at_ms, at(7, 45));
  EXPECT_EQ(r->counted_by, CountedBy::kNode);
  EXPECT_EQ(body["counted_by"], "node");
  // ...and its evidence picture of a second before, as the node sent it, named in the record.
  EXPECT_EQ(r->evidence_sequence, evidence_sequence);
  EXPECT_EQ(r->evidence_captured_at_ms, at(7, 44) + 55'000);
  ASSERT_FALSE(r->evidence_path.empty()) << r->evidence_error;
  const std::string evidence = testing::read_file(dir_ / r->evidence_path);
  EXPECT_EQ(sha256_hex(evidence), r->evidence_sha256);
  EXPECT_TRUE(evidence == jpeg_);
  // Both counts of that picture: the node's of it alone, and the audit's.
  EXPECT_EQ(r->evidence_count, 50);
  EXPECT_EQ(r->audit_count, 48);
  EXPECT_EQ(body["audit_count"], 48);
}

TEST_F(ClassMorning, OneSitesSlowEvidenceDoesNotHoldUpTheOtherSitesRollCalls) {
  // Three edge sites, each with its roll-call picture; td-01's audit takes 3 s.
  for (const Site& site : sites_) {
    Observation o;
    o.site_id = site.id;
    o.sequence = ++sequence_[site.id];
    o.captured_at_ms = at(7, 44) + 59'000;
    o.received_at_ms = o.captured_at_ms + 300;
    o.count = o.frame_count = 30;
    o.detector = "yunet";
    o.width = 320;
    o.height = 180;
    o.counted_by = CountedBy::kNode;
    o.frame_path = "frames/" + site.id + "/evidence.jpg";
    testing::write_file(dir_ / o.frame_path, jpeg_);
    o.frame_sha256 = sha256_hex(jpeg_);
    ASSERT_EQ(store_->insert_observation(o), InsertOutcome::kInserted);
    ASSERT_TRUE(attendance_->observe(o));
  }
  attendance_->set_audit({}, [](const Observation& o) -> Result<int> {
    if (o.site_id == "td-01") std::this_thread::sleep_for(std::chrono::seconds(3));
    return 30;
  });
  const std::int64_t start = now_ms();
  ASSERT_TRUE(attendance_->tick(at(7, 48)));
  std::map<std::string, std::int64_t> recorded;  // by site, the wall clock
  for (const LedgerEntry& e : ledger("roll_call")) recorded[e.site_id] = e.recorded_at_ms;
  ASSERT_EQ(recorded.size(), 3u);
  EXPECT_GE(recorded["td-01"] - start, 3000);
  EXPECT_LT(recorded["td-02"] - start, 1500) << "held up by td-01's picture";
  EXPECT_LT(recorded["mt-01"] - start, 1500) << "held up by td-01's picture";
}

TEST(AuditRule, TwoCountsOfAPictureAgreeWithinPeopleOrAShareOfTheNodesCount) {
  const AuditConfig c;  // 3 people or 20 %
  EXPECT_FALSE(counts_disagree(13, 13, c));
  EXPECT_FALSE(counts_disagree(13, 10, c));
  EXPECT_TRUE(counts_disagree(13, 9, c));
  EXPECT_FALSE(counts_disagree(60, 48, c));  // 12 = 20 % of 60
  EXPECT_TRUE(counts_disagree(60, 47, c));
  EXPECT_TRUE(counts_disagree(60, 13, c));
  EXPECT_TRUE(counts_disagree(0, 4, c));
  EXPECT_FALSE(counts_disagree(5, 5, {.tolerance = 0, .tolerance_share = 0}));
  EXPECT_TRUE(counts_disagree(5, 6, {.tolerance = 0, .tolerance_share = 0}));
}

// A node whose counts its pictures do not support: 60 on pictures the audit counts 13 on.
TEST_F(ClassMorning, DisagreeingAuditsOpenACountDisputeWithBothNumbersAndAnAgreeingOneClosesIt) {
  const auto picture = [&](std::int64_t t, int node_count) {
    Observation o;
    o.site_id = "td-01";
    o.sequence = ++sequence_["td-01"];
    o.captured_at_ms = t;
    o.count = o.frame_count = node_count;
    o.detector = "yunet";
    o.width = 320;
    o.height = 180;
    o.counted_by = CountedBy::kNode;
    o.frame_path = "frames/td-01/" + std::to_string(o.sequence) + ".jpg";
    testing::write_file(dir_ / o.frame_path, jpeg_);
    o.frame_sha256 = sha256_hex(jpeg_ + std::to_string(o.sequence));
    EXPECT_EQ(store_->insert_observation(o), InsertOutcome::kInserted);
    EXPECT_TRUE(attendance_->observe(o));
    return o;
  };
  const auto disputes = [&] { return ledger("alert_opened", "td-01").size(); };
  // Before the period nothing is disputed.
  ASSERT_TRUE(attendance_->audited(picture(at(7, 0), 60), 13));
  ASSERT_TRUE(attendance_->audited(picture(at(7, 1), 60), 13));
  EXPECT_EQ(disputes(), 0u);
  // Within the tolerance (12 of 60) the counts agree.
  ASSERT_TRUE(attendance_->audited(picture(at(8, 0), 60), 50));
  ASSERT_TRUE(attendance_->audited(picture(at(8, 1), 60), 48));
  EXPECT_EQ(disputes(), 0u);
  // One disagreeing picture is not a dispute yet; two in a row are.
  const Observation first = picture(at(8, 2), 60);
  ASSERT_TRUE(attendance_->audited(first, 13));
  EXPECT_EQ(disputes(), 0u);
  ASSERT_TRUE(attendance_->audited(picture(at(8, 3), 60), 14));
  const auto opened = ledger("alert_opened", "td-01");
  ASSERT_EQ(opened.size(), 1u);
  const json body = json::parse(opened[0].body);
  EXPECT_EQ(body["kind"], "count_disputed");
  EXPECT_EQ(body["started_ms"], at(8, 2));
  EXPECT_EQ(body["details"]["node_count"], 60);
  EXPECT_EQ(body["details"]["audit_count"], 14);
  EXPECT_EQ(body["details"]["pictures"], 2);
  ASSERT_TRUE(body.contains("evidence_path"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / body["evidence_path"].get<std::string>()));
  // A picture older than the latest audited one changes nothing, even agreeing.
  ASSERT_TRUE(attendance_->audited(first, 60));
  EXPECT_TRUE(ledger("alert_closed", "td-01").empty());
  // An agreeing picture ends the dispute.
  ASSERT_TRUE(attendance_->audited(picture(at(8, 4), 13), 12));
  const auto closed = ledger("alert_closed", "td-01");
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].subject, opened[0].subject);
  EXPECT_EQ(json::parse(closed[0].body)["why"], "the counts agree again");
}

TEST_F(ClassMorning, AnEdgeSiteWithoutAPictureHasItsCountAndSaysWhyThereIsNoEvidence) {
  for (std::int64_t t = at(7, 40); t <= at(7, 45); t += 5'000) {
    Observation o;
    o.site_id = "td-02";
    o.sequence = ++sequence_["td-02"];
    o.captured_at_ms = t;
    o.count = o.frame_count = 40;
    o.detector = "yunet";
    o.width = 320;
    o.height = 180;
    o.counted_by = CountedBy::kNode;
    o.frame_sha256 = sha256_hex("count " + std::to_string(t));
    ASSERT_EQ(store_->insert_observation(o), InsertOutcome::kInserted);
    ASSERT_TRUE(attendance_->observe(o));
  }
  ASSERT_TRUE(attendance_->tick(at(7, 48)));
  const auto calls = ledger("roll_call", "td-02");
  ASSERT_EQ(calls.size(), 1u);
  auto r = RollCall::from_json(json::parse(calls[0].body));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->counted, 40);
  EXPECT_TRUE(r->evidence_path.empty());
  EXPECT_EQ(r->evidence_error, "no picture of the site in the 600 s before the roll call");
}

TEST_F(ClassMorning, AlertsOpenAndCloseAtTheRightMinutes) {
  play(the_morning(), kStart, kEnd + 5);
  std::vector<std::string> opened, closed;
  for (const LedgerEntry& e : ledger("alert_opened")) {
    const json b = json::parse(e.body);
    opened.push_back(e.site_id + " " + b["kind"].get<std::string>() + " from " +
                     iso8601_utc(b["started_ms"]) + " seen " + iso8601_utc(b["detected_ms"]));
  }
  for (const LedgerEntry& e : ledger("alert_closed")) {
    const json b = json::parse(e.body);
    closed.push_back(e.site_id + " " + b["kind"].get<std::string>() + " until " +
                     iso8601_utc(b["ended_ms"]) + ": " + b["why"].get<std::string>());
  }
  // Local 07:30 is 00:30Z. td-02 under 36 (80 % of 45) from 07:30: alert after 15 minutes,
  // over at 08:10. mt-01 silent from 09:00: offline after 10 minutes (seen at the tick
  // half a minute later), over at 10:00; dark from 10:00: camera fault after 10 minutes,
  // over at 10:15 (the dark picture's 3 says nothing of the room); 10 people from 10:15:
  // under-attendance after 15 minutes, to the period's end.
  EXPECT_THAT(
      opened,
      ::testing::ElementsAre(
          "td-02 under_attendance from 2027-07-12T00:30:00.000Z seen 2027-07-12T00:45:00.000Z",
          "td-02 late_start from 2027-07-12T00:45:00.000Z seen 2027-07-12T00:47:00.000Z",
          "mt-01 offline from 2027-07-12T01:59:00.000Z seen 2027-07-12T02:09:30.000Z",
          "mt-01 camera_fault from 2027-07-12T03:00:00.000Z seen 2027-07-12T03:10:00.000Z",
          "mt-01 under_attendance from 2027-07-12T03:15:00.000Z seen 2027-07-12T03:30:00.000Z",
          "mt-01 early_leave from 2027-07-12T04:15:00.000Z seen 2027-07-12T04:17:00.000Z"));
  EXPECT_THAT(
      closed,
      ::testing::ElementsAre(
          "td-02 under_attendance until 2027-07-12T01:10:00.000Z: count back to the threshold",
          "td-02 late_start until 2027-07-12T01:15:00.000Z: the class has arrived",
          "mt-01 offline until 2027-07-12T03:00:00.000Z: frames arrive again",
          "mt-01 camera_fault until 2027-07-12T03:15:00.000Z: picture healthy again",
          "mt-01 under_attendance until 2027-07-12T04:30:00.000Z: the period ended",
          "mt-01 early_leave until 2027-07-12T04:30:00.000Z: the period ended"));
  // The alert that had a frame carries it as evidence.
  const json first = json::parse(ledger("alert_opened").front().body);
  EXPECT_EQ(sha256_hex(testing::read_file(dir_ / first["evidence_path"].get<std::string>())),
            first["evidence_sha256"]);
}

// td-01's camera covered (a count of 0) until 07:50, over the first roll call; then the full
// class. td-02 full all along.
TEST_F(ClassMorning, ACountFromACoveredCameraIsSetAsideLeftOutOfTheTotalsAndRaisesNoAlert) {
  using Frame = std::optional<std::pair<int, std::vector<std::string>>>;
  const std::map<std::string, Script> morning = {
      {"td-01",
       [](int m) -> Frame {
         if (m < 7 * 60 + 50) return std::pair{0, std::vector<std::string>{"covered"}};
         return std::pair{58, std::vector<std::string>{}};
       }},
      {"td-02", [](int) -> Frame {
         return std::pair{44, std::vector<std::string>{}};
       }}};
  play(morning, kStart, 8 * 60 + 20);
  std::vector<RollCall> calls;
  for (const LedgerEntry& e : ledger("roll_call", "td-01"))
    calls.push_back(RollCall::from_json(json::parse(e.body)).value());
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].label, "07:45");
  EXPECT_EQ(calls[0].counted, 0);  // kept as counted, and said why it does not stand
  EXPECT_THAT(calls[0].set_aside, ::testing::ElementsAre("covered"));
  EXPECT_FALSE(calls[0].standing());
  EXPECT_FALSE(calls[0].evidence_path.empty());  // the picture shows why
  EXPECT_EQ(calls[1].standing(), 58);
  // No late start, no under-attendance: the covered camera's fault is the one alert.
  std::vector<std::string> kinds;
  for (const LedgerEntry& e : ledger("alert_opened", "td-01"))
    kinds.push_back(json::parse(e.body)["kind"].get<std::string>());
  EXPECT_THAT(kinds, ::testing::ElementsAre("camera_fault"));
  // The live roll-up over the first roll calls counts td-02 alone.
  std::vector<RollCall> first;
  for (const LedgerEntry& e : ledger("roll_call")) {
    auto r = RollCall::from_json(json::parse(e.body)).value();
    if (r.label == "07:45") first.push_back(r);
  }
  const Rollup live = live_rollup(sites_, first, config_.under_fraction);
  EXPECT_EQ(live.province.sites_counted, 1);
  EXPECT_EQ(live.province.counted, 44);
  EXPECT_EQ(live.province.expected_counted, 45);
  EXPECT_EQ(live.province.sites_short, 0);
}

// attendance.alert_on: estimated. mt-01's 07:45 roll call (35) is counted on its picture: 109
// people (its one box and 108 missed), so its counts stand for 109/35 as many. Its 10 people
// from 10:15 then stand for 31, over the line (30.4): no under-attendance, which the same
// morning raises when the count is compared as seen. td-02 has no check: compared as seen.
TEST_F(ClassMorning, UnderAttendanceComparesTheEstimateWhenConfiguredAndSaysWhich) {
  config_.alert_on_estimated = true;
  attendance_ =
      std::make_unique<Attendance>(sites_, slots_, config_, *store_, *store_, dir_.path());
  ASSERT_TRUE(attendance_->restore());
  play(the_morning(), kStart, 8 * 60);
  const std::string subject = ledger("roll_call", "mt-01").at(0).subject;
  PictureCheck check{.boxes = 1, .removed = {}, .added = {}};
  for (int i = 0; i < 108; ++i) check.added.emplace_back(static_cast<float>(i), 50.0f);
  ASSERT_TRUE(count_on_picture(*store_, subject, check, "kiem.toan", "đếm trên ảnh", at(8, 0)));
  play(the_morning(), 8 * 60, kEnd + 5);
  std::map<std::string, std::vector<json>> opened;
  for (const LedgerEntry& e : ledger("alert_opened")) {
    const json b = json::parse(e.body);
    opened[e.site_id + " " + b["kind"].get<std::string>()].push_back(b);
  }
  EXPECT_FALSE(opened.contains("mt-01 under_attendance"));
  EXPECT_TRUE(opened.contains("mt-01 early_leave"));  // a roll call's count, as taken
  ASSERT_EQ(opened["td-02 under_attendance"].size(), 1u);
  const json td02 = opened["td-02 under_attendance"][0]["details"];
  EXPECT_EQ(td02["compared"], "seen");
  EXPECT_EQ(td02["count"], 20);
  EXPECT_FALSE(td02.contains("estimated"));
}

TEST_F(ClassMorning, EachPeriodIsSummedUpAfterItEnds) {
  play(the_morning(), kStart, kEnd);
  EXPECT_TRUE(ledger("period_summary").empty());  // not before the end and the grace
  ASSERT_TRUE(attendance_->tick(at(11, 30) + 121'000));
  const auto summaries = ledger("period_summary");
  ASSERT_EQ(summaries.size(), 3u);
  std::map<std::string, json> by_site;
  for (const auto& e : summaries) by_site[e.site_id] = json::parse(e.body);
  EXPECT_EQ(by_site["td-01"]["median"], 58);
  EXPECT_EQ(by_site["td-01"]["frames"], 240);
  EXPECT_EQ(by_site["td-01"]["attendance_rate"], 0.967);
  EXPECT_EQ(by_site["td-01"]["present_person_minutes"], 58.0 * 240);
  EXPECT_EQ(by_site["td-01"]["late_start"], false);
  EXPECT_EQ(by_site["td-02"]["late_start"], true);
  EXPECT_EQ(by_site["td-02"]["minimum"], 20);
  EXPECT_EQ(by_site["td-02"]["peak"], 44);
  EXPECT_EQ(by_site["mt-01"]["early_leave"], true);
  // A frame's count holds until the next frame, or for at most offline_minutes (10): 35
  // from 07:30 to 09:09 (the last frame at 08:59, then the gap), 10 from 10:15 to the end;
  // the dark pictures from 10:00 to 10:15 cover nothing.
  EXPECT_EQ(by_site["mt-01"]["covered_minutes"], 89 + 10 + 75);
  EXPECT_EQ(by_site["mt-01"]["present_person_minutes"], 35 * 99 + 10 * 75);
}

TEST_F(ClassMorning, TheFinalReportComesWithinAMinuteOfTheEndAndItsRollUpsAddUp) {
  ReportOptions report;
  report.data_dir = dir_.path();
  report.slots = attendance_->slots();
  report.under_fraction = config_.under_fraction;
  attendance_->set_final_report_writer(
      final_report_writer(sites_, LocalClock::for_schedule(morning_only()).value(), report));
  play(the_morning(), kStart, kEnd);
  ASSERT_TRUE(attendance_->tick(at(11, 30) + 20'000));
  EXPECT_TRUE(ledger("final_report").empty());
  ASSERT_TRUE(attendance_->tick(at(11, 30) + 40'000));
  const auto finals = ledger("final_report");
  ASSERT_EQ(finals.size(), 1u);
  const json body = json::parse(finals[0].body);
  const json rollup = body["periods"][0]["rollup"];
  EXPECT_EQ(rollup["province"]["counted"], 58 + 44 + 35);
  EXPECT_EQ(rollup["province"]["expected"], 60 + 45 + 38);
  for (const char* by : {"by_district", "by_level"}) {
    int counted = 0, expected = 0, sites = 0;
    for (const json& row : rollup[by]) {
      counted += row["counted"].get<int>();
      expected += row["expected"].get<int>();
      sites += row["sites"].get<int>();
    }
    EXPECT_EQ(counted, rollup["province"]["counted"]) << by;
    EXPECT_EQ(expected, rollup["province"]["expected"]) << by;
    EXPECT_EQ(sites, 3) << by;
  }
  EXPECT_EQ(body["class"]["province"]["counted"], 58 + 44 + 35);  // one period: the same
  ASSERT_EQ(body["files"].size(), 4u + 2u);  // four CSV exports, a report per district
  for (const json& f : body["files"]) {
    const std::string bytes = testing::read_file(dir_ / f["path"].get<std::string>());
    EXPECT_EQ(sha256_hex(bytes), f["sha256"]) << f["path"];
  }
  EXPECT_EQ(body["files"][4]["district"], "Tam Đường");
  // Nothing more at later ticks.
  ASSERT_TRUE(attendance_->tick(at(12, 30)));
  EXPECT_EQ(ledger("final_report").size(), 1u);
}

TEST_F(ClassMorning, ARestartTakesNothingTwiceAndKeepsOpenAlertsOpen) {
  play(the_morning(), kStart, 9 * 60 + 20);  // mt-01 offline since 09:00
  const size_t before = ledger("").size();
  attendance_ =
      std::make_unique<Attendance>(sites_, slots_, config_, *store_, *store_, dir_.path());
  ASSERT_TRUE(attendance_->restore());
  ASSERT_TRUE(attendance_->tick(at(9, 20)));
  EXPECT_EQ(ledger("").size(), before);  // no roll call again, no second offline alert
  play(the_morning(), 9 * 60 + 20, 10 * 60 + 1);
  const auto closed = ledger("alert_closed", "mt-01");
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(json::parse(closed[0].body)["kind"], "offline");
  EXPECT_EQ(ledger("alert_opened", "mt-01").size(), 1u);
}

// ----------------------------------------------------------------------------------------
// The record over HTTP: read, corrected, rolled up, verified, every read in the audit trail
// under its reader's name. The routes alone, without the service's access check: here they
// are read by an auditor's session, made as the login makes it.

class RecordsOverHttp : public ClassMorning {
 protected:
  void SetUp() override {
    ClassMorning::SetUp();
    play(the_morning(), kStart, kEnd + 5);
    RecordsApiOptions options;
    options.data_dir = dir_.path();
    auth_ = std::make_unique<Auth>(*store_, AuthConfig{});
    api_ = std::make_unique<RecordsApi>(sites_, *store_, *auth_, options);
    // The record's rows of the service's route table (http_api.cpp), without its access check.
    const auto on = [this](void (RecordsApi::*f)(const httplib::Request&, httplib::Response&)) {
      return [this, f](const httplib::Request& req, httplib::Response& res) {
        (api_.get()->*f)(req, res);
      };
    };
    RouteTable(
        {{"GET", "/api/v1/roll-calls", kEveryRole, "", on(&RecordsApi::get_roll_calls)},
         {"GET", "/api/v1/roll-calls/to-check", kEveryRole, "", on(&RecordsApi::get_checks_to_do)},
         {"GET", "/api/v1/alerts", kEveryRole, "", on(&RecordsApi::get_alerts)},
         {"GET", "/api/v1/rollup", kEveryRole, "", on(&RecordsApi::get_rollup)},
         {"GET", "/api/v1/evidence/{site}/{file}.jpg", kEveryRole, "",
          on(&RecordsApi::get_evidence)},
         {"GET", "/api/v1/reports/sites/{site}.html", kEveryRole, "",
          on(&RecordsApi::get_site_report)},
         {"GET", "/api/v1/reports/district.html", kEveryRole, "",
          on(&RecordsApi::get_district_report)},
         {"GET", "/api/v1/ledger", kEveryRole, "", on(&RecordsApi::get_ledger)},
         {"GET", "/api/v1/ledger/verify", kEveryRole, "", on(&RecordsApi::get_ledger_verify)},
         {"GET", "/api/v1/exports/{table}.csv", kEveryRole, "", on(&RecordsApi::get_export)},
         {"POST", "/api/v1/roll-calls/corrections", kEveryRole, "",
          on(&RecordsApi::post_correction)}})
        .install(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    listener_ = std::thread([this] { server_.listen_after_bind(); });
    ASSERT_TRUE(
        testing::eventually([this] { return server_.is_running(); }, std::chrono::seconds(5)));
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    testing::add_user(*store_, "kiem.toan", Role::kAuditor);
    auto session = auth_->login("kiem.toan", testing::kTestPassword, "127.0.0.1");
    ASSERT_TRUE(session && session->outcome == LoginResult::Outcome::kOk);
    client_->set_default_headers({{"Cookie", std::string(kSessionCookie) + "=" + session->token},
                                  {kCsrfHeader, session->identity.csrf_token}});
  }
  void TearDown() override {
    server_.stop();
    listener_.join();
  }
  json get(const std::string& path, int status = 200) {
    auto res = client_->Get(path);
    EXPECT_TRUE(res) << path;
    if (!res) return nullptr;
    EXPECT_EQ(res->status, status) << path << ": " << res->body;
    return json::parse(res->body, nullptr, false);
  }

  httplib::Server server_;
  std::unique_ptr<Auth> auth_;
  std::unique_ptr<RecordsApi> api_;
  int port_ = 0;
  std::thread listener_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(RecordsOverHttp, RollCallsWithEvidenceAndACorrectionThatKeepsTheOriginal) {
  json calls = get("/api/v1/roll-calls?site=td-02&date=2027-07-12&period=morning")["roll_calls"];
  ASSERT_EQ(calls.size(), 8u);
  const json first = calls[0];
  EXPECT_EQ(first["label"], "07:45");
  EXPECT_EQ(first["counted"], 20);
  EXPECT_TRUE(first["correction"].is_null());
  auto picture = client_->Get(first["evidence_url"].get<std::string>());
  ASSERT_TRUE(picture);
  ASSERT_EQ(picture->status, 200);
  EXPECT_EQ(sha256_hex(picture->body), first["evidence_sha256"]);

  // Made in the name of the session's user: a "user" in the body is not taken.
  const json correction = {{"subject", first["subject"]},
                           {"counted", 23},
                           {"user", "someone-else"},
                           {"reason", "đếm lại từ ảnh: 3 người ở hàng cuối bị che"}};
  auto posted =
      client_->Post("/api/v1/roll-calls/corrections", correction.dump(), "application/json");
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 201) << posted->body;
  const json again = get("/api/v1/roll-calls?site=td-02")["roll_calls"][0];
  EXPECT_EQ(again["counted"], 23);
  EXPECT_EQ(again["correction"]["counted_originally"], 20);
  EXPECT_EQ(again["correction"]["by"], "kiem.toan");
  EXPECT_EQ(ledger("correction")[0].actor, "kiem.toan");
  EXPECT_EQ(again["correction"]["reason"], "đếm lại từ ảnh: 3 người ở hàng cuối bị che");
  EXPECT_EQ(ledger("roll_call", "td-02").size(), 8u);  // the roll call itself is untouched

  json bad = correction;
  bad["reason"] = "";
  auto refused = client_->Post("/api/v1/roll-calls/corrections", bad.dump(), "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
  bad = correction;
  bad["subject"] = "roll_call/td-02/2027-07-12/morning/0746";
  refused = client_->Post("/api/v1/roll-calls/corrections", bad.dump(), "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 404);
  EXPECT_EQ(ledger("correction").size(), 1u);
}

// td-02's first roll call counted 20 with one box on its picture; an auditor finds the box is
// not a person and marks 22 people it missed: 22 there. The site's next count, 44, then stands
// for 48 people (44 x 22/20).
TEST_F(RecordsOverHttp, ACountOnThePictureIsStoredWithItsMarksAndCalibratesTheSite) {
  const json calls = get("/api/v1/roll-calls?site=td-02")["roll_calls"];
  const json first = calls[0];
  ASSERT_EQ(first["boxes"].size(), 1u);
  ASSERT_EQ(first["counted"], 20);
  EXPECT_TRUE(get("/api/v1/roll-calls?site=td-02")["calibration"].empty());
  // Proposed: the session's first roll call (no count near the line 36, no audit).
  json plan = get("/api/v1/roll-calls/to-check?site=td-02");
  EXPECT_EQ(plan["per_site"], 3);
  EXPECT_EQ(plan["sites"], json::parse(R"([{"site_id":"td-02","checked":0,"needed":3}])"));
  ASSERT_EQ(plan["proposals"].size(), 1u) << plan;
  EXPECT_EQ(plan["proposals"][0]["subject"], first["subject"]);
  EXPECT_EQ(plan["proposals"][0]["why"], "first_of_session");
  json added = json::array();
  for (int i = 0; i < 22; ++i) added.push_back({10 * i, 100});
  const auto post = [&](const json& picture, const std::string& subject) {
    const json body = {{"subject", subject}, {"picture", picture}, {"reason", "đếm trên ảnh"}};
    return client_->Post("/api/v1/roll-calls/corrections", body.dump(), "application/json");
  };
  auto posted =
      post({{"boxes", 1}, {"removed", {0}}, {"added", added}, {"counted", 5}}, first["subject"]);
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 201) << posted->body;
  EXPECT_EQ(json::parse(posted->body)["counted"], 22);  // the marks', never a number sent

  const json again = get("/api/v1/roll-calls?site=td-02");
  const json checked = again["roll_calls"][0];
  EXPECT_EQ(checked["counted"], 22);
  EXPECT_EQ(checked["correction"]["counted_originally"], 20);
  EXPECT_EQ(checked["verified"]["people"], 22);
  EXPECT_EQ(checked["verified"]["removed"], json::array({0}));
  EXPECT_EQ(checked["verified"]["added"].size(), 22u);
  EXPECT_EQ(checked["estimated"], 22);
  EXPECT_EQ(again["roll_calls"][1]["estimated"], 48);
  plan = get("/api/v1/roll-calls/to-check?site=td-02");
  EXPECT_EQ(plan["sites"][0]["needed"], 2);
  EXPECT_TRUE(plan["proposals"].empty());
  EXPECT_EQ(again["calibration"]["td-02"],
            json::parse(R"({"checked":1,"counted":20,"people":22,"ratio":1.1,"recall":0.0,
                            "false_per_picture":1.0})"));
  // The marks are in the ledger's correction, which still verifies.
  const json body = json::parse(ledger("correction").back().body);
  EXPECT_EQ(body["picture"]["removed"], json::array({0}));
  EXPECT_EQ(body["counted"], 22);
  EXPECT_TRUE(read_records(*store_, "").has_value());

  // Refused, and nothing appended: marks off the picture's boxes, a check of another picture,
  // a point off the picture, a roll call without a picture.
  const size_t before = ledger("correction").size();
  const auto refused = [&](const json& picture, const std::string& subject,
                           const std::string& message) {
    auto r = post(picture, subject);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    EXPECT_EQ(json::parse(r->body)["code"], "bad_correction");
    EXPECT_EQ(json::parse(r->body)["error"], message);
  };
  refused({{"boxes", 1}, {"removed", {1}}}, first["subject"],
          "removed must hold distinct indices of the picture's 1 boxes (got 1)");
  refused({{"boxes", 2}}, first["subject"], "the check is of 2 boxes; the picture has 1");
  refused({{"boxes", 1}, {"added", {{5, -2}}}}, first["subject"],
          "added must hold points [x, y] in the picture's pixels (got [5,-2])");
  const json mt = get("/api/v1/roll-calls?site=mt-01")["roll_calls"][3];  // 09:15, offline
  ASSERT_TRUE(mt["evidence_url"].is_null()) << mt;
  refused(
      {{"boxes", 0}}, mt["subject"],
      "roll call '" + mt["subject"].get<std::string>() + "' has no evidence picture to count on");
  EXPECT_EQ(ledger("correction").size(), before);
}

TEST_F(RecordsOverHttp, AlertsRollUpsAndVerification) {
  EXPECT_TRUE(get("/api/v1/alerts?open=1")["alerts"].empty());  // all closed by the end
  const json mt = get("/api/v1/alerts?site=mt-01")["alerts"];
  ASSERT_EQ(mt.size(), 4u);  // offline, camera fault, under-attendance, early leave
  EXPECT_EQ(mt[0]["kind"], "offline");
  EXPECT_EQ(mt[0]["ended_ms"], at(10, 0));

  // The period's final roll-up from the summaries' medians: 58 + 44 + 35 of 60 + 45 + 38.
  const json final = get("/api/v1/rollup?date=2027-07-12&period=morning");
  EXPECT_EQ(final["final"], true);
  EXPECT_EQ(final["province"]["expected"], 143);
  EXPECT_EQ(final["province"]["counted"], 58 + 44 + 35);
  EXPECT_EQ(final["province"]["sites_short"], 0);
  ASSERT_EQ(final["by_district"].size(), 2u);
  EXPECT_EQ(final["by_district"][0]["group"], "Tam Đường");
  EXPECT_EQ(final["by_district"][0]["counted"], 58 + 44);
  // Live: the latest roll call of each site (11:15): mt-01 had 10 of 38, short.
  const json live = get("/api/v1/rollup");
  EXPECT_EQ(live["final"], false);
  EXPECT_EQ(live["province"]["counted"], 58 + 44 + 10);
  EXPECT_EQ(live["province"]["sites_short"], 1);

  const json verified = get("/api/v1/ledger/verify");
  EXPECT_EQ(verified["intact"], true) << verified.dump();
  EXPECT_GT(verified["ledger_entries"].get<int>(), 24);
  // Every read above is in the audit trail, with its reader's address.
  LedgerQuery q;
  q.limit = 0;
  const auto audit = store_->entries(Chain::kAudit, q).value();
  ASSERT_EQ(audit.size(), 5u);
  EXPECT_EQ(audit[0].subject, "/api/v1/alerts?open=1");
  EXPECT_EQ(audit[0].actor, "kiem.toan@127.0.0.1");
  EXPECT_EQ(audit[4].kind, "verify");
}

TEST_F(RecordsOverHttp, ExportsAndPrintableReportsAreServedAndAudited) {
  auto csv = client_->Get("/api/v1/exports/roll-calls.csv?district=Tam%20%C4%90%C6%B0%E1%BB%9Dng");
  ASSERT_TRUE(csv);
  ASSERT_EQ(csv->status, 200) << csv->body;
  EXPECT_EQ(csv->get_header_value("Content-Type"), "text/csv; charset=utf-8");
  // The saved file says what it holds: the table, the district without marks, the day.
  EXPECT_THAT(csv->get_header_value("Content-Disposition"),
              ::testing::MatchesRegex(
                  R"(attachment; filename="diem-danh_tam-duong_[0-9]{4}-[0-9]{2}-[0-9]{2}\.csv")"));
  EXPECT_TRUE(csv->body.starts_with("\xEF\xBB\xBF"));  // UTF-8 BOM for spreadsheets
  size_t rows = 0;
  for (size_t at = 0; (at = csv->body.find("\r\n", at)) != std::string::npos; at += 2) ++rows;
  EXPECT_EQ(rows, 1u + 2u * 8u);  // the header, then td-01 and td-02's roll calls
  EXPECT_EQ(csv->body.find("mt-01"), std::string::npos);

  auto site = client_->Get("/api/v1/reports/sites/td-02.html");
  ASSERT_TRUE(site);
  ASSERT_EQ(site->status, 200) << site->body;
  EXPECT_THAT(site->body, ::testing::HasSubstr("lang=\"vi\""));
  EXPECT_THAT(site->body, ::testing::HasSubstr("data:image/jpeg;base64,"));
  auto district = client_->Get("/api/v1/reports/district.html?name=M%C6%B0%E1%BB%9Dng%20T%C3%A8");
  ASSERT_TRUE(district);
  EXPECT_EQ(district->status, 200);
  auto nowhere = client_->Get("/api/v1/reports/district.html?name=Atlantis");
  ASSERT_TRUE(nowhere);
  EXPECT_EQ(nowhere->status, 404);

  LedgerQuery q;
  q.kind = "export";
  q.limit = 0;
  EXPECT_EQ(store_->entries(Chain::kAudit, q).value().size(), 3u);  // not the refused one
}

TEST_F(RecordsOverHttp, WithoutASessionNothingIsReadAndNothingIsCorrected) {
  httplib::Client stranger("127.0.0.1", port_);
  for (const char* path :
       {"/api/v1/roll-calls", "/api/v1/alerts", "/api/v1/ledger", "/api/v1/exports/roll-calls.csv",
        "/api/v1/reports/district.html", "/api/v1/reports/sites/td-02.html"}) {
    auto res = stranger.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 401) << path;
    EXPECT_EQ(json::parse(res->body)["code"], "login_required") << path;
  }
  const json calls = get("/api/v1/roll-calls?site=td-02")["roll_calls"];
  const json correction = {{"subject", calls[0]["subject"]}, {"counted", 1}, {"reason", "r"}};
  auto posted =
      stranger.Post("/api/v1/roll-calls/corrections", correction.dump(), "application/json");
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 401);
  EXPECT_TRUE(ledger("correction").empty());
  LedgerQuery q;
  q.limit = 0;
  EXPECT_EQ(store_->entries(Chain::kAudit, q).value().size(), 1u) << "the one read above";
}

TEST_F(RecordsOverHttp, BadParametersAreRefusedClearly) {
  EXPECT_EQ(get("/api/v1/roll-calls?date=12-07-2027", 400)["code"], "bad_date");
  EXPECT_EQ(get("/api/v1/roll-calls?site=zz-99", 404)["code"], "unknown_site");
  EXPECT_EQ(get("/api/v1/roll-calls?period=bu%E1%BB%95i%20s%C3%A1ng", 400)["code"], "bad_period");
  EXPECT_EQ(get("/api/v1/ledger?limit=0", 400)["code"], "bad_parameter");
  EXPECT_EQ(get("/api/v1/rollup?date=2027-07-12", 400)["code"], "bad_parameter");
  auto up = client_->Get("/api/v1/evidence/td-01/../../attendance.db.jpg");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->status, 404);
  auto sql = client_->Get("/api/v1/roll-calls?site=td-01%27%20OR%201%3D1--");
  ASSERT_TRUE(sql);
  EXPECT_EQ(sql->status, 404);
}

}  // namespace
}  // namespace att
