// A site's calibration from roll calls an auditor counted on the picture: the check's rules
// (what a person may mark on a picture) and the figures a site's checks give, with known
// counts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "analysis/domain/calibration.h"
#include "analysis/domain/records.h"

namespace att {
namespace {

using nlohmann::json;

TEST(PictureCheck, PeopleAreTheKeptBoxesAndTheAddedPoints) {
  auto c = PictureCheck::from_json(
      json::parse(R"({"boxes":18,"removed":[1,17],"added":[[10,20.5],[400,300],[0,0]]})"));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->people(), 18 - 2 + 3);
  EXPECT_EQ(c->to_json(),
            json::parse(
                R"({"boxes":18,"removed":[1,17],"added":[[10.0,20.5],[400.0,300.0],[0.0,0.0]]})"));
  // Nothing marked: the counter's boxes are the people.
  auto none = PictureCheck::from_json(json::parse(R"({"boxes":4})"));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->people(), 4);
}

TEST(PictureCheck, MarksThatAreNotOnThePicturesBoxesOrPixelsAreRefusedByName) {
  const auto refused = [](const char* text) {
    auto c = PictureCheck::from_json(json::parse(text));
    EXPECT_FALSE(c) << text;
    return c ? std::string() : c.error().message;
  };
  EXPECT_EQ(refused(R"([1,2])"), "the picture's check must be a JSON object");
  EXPECT_EQ(refused(R"({"removed":[]})"), "boxes must be a whole number from 0 to 5000");
  EXPECT_EQ(refused(R"({"boxes":-1})"), "boxes must be a whole number from 0 to 5000");
  EXPECT_EQ(refused(R"({"boxes":3,"removed":[3]})"),
            "removed must hold distinct indices of the picture's 3 boxes (got 3)");
  EXPECT_EQ(refused(R"({"boxes":3,"removed":[1,1]})"),
            "removed must hold distinct indices of the picture's 3 boxes (got 1)");
  EXPECT_EQ(refused(R"({"boxes":3,"removed":"1"})"), "removed must be an array of box indices");
  EXPECT_EQ(refused(R"({"boxes":3,"added":[[5,-1]]})"),
            "added must hold points [x, y] in the picture's pixels (got [5,-1])");
  EXPECT_EQ(refused(R"({"boxes":3,"added":[[5]]})"),
            "added must hold points [x, y] in the picture's pixels (got [5])");
  EXPECT_EQ(refused(R"({"boxes":3,"added":[[5,"6"]]})"),
            "added must hold points [x, y] in the picture's pixels (got [5,\"6\"])");
}

// Two checked roll calls: 20 counted, 18 boxes of which one a chair, 5 people missed (22
// there); 30 counted, 28 boxes all people, 2 missed (30 there).
TEST(SiteCalibration, KnownChecksGiveTheRatioRecallAndFalseDetections) {
  std::vector<CheckedCall> calls(2);
  calls[0].counted_as_taken = 20;
  calls[0].check.boxes = 18;
  calls[0].check.removed = {4};
  calls[0].check.added = {{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}};
  calls[1].counted_as_taken = 30;
  calls[1].check.boxes = 28;
  calls[1].check.added = {{1, 1}, {2, 2}};
  const SiteCalibration c = calibrate(calls);
  EXPECT_EQ(c.checked, 2);
  EXPECT_EQ(c.counted, 50);
  EXPECT_EQ(c.people, 52);
  ASSERT_TRUE(c.ratio());
  EXPECT_DOUBLE_EQ(*c.ratio(), 52.0 / 50);
  ASSERT_TRUE(c.recall());
  EXPECT_DOUBLE_EQ(*c.recall(), 45.0 / 52);  // 46 boxes, one not a person
  EXPECT_DOUBLE_EQ(c.false_per_picture(), 0.5);
  EXPECT_EQ(c.estimate(25), 26);  // 25 x 1.04
  EXPECT_EQ(c.estimate(0), 0);
  EXPECT_EQ(c.to_json(), json::parse(R"({"checked":2,"counted":50,"people":52,"ratio":1.04,
                                         "recall":0.865,"false_per_picture":0.5})"));
}

TEST(SiteCalibration, WithoutChecksOrCountsThereIsNoEstimate) {
  const SiteCalibration none = calibrate({});
  EXPECT_FALSE(none.ratio());
  EXPECT_FALSE(none.recall());
  EXPECT_FALSE(none.estimate(30));
  EXPECT_EQ(none.to_json()["ratio"], nullptr);
  // A room the counter saw empty: nothing to scale.
  std::vector<CheckedCall> empty(1);
  empty[0].check.added = {{1, 1}};
  EXPECT_FALSE(calibrate(empty).estimate(10));
}

// Three sites of 40 expected (the alert line at 32), two checks wanted at each. A: checked
// twice already. B: a session's first roll call (20), a count near the line (31), one whose
// two counts disagreed (10 against 25), one set aside, one without a picture, one far from the
// line. C: one near the line (33).
TEST(CheckPlan, ProposesWhatTeachesMostWhereChecksAreMissing) {
  const auto call = [](const std::string& site, std::int64_t at, int counted) {
    LedgerExtract::Call c;
    c.roll_call.site_id = site;
    c.roll_call.date = "2027-07-12";
    c.roll_call.period = "morning";
    c.roll_call.scheduled_ms = at;
    c.roll_call.counted = counted;
    c.roll_call.expected = 40;
    c.roll_call.evidence_path = "evidence/" + site + "/" + std::to_string(at) + ".jpg";
    return c;
  };
  LedgerExtract r;
  for (int i = 0; i < 2; ++i) {
    r.roll_calls.push_back(call("a", 1000 + i, 30));
    r.roll_calls.back().corrected = true;
    r.roll_calls.back().check = PictureCheck{.boxes = 30, .removed = {}, .added = {}};
  }
  r.roll_calls.push_back(call("b", 1000, 20));  // the session's first
  r.roll_calls.push_back(call("b", 2000, 31));  // near the line
  r.roll_calls.push_back(call("b", 3000, 28));  // the audit disagreed
  r.roll_calls.back().roll_call.evidence_count = 10;
  r.roll_calls.back().roll_call.audit_count = 25;
  r.roll_calls.push_back(call("b", 4000, 31));  // near the line, but set aside
  r.roll_calls.back().roll_call.set_aside = {"covered"};
  r.roll_calls.push_back(call("b", 5000, 32));  // near the line, but no picture
  r.roll_calls.back().roll_call.evidence_path.clear();
  r.roll_calls.push_back(call("b", 6000, 39));  // teaches little
  r.roll_calls.push_back(call("c", 1000, 33));  // near the line, and the session's first
  std::vector<Site> sites(3);
  for (size_t i = 0; i < sites.size(); ++i)
    sites[i].id = std::string(1, static_cast<char>('a' + i));
  const CheckPlan plan = plan_checks(r, sites, 0.8, AuditConfig{}, 2, 10);
  std::vector<std::string> got;
  for (const auto& p : plan.proposals)
    got.push_back(p.call->roll_call.site_id + "@" + std::to_string(p.call->roll_call.scheduled_ms) +
                  " " + p.why);
  EXPECT_EQ(got,
            (std::vector<std::string>{"b@3000 disputed", "b@2000 near_line", "c@1000 near_line"}));
  ASSERT_EQ(plan.sites.size(), 3u);
  EXPECT_EQ(plan.sites[0].checked, 2);
  EXPECT_EQ(plan.sites[0].needed, 0);
  EXPECT_EQ(plan.sites[1].needed, 2);
  EXPECT_EQ(plan.sites[2].needed, 2);
  // A limit keeps the best.
  EXPECT_EQ(plan_checks(r, sites, 0.8, AuditConfig{}, 2, 1).proposals.front().why, "disputed");
}

}  // namespace
}  // namespace att
