// The province's own evaluation set, round trip: the real service on a temporary SQLite data
// directory takes roll calls from signed frames, an auditor counts two of them on their picture
// over HTTP, `export-eval` writes the set (the function behind the subcommand, while the service
// runs), and the evaluation behind `attendance-eval --images` reads it back with the stand-in
// detector (tests/support/fake_detector.h), whose boxes are the counter's own. Then the
// subcommand as a process: what it refuses, and that it writes nothing then.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "analysis/app/eval_export.h"
#include "analysis/app/service.h"
#include "common/csv.h"
#include "common/sha256.h"
#include "common/time_util.h"
#include "counting/eval.h"
#include "protocol/wire.h"
#include "tests/support/fake_detector.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kZone[] = "Asia/Ho_Chi_Minh";
constexpr char kDay[] = "2027-07-12";

std::int64_t at(int hour, int minute) {
  return local_to_utc_ms(kZone, kDay, hour * 60 + minute).value();
}

class EvalExport : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testing::test_server_config(dir_.path());
    config_.schedule.days = {{kDay, {{"morning", 7 * 60 + 30, 11 * 60 + 30}}}};
    // A frame counts at once: the window holds one frame.
    config_.counting.window_s = 10;
    config_.counting.min_hits = 1;
    ServiceHooks hooks;
    hooks.clock = [this] { return now_.load(); };
    hooks.detector = testing::FakeDetector::painted_heads().choice();
    auto service = Service::create(config_, hooks);
    ASSERT_TRUE(service) << service.error().message;
    service_ = std::move(*service);
    auto port = service_->start();
    ASSERT_TRUE(port) << port.error().message;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
  }

  // `site`'s camera shows `people` painted heads at hh:mm less a minute.
  void frame(const std::string& site, int hour, int minute, int people) {
    now_ = at(hour, minute) - 60'000;
    auto res = testing::post_signed(*client_, wire::kFramesPath, site, std::to_string(++sequence_),
                                    std::to_string(now_.load()), testing::painted_frame(people),
                                    "image/jpeg");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 201) << res->body;
  }
  // The roll calls of hh:mm are taken (every site's).
  void take(int hour, int minute) {
    now_ = at(hour, minute) + 3 * 60'000;  // past the roll call's grace
    auto ticked = service_->tick_roll_book();
    ASSERT_TRUE(ticked) << ticked.error().message;
  }

  json roll_calls(const std::string& site) {
    auto res = client_->Get("/api/v1/roll-calls?site=" + site);
    EXPECT_TRUE(res);
    if (!res) return json::array();
    EXPECT_EQ(res->status, 200) << res->body;
    return json::parse(res->body)["roll_calls"];
  }

  void correct(const json& body) {
    auto res = client_->Post("/api/v1/roll-calls/corrections", body.dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 201) << res->body;
  }

  testing::TempDir dir_;
  ServerConfig config_;
  std::atomic<std::int64_t> now_{at(7, 0)};
  std::unique_ptr<Service> service_;
  std::unique_ptr<httplib::Client> client_;
  int sequence_ = 0;
};

TEST_F(EvalExport, TheRollCallsCountedOnThePictureComeBackAsTheEvaluationsTruth) {
  frame("td-02", 7, 45, 5);
  frame("mt-01", 7, 45, 3);
  take(7, 45);
  frame("td-02", 8, 15, 7);
  take(8, 15);
  frame("td-02", 8, 45, 4);
  take(8, 45);
  testing::log_in_as(*client_, service_->store(), Role::kAuditor);
  const json td = roll_calls("td-02");
  const json mt = roll_calls("mt-01");
  ASSERT_EQ(td.size(), 3u) << td;
  ASSERT_EQ(mt.size(), 3u) << mt;  // 08:15 and 08:45 without a frame
  ASSERT_EQ(td[0]["boxes"].size(), 5u) << td[0];
  ASSERT_EQ(mt[0]["boxes"].size(), 3u) << mt[0];

  // td-02 07:45: the first box is not a person, two people were missed (bottom right, where
  // nothing is painted). mt-01 07:45: all three kept, one missed. td-02 08:15: a plain recount,
  // not on the picture; 08:45: not corrected. Neither is in the set.
  correct({{"subject", td[0]["subject"]},
           {"picture", {{"boxes", 5}, {"removed", {0}}, {"added", {{300, 160}, {310, 170.5}}}}},
           {"reason", "đếm trên ảnh"}});
  correct({{"subject", mt[0]["subject"]},
           {"picture", {{"boxes", 3}, {"removed", json::array()}, {"added", {{250, 150}}}}},
           {"reason", "đếm trên ảnh"}});
  correct({{"subject", td[1]["subject"]}, {"counted", 8}, {"reason", "đếm lại"}});
  const json checked_td = roll_calls("td-02")[0];
  const json checked_mt = roll_calls("mt-01")[0];
  ASSERT_EQ(checked_td["counted"], 6);  // 5 - 1 + 2
  ASSERT_EQ(checked_mt["counted"], 4);  // 3 + 1

  const fs::path out = dir_ / "eval-set";
  auto exported = export_eval_set(service_->config(), out, {});
  ASSERT_TRUE(exported) << exported.error().message;
  EXPECT_EQ(exported->written, 2);
  EXPECT_TRUE(exported->left_out.empty()) << ::testing::PrintToString(exported->left_out);
  EXPECT_EQ(exported->out, out);
  // Only the set: no temporary folder is left beside it.
  std::vector<std::string> beside;
  for (const auto& e : fs::directory_iterator(dir_.path())) beside.push_back(e.path().filename());
  std::sort(beside.begin(), beside.end());
  EXPECT_THAT(beside, ElementsAre("data", "eval-set"));

  // The files, each picture the evidence as stored, byte for byte.
  const std::map<std::string, json> expected = {{"td-02_2027-07-12_0745", checked_td},
                                                {"mt-01_2027-07-12_0745", checked_mt}};
  std::vector<std::string> files;
  for (const auto& [name, bytes] : testing::files_in(out)) files.push_back(name);
  EXPECT_THAT(files,
              ElementsAre("index.csv", "mt-01_2027-07-12_0745.jpg", "mt-01_2027-07-12_0745.txt",
                          "td-02_2027-07-12_0745.jpg", "td-02_2027-07-12_0745.txt"));
  for (const auto& [name, call] : expected) {
    const std::string jpg = testing::read_file(out / (name + ".jpg"));
    EXPECT_EQ(sha256_hex(jpg), call["evidence_sha256"]) << name;
    EXPECT_EQ(jpg, testing::read_file(config_.data_dir / call["evidence_path"].get<std::string>()));
  }
  // td-02's truth: its boxes 1..4 as the counter drew them, then the two points.
  auto truth = parse_truth(testing::read_file(out / "td-02_2027-07-12_0745.txt"));
  ASSERT_TRUE(truth) << truth.error().message;
  ASSERT_EQ(truth->size(), 6u);
  for (int i = 1; i <= 4; ++i) {
    const json& b = checked_td["boxes"][i];  // [x, y, w, h, score]
    EXPECT_FALSE((*truth)[i - 1].is_point());
    EXPECT_FLOAT_EQ((*truth)[i - 1].box.x, b[0].get<float>());
    EXPECT_FLOAT_EQ((*truth)[i - 1].box.y, b[1].get<float>());
    EXPECT_FLOAT_EQ((*truth)[i - 1].box.w, b[2].get<float>());
    EXPECT_FLOAT_EQ((*truth)[i - 1].box.h, b[3].get<float>());
  }
  EXPECT_EQ((*truth)[4], TruthItem::point(300, 160));
  EXPECT_EQ((*truth)[5], TruthItem::point(310, 170.5f));

  // The index traces each file to its roll call and ledger entries.
  auto index = parse_csv(testing::read_file(out / "index.csv"));
  ASSERT_TRUE(index) << index.error().message;
  ASSERT_EQ(index->size(), 3u);
  EXPECT_EQ((*index)[0].fields[0], "name");
  std::map<std::string, std::string> row_of;
  for (size_t r = 1; r < index->size(); ++r) {
    const auto& f = (*index)[r].fields;
    ASSERT_EQ(f.size(), 16u);
    const json& call = expected.at(f[0]);
    EXPECT_EQ(f[1], call["site_id"]);
    EXPECT_EQ(f[2], kDay);
    EXPECT_EQ(f[3], "07:45");
    EXPECT_EQ(f[5], std::to_string(call["correction"]["counted_originally"].get<int>()));
    EXPECT_EQ(f[6], std::to_string(call["counted"].get<int>()));
    EXPECT_EQ(f[10], "auditor");
    EXPECT_EQ(f[11], call["subject"]);
    EXPECT_EQ(f[12], std::to_string(call["seq"].get<std::int64_t>()));
    EXPECT_EQ(f[15], call["evidence_sha256"]);
  }

  // The evaluation reads the set: each image's truth is its verified count. The stand-in
  // detector finds the painted heads, the counter's boxes: the kept ones match, the removed
  // one does not, and no detection lies on the added people.
  auto detector = testing::FakeDetector::painted_heads();
  auto images = evaluate_images(detector, out);
  ASSERT_TRUE(images) << images.error().message;
  ASSERT_EQ(images->size(), 2u);
  for (const EvalImage& im : *images) {
    EXPECT_EQ(static_cast<int>(im.truth.size()), expected.at(im.name)["counted"].get<int>())
        << im.name;
  }
  EXPECT_EQ((*images)[0].name, "mt-01_2027-07-12_0745");
  EXPECT_EQ(count_matches((*images)[0].truth, (*images)[0].predicted), 3);
  EXPECT_EQ(count_matches((*images)[1].truth, (*images)[1].predicted), 4);
  const EvalSummary s = summarize(*images);
  EXPECT_EQ(s.truth_total, 6 + 4);
  EXPECT_EQ(s.pred_total, 5 + 3);
  EXPECT_NEAR(s.precision, 7.0 / 8, 1e-12);
  EXPECT_NEAR(s.recall, 7.0 / 10, 1e-12);

  // Filters: a site, and days in the province's time.
  const fs::path one = dir_ / "td-only";
  EvalSetFilter td_only;
  td_only.site_id = "td-02";
  auto only = export_eval_set(service_->config(), one, td_only);
  ASSERT_TRUE(only) << only.error().message;
  EXPECT_EQ(only->written, 1);
  EXPECT_TRUE(fs::exists(one / "td-02_2027-07-12_0745.txt"));
  EvalSetFilter next_day;
  next_day.from_date = "2027-07-13";
  auto none = export_eval_set(service_->config(), dir_ / "none", next_day);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(none->written, 0);
  EXPECT_THAT(testing::files_in(dir_ / "none"), ElementsAre(::testing::Key("index.csv")));

  // A previous set is replaced whole; a folder with anything else is refused and kept.
  auto again = export_eval_set(service_->config(), one, {});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->written, 2);
  EXPECT_EQ(testing::files_in(one).size(), 5u);
  testing::write_file(one / "notes.md", "mine");
  auto refused = export_eval_set(service_->config(), one, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_THAT(refused.error().message, HasSubstr("holds other files"));
  EXPECT_EQ(testing::files_in(one).size(), 6u);
}

TEST_F(EvalExport, APictureNoLongerAsTheLedgerSaysIsLeftOutAndSaid) {
  frame("td-02", 7, 45, 5);
  take(7, 45);
  testing::log_in_as(*client_, service_->store(), Role::kAuditor);
  const json td = roll_calls("td-02");
  ASSERT_EQ(td.size(), 1u);
  correct({{"subject", td[0]["subject"]},
           {"picture", {{"boxes", 5}, {"removed", json::array()}, {"added", json::array()}}},
           {"reason", "đếm trên ảnh"}});
  testing::write_file(config_.data_dir / td[0]["evidence_path"].get<std::string>(), "altered");
  auto exported = export_eval_set(service_->config(), dir_ / "set", {});
  ASSERT_TRUE(exported) << exported.error().message;
  EXPECT_EQ(exported->written, 0);
  ASSERT_EQ(exported->left_out.size(), 1u);
  EXPECT_THAT(exported->left_out[0], HasSubstr(td[0]["subject"].get<std::string>()));
  EXPECT_THAT(exported->left_out[0], HasSubstr("does not have the SHA-256 its ledger entry names"));
}

// ----------------------------------------------------------------------------------------
// attendance-server export-eval, the process

class ExportEvalCommand : public ::testing::Test {
 protected:
  testing::CommandRun export_eval(const std::vector<std::string>& args) {
    std::vector<std::string> all = {ATTENDANCE_SERVER_BIN, "--config", yaml_.string(),
                                    "export-eval"};
    all.insert(all.end(), args.begin(), args.end());
    return testing::run_command(all, runs_.path());
  }
  void start_once() {
    // The database as the service leaves it: created by a first start.
    ServerConfig config = testing::test_server_config(dir_.path());
    ServiceHooks hooks;
    hooks.detector = testing::FakeDetector::painted_heads().choice();
    auto service = Service::create(config, hooks);
    ASSERT_TRUE(service) << service.error().message;
  }

  testing::TempDir dir_;
  testing::TempDir runs_;  // the commands' stdin, stdout and stderr
  fs::path yaml_ = testing::write_small_server_yaml(dir_.path());
};

TEST_F(ExportEvalCommand, WritesTheSetAndSaysHowMany) {
  start_once();
  const auto run = export_eval({"--out", (dir_ / "set").string(), "--site", "td-01"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("0 roll calls counted on the picture written to " +
                                 (dir_ / "set").string()));
  EXPECT_TRUE(fs::exists(dir_ / "set" / "index.csv"));
}

TEST_F(ExportEvalCommand, RefusesBadFiltersAndOutFoldersWritingNothing) {
  start_once();
  const auto names = [this] {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_.path())) out.push_back(e.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  };
  const auto before = names();
  const auto data_before = testing::files_in(dir_ / "data");
  const auto refused = [&](const std::vector<std::string>& args, const std::string& message) {
    const auto run = export_eval(args);
    EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
    EXPECT_THAT(run.err, HasSubstr(message));
    EXPECT_THAT(run.err, HasSubstr("nothing was written"));
  };
  const std::string out = (dir_ / "set").string();
  refused({"--out", out, "--from", "2027-7-12"},
          "--from must be a day as YYYY-MM-DD (got '2027-7-12')");
  refused({"--out", out, "--to", "2027-02-30"}, "--to must be a day as YYYY-MM-DD");
  refused({"--out", out, "--from", "2027-07-13", "--to", "2027-07-12"},
          "--from 2027-07-13 is after --to 2027-07-12");
  refused({"--out", out, "--site", "xx-99"}, "--site: no site 'xx-99' in the province");
  refused({"--out", (dir_ / "absent" / "set").string()}, "does not exist");
  refused({"--out", yaml_.string()}, "exists and is not a folder");
  refused({"--out", (dir_ / "data").string()}, "holds other files");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(names(), before);
  EXPECT_TRUE(testing::changed_files(data_before, testing::files_in(dir_ / "data")).empty());
  const auto without_out = export_eval({});
  EXPECT_NE(without_out.exit_code, 0);
  EXPECT_THAT(without_out.err + without_out.out, HasSubstr("--out is required"));
}

}  // namespace
}  // namespace att
