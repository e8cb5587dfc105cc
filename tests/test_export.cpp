// Exports for auditors: the CSV writer (BOM, CRLF, quoting, formula neutralising, Vietnamese
// byte for byte, a round trip through the project's own reader), the CSV exports of a small
// hand-made ledger row by row, and the printable HTML reports per site and per district
// (self-contained, escaped, thumbnails that decode, the ledger range in the footer).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "analysis/domain/ledger.h"
#include "analysis/domain/local_clock.h"
#include "analysis/domain/records.h"
#include "analysis/reports/csv_export.h"
#include "analysis/reports/eval_set.h"
#include "analysis/reports/evidence.h"
#include "analysis/reports/html_report.h"
#include "common/csv.h"
#include "common/sha256.h"
#include "common/time_util.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

using nlohmann::json;
using Rows = std::vector<std::vector<std::string>>;

constexpr char kZone[] = "Asia/Ho_Chi_Minh";
constexpr char kDate[] = "2027-07-12";

std::int64_t at(int hour, int minute, int second = 0) {
  return local_to_utc_ms(kZone, kDate, hour * 60 + minute).value() + second * 1000;
}

// The fields of every record of a CSV text, through the project's reader.
Rows parsed(const std::string& text) {
  auto records = parse_csv(text);
  EXPECT_TRUE(records) << records.error().message;
  Rows rows;
  if (records) {
    for (auto& r : *records) rows.push_back(r.fields);
  }
  return rows;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Every data: URI thumbnail in `html`, decoded.
std::vector<cv::Mat> thumbnails(const std::string& html) {
  const std::string prefix = "data:image/jpeg;base64,";
  std::vector<cv::Mat> out;
  for (size_t at = html.find(prefix); at != std::string::npos; at = html.find(prefix, at + 1)) {
    const size_t from = at + prefix.size();
    const std::string b64 = html.substr(from, html.find('"', from) - from);
    std::vector<unsigned char> bytes(b64.size());
    const int n = EVP_DecodeBlock(bytes.data(), reinterpret_cast<const unsigned char*>(b64.data()),
                                  static_cast<int>(b64.size()));
    EXPECT_GT(n, 0) << "not base64";
    if (n <= 0) continue;
    const size_t padding = b64.ends_with("==") ? 2 : b64.ends_with("=") ? 1 : 0;
    bytes.resize(static_cast<size_t>(n) - padding);
    out.push_back(cv::imdecode(bytes, cv::IMREAD_COLOR));
    EXPECT_FALSE(out.back().empty()) << "a thumbnail that does not decode";
  }
  return out;
}

// --- CSV writer ------------------------------------------------------------------------------

TEST(CsvCell, QuotesOnlyWhatNeedsQuotingAndDoublesQuotes) {
  EXPECT_EQ(csv_cell("plain text"), "plain text");
  EXPECT_EQ(csv_cell(""), "");
  EXPECT_EQ(csv_cell("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_cell("line 1\nline 2"), "\"line 1\nline 2\"");
  EXPECT_EQ(csv_cell("a\r\nb"), "\"a\r\nb\"");
  EXPECT_EQ(csv_cell("\""), "\"\"\"\"");
}

TEST(CsvCell, NeutralisesFormulaStartersAtTheStartOnly) {
  EXPECT_EQ(csv_cell("=SUM(A1:A9)"), "'=SUM(A1:A9)");
  EXPECT_EQ(csv_cell("+84 912 345 678"), "'+84 912 345 678");
  EXPECT_EQ(csv_cell("-1"), "'-1");
  EXPECT_EQ(csv_cell("@cmd"), "'@cmd");
  EXPECT_EQ(csv_cell("\tx"), "'\tx");
  EXPECT_EQ(csv_cell("\rx"), "\"'\rx\"");  // the CR still needs quoting after the '
  EXPECT_EQ(csv_cell("=HYPERLINK(\"x\",\"y\")"), "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"");
  // Elsewhere in a cell these are plain text.
  EXPECT_EQ(csv_cell("a=b"), "a=b");
  EXPECT_EQ(csv_cell("2027-07-12"), "2027-07-12");
  EXPECT_EQ(csv_cell("x+y@z"), "x+y@z");
  EXPECT_EQ(csv_cell("a\tb"), "a\tb");
  EXPECT_EQ(csv_cell("86.7"), "86.7");
}

TEST(CsvCell, KeepsVietnameseByteForByte) {
  const std::string name = "Trường THCS Bản Giang, huyện Tam Đường";
  EXPECT_EQ(csv_cell("Trường Mầm non Bum Nưa"), "Trường Mầm non Bum Nưa");
  EXPECT_EQ(csv_cell(name), "\"" + name + "\"");
}

TEST(CsvDocument, HasABomAndCrlfLineEnds) {
  const std::string doc = csv_document({{"Mã điểm", "Tên điểm"}, {"td-01", "Bản Giang"}});
  EXPECT_EQ(doc, "\xEF\xBB\xBFMã điểm,Tên điểm\r\ntd-01,Bản Giang\r\n");
  EXPECT_EQ(csv_document({}), "\xEF\xBB\xBF");
}

TEST(CsvDocument, RoundTripsThroughTheProjectsReader) {
  const Rows rows = {
      {"Mã điểm", "Tên điểm", "Ghi chú"},
      {"td-01", "Trường THCS Bản Giang", "a,b"},
      {"mt-01", "say \"xin chào\"", "dòng 1\ndòng 2"},
      {"=1+1", "+84", "-5"},
      {"@x", "\tTab", "\rCR"},
      {"a=b", "", "Lai Châu"},
  };
  const Rows back = parsed(csv_document(rows));
  ASSERT_EQ(back.size(), rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    ASSERT_EQ(back[r].size(), rows[r].size()) << "row " << r;
    for (size_t c = 0; c < rows[r].size(); ++c) {
      const std::string& cell = rows[r][c];
      const bool neutralised =
          !cell.empty() && std::string("=+-@\t\r").find(cell[0]) != std::string::npos;
      EXPECT_EQ(back[r][c], neutralised ? "'" + cell : cell) << "row " << r << " cell " << c;
    }
  }
}

// --- Local time ------------------------------------------------------------------------------

TEST(LocalClock, FormatsInstantsInTheProvincesTime) {
  auto clock = LocalClock::make(kZone, {kDate, "2027-07-13"});
  ASSERT_TRUE(clock) << clock.error().message;
  EXPECT_EQ(clock->offset_ms(at(7, 45)), 7 * 3'600'000);
  EXPECT_EQ(clock->date_time(at(7, 45)), "2027-07-12 07:45");
  EXPECT_EQ(clock->time(at(7, 44, 9), true), "07:44:09");
  // 23:30 local is 16:30 UTC the same day; 00:30 local the next day is still the day before in
  // UTC.
  EXPECT_EQ(clock->date_time(at(23, 30)), "2027-07-12 23:30");
  EXPECT_EQ(clock->date_time(at(24, 30)), "2027-07-13 00:30");
  EXPECT_EQ(clock->date(at(0, 0) - 1), "2027-07-11");  // before every date: the first's offset
  EXPECT_EQ(clock->timezone(), kZone);

  EXPECT_FALSE(LocalClock::make(kZone, {}));
  EXPECT_EQ(LocalClock::make(kZone, {"12/07/2027"}).error().message,
            "'12/07/2027' is not a date YYYY-MM-DD");
  EXPECT_EQ(LocalClock::make("Asia/Nowhere", {kDate}).error().message,
            "unknown time zone 'Asia/Nowhere' (not in /usr/share/zoneinfo)");
}

// --- A small hand-made ledger ----------------------------------------------------------------

class Exports : public ::testing::Test {
 protected:
  void SetUp() override {
    sites_ = testing::small_province();  // td-01 60 and td-02 45 (Tam Đường), mt-01 38
    Schedule schedule;
    schedule.timezone = kZone;
    schedule.days.push_back({kDate, {Period{"morning", 7 * 60 + 30, 11 * 60 + 30}}});
    auto slots = expand_schedule(schedule);
    ASSERT_TRUE(slots);
    auto clock = LocalClock::for_schedule(schedule);
    ASSERT_TRUE(clock) << clock.error().message;
    clock_ = *clock;
    options_.data_dir = dir_.path();
    options_.slots = *slots;
    options_.generated_at_ms = at(12, 5);
    options_.generated_by = "kiemtra.lan";

    td_0745_ = evidence("evidence/td-01/2027-07-12/morning-0745.jpg", 640, 360);
    td_0815_ = evidence("evidence/td-01/2027-07-12/morning-0815.jpg", 1280, 720);
    mt_0815_ = evidence("evidence/mt-01/2027-07-12/morning-0815.jpg", 160, 90);
    alert_ev_ = evidence("evidence/td-01/alerts/under_attendance-1.jpg", 640, 360);

    call("td-01", "07:45", at(7, 45), 52, 60, 101, at(7, 44, 30), td_0745_);  // 1
    call("mt-01", "07:45", at(7, 45), std::nullopt, 38, -1, 0, {});           // 2
    append("alert_opened", "mt-01", "alert/mt-01/offline/1", at(7, 30),       // 3
           {{"kind", "offline"},
            {"site_id", "mt-01"},
            {"started_ms", at(7, 30)},
            {"detected_ms", at(7, 40)},
            {"expected", 38},
            {"details", {{"last_frame_ms", 0}}}});
    call("td-01", "08:15", at(8, 15), 58, 60, 131, at(8, 14, 50), td_0815_);  // 4
    append("alert_closed", "mt-01", "alert/mt-01/offline/1", at(8, 20),       // 5
           {{"kind", "offline"},
            {"site_id", "mt-01"},
            {"started_ms", at(7, 30)},
            {"ended_ms", at(8, 20)},
            {"minutes", 50.0},
            {"why", "frames arrive again"}});
    call("mt-01", "08:15", at(8, 15), 30, 38, 12, at(8, 14), mt_0815_, {{31, 29}});     // 6
    append("correction", "td-01", "roll_call/td-01/2027-07-12/morning/0815", at(9, 0),  // 7
           {{"roll_call_seq", 4},
            {"counted", 59},
            {"counted_as_taken", 58},
            {"reason", "Đếm lại từ ảnh: 1 người bị che"}},
           "kiemtra.lan");
    append("alert_opened", "td-01", "alert/td-01/under_attendance/1", at(10, 30),  // 8
           {{"kind", "under_attendance"},
            {"site_id", "td-01"},
            {"started_ms", at(10, 30)},
            {"detected_ms", at(10, 45)},
            {"expected", 60},
            {"details", {{"count", 40}, {"threshold", 48.0}}},
            {"evidence_path", alert_ev_.first},
            {"evidence_sha256", alert_ev_.second},
            {"sequence", 280}});
    summary("td-01", 60, 240, 60, 56, 50, 0.933, false, false, 13440, 240);  // 9
    summary("mt-01", 38, 190, 33, 30, 0, 0.789, true, false, 5700, 190);     // 10

    auto records = extract_ledger(entries_);
    ASSERT_TRUE(records) << records.error().message;
    records_ = *records;
  }

  // Writes a real JPEG under the data dir; returns its path and SHA-256.
  std::pair<std::string, std::string> evidence(const std::string& path, int width, int height) {
    const std::string jpeg = testing::synthetic_jpeg(width, height);
    testing::write_file(dir_ / path, jpeg);
    return {path, sha256_hex(jpeg)};
  }

  // Appends to the hand-made chain with real hashes, as the store would.
  void append(const std::string& kind, const std::string& site, const std::string& subject,
              std::int64_t at_ms, const json& body, const std::string& actor = "system") {
    LedgerEntry e;
    e.seq = static_cast<std::int64_t>(entries_.size()) + 1;
    e.kind = kind;
    e.site_id = site;
    e.subject = subject;
    e.at_ms = at_ms;
    e.recorded_at_ms = at_ms + 1000;
    e.actor = actor;
    e.body = canonical_body(body).value();
    e.prev_hash = entries_.empty() ? genesis_hash() : entries_.back().hash;
    e.hash = ledger_hash(e);
    entries_.push_back(e);
  }

  void call(const std::string& site, const std::string& label, std::int64_t scheduled,
            std::optional<int> counted, int expected, std::int64_t sequence, std::int64_t captured,
            const std::pair<std::string, std::string>& ev,
            std::optional<std::pair<int, int>> node_and_audit = std::nullopt) {
    RollCall r;
    r.site_id = site;
    r.date = kDate;
    r.period = "morning";
    r.label = label;
    r.scheduled_ms = scheduled;
    r.counted = counted;
    r.expected = expected;
    r.sequence = sequence;
    r.captured_at_ms = captured;
    r.evidence_path = ev.first;
    r.evidence_sha256 = ev.second;
    if (node_and_audit) {  // counted at the site, its picture audited at the centre
      r.counted_by = CountedBy::kNode;
      r.evidence_count = node_and_audit->first;
      r.audit_count = node_and_audit->second;
    }
    std::string hhmm = label;
    hhmm.erase(2, 1);
    append("roll_call", site, "roll_call/" + site + "/" + kDate + "/morning/" + hhmm, scheduled,
           r.to_json());
  }

  void summary(const std::string& site, int expected, int frames, int peak, int median, int minimum,
               double rate, bool late, bool early, double ppm, double covered) {
    PeriodSummary s;
    s.site_id = site;
    s.date = kDate;
    s.period = "morning";
    s.expected = expected;
    s.frames = frames;
    s.peak = peak;
    s.median = median;
    s.minimum = minimum;
    s.attendance_rate = rate;
    s.late_start = late;
    s.early_leave = early;
    s.present_person_minutes = ppm;
    s.covered_minutes = covered;
    append("period_summary", site, "period_summary/" + site + "/" + kDate + "/morning", at(11, 30),
           s.to_json());
  }

  // A report's structure and self-containedness.
  void expect_self_contained(const std::string& html) {
    EXPECT_TRUE(html.starts_with("<!DOCTYPE html>\n<html lang=\"vi\">")) << html.substr(0, 80);
    EXPECT_THAT(html, ::testing::HasSubstr("<meta charset=\"utf-8\">"));
    EXPECT_THAT(html, ::testing::HasSubstr("@page { size: A4;"));
    EXPECT_THAT(html, ::testing::HasSubstr("@media print"));
    EXPECT_EQ(count(html, "<table"), count(html, "</table>"));
    EXPECT_EQ(count(html, "<tr"), count(html, "</tr>"));
    EXPECT_EQ(count(html, "<td"), count(html, "</td>"));
    EXPECT_EQ(count(html, "<figure"), count(html, "</figure>"));
    EXPECT_EQ(count(html, "<section"), count(html, "</section>"));
    EXPECT_TRUE(html.ends_with("</body>\n</html>\n"));
    EXPECT_EQ(html.find("http://"), std::string::npos);
    EXPECT_EQ(html.find("https://"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("<link"), std::string::npos);
    EXPECT_EQ(html.find("src=\"data:image/jpeg;base64,"), html.find("src=\""))
        << "every picture is inline";
    // Footer: the ledger range read, its last hash, and the signature block.
    EXPECT_THAT(html, ::testing::HasSubstr("các mục số 1 đến 10 (10 mục)"));
    EXPECT_THAT(html, ::testing::HasSubstr("Mã băm SHA-256 của mục số 10: <code>" +
                                           entries_.back().hash + "</code>"));
    EXPECT_THAT(html, ::testing::HasSubstr("attendance-server verify"));
    EXPECT_THAT(html, ::testing::HasSubstr("Lập lúc 12/07/2027 12:05"));
    EXPECT_THAT(html, ::testing::HasSubstr("người xuất: kiemtra.lan"));
    EXPECT_THAT(html, ::testing::HasSubstr("<b>Người lập biểu</b>"));
    EXPECT_THAT(html, ::testing::HasSubstr("<b>Người kiểm tra</b>"));
    // Vietnamese only, apart from codes: no period or alert code, no English reason.
    for (const char* english : {"morning", "offline", "under_attendance", "frames arrive again",
                                "lower_secondary", "Evidence", "Roll call"}) {
      EXPECT_EQ(html.find(english), std::string::npos) << english;
    }
  }

  testing::TempDir dir_;
  std::vector<Site> sites_;
  LocalClock clock_;
  ReportOptions options_;
  std::pair<std::string, std::string> td_0745_, td_0815_, mt_0815_, alert_ev_;
  std::vector<LedgerEntry> entries_;
  LedgerExtract records_;
};

TEST_F(Exports, ExtractJoinsAlertsAppliesCorrectionsAndKeepsTheRange) {
  EXPECT_EQ(records_.entries, 10);
  EXPECT_EQ(records_.first_seq, 1);
  EXPECT_EQ(records_.last_seq, 10);
  EXPECT_EQ(records_.last_hash, entries_.back().hash);
  ASSERT_EQ(records_.roll_calls.size(), 4u);
  const auto& corrected = records_.roll_calls[2];  // td-01 08:15
  EXPECT_EQ(corrected.roll_call.counted, 59);
  EXPECT_TRUE(corrected.corrected);
  EXPECT_EQ(corrected.counted_as_taken, 58);
  EXPECT_EQ(corrected.corrected_by, "kiemtra.lan");
  EXPECT_EQ(corrected.correction_seq, 7);
  ASSERT_EQ(records_.alerts.size(), 2u);
  EXPECT_EQ(records_.alerts[0].ended_ms, at(8, 20));
  EXPECT_EQ(records_.alerts[0].closed_seq, 5);
  EXPECT_FALSE(records_.alerts[1].ended_ms);
  EXPECT_EQ(records_.alerts[1].count, 40);
  EXPECT_EQ(records_.summaries.size(), 2u);
}

TEST_F(Exports, ExtractOfAPartialRangeKeepsWhatItHas) {
  const std::vector<LedgerEntry> tail(entries_.begin() + 4, entries_.end());  // from seq 5
  auto records = extract_ledger(tail);
  ASSERT_TRUE(records) << records.error().message;
  EXPECT_EQ(records->first_seq, 5);
  ASSERT_EQ(records->alerts.size(), 2u);
  EXPECT_EQ(records->alerts[0].opened_seq, 0);  // opened before the range
  EXPECT_EQ(records->alerts[0].closed_seq, 5);
  EXPECT_EQ(records->alerts[0].started_ms, at(7, 30));
  ASSERT_EQ(records->roll_calls.size(), 1u);  // mt-01 08:15; the correction's call is outside
  EXPECT_FALSE(records->roll_calls[0].corrected);
}

TEST_F(Exports, ExtractRefusesABodyThatIsNotWhatItsKindSays) {
  auto broken = entries_;
  broken[2].body = "{}";  // seq 3, alert_opened
  auto r = extract_ledger(broken);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message,
              ::testing::StartsWith("ledger entry 3 (alert_opened): malformed body: "));
  broken = entries_;
  broken[0].body = R"({"site_id":"td-01"})";
  EXPECT_EQ(extract_ledger(broken).error().message,
            "ledger entry 1 (roll_call): the body is not a roll call");
  broken = entries_;
  broken[8].body = "not json";
  EXPECT_EQ(extract_ledger(broken).error().message,
            "ledger entry 9 (period_summary): the body is not a JSON object");
  broken = entries_;
  broken[6].body = R"({"counted":"many"})";
  EXPECT_EQ(extract_ledger(broken).error().message,
            "ledger entry 7 (correction): the body has no whole number 'counted'");
  // Kinds it does not read only count in the range.
  broken = entries_;
  broken[1].kind = "view";
  broken[1].body = "not json";
  auto ok = extract_ledger(broken);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->roll_calls.size(), 3u);
  EXPECT_EQ(ok->entries, 10);
}

TEST_F(Exports, RollCallsCsvHasOneRowPerRollCall) {
  const std::string csv = roll_calls_csv(sites_, records_, clock_);
  EXPECT_TRUE(csv.starts_with("\xEF\xBB\xBFMã điểm,Tên điểm,Huyện/Thành phố,Cấp học,Ngày,Buổi,"));
  // clang-format off
  const Rows expected = {
      {"Mã điểm", "Tên điểm", "Huyện/Thành phố", "Cấp học", "Ngày", "Buổi", "Giờ điểm danh",
       "Giờ chụp ảnh", "Số dự kiến", "Số đếm được", "Tỉ lệ (%)", "Tệp ảnh minh chứng",
       "SHA-256 ảnh", "Ghi chú", "Mục sổ", "Số đếm khi điểm danh", "Người hiệu chỉnh",
       "Lý do hiệu chỉnh", "Mục sổ hiệu chỉnh", "Nơi đếm", "Số đếm trên ảnh tại điểm",
       "Số đếm kiểm tra tại trung tâm", "Số người đếm trên ảnh (kiểm tra viên)",
       "Số ước tính (hiệu chỉnh của điểm)"},
      {"td-01", "Trường THCS Bản Giang", "Tam Đường", "Trung học cơ sở", kDate, "Sáng", "07:45",
       "07:44:30", "60", "52", "86.7", td_0745_.first, td_0745_.second, "", "1",
       "", "", "", "",
       "Tại trung tâm", "", "", "", ""},
      {"td-01", "Trường THCS Bản Giang", "Tam Đường", "Trung học cơ sở", kDate, "Sáng", "08:15",
       "08:14:50", "60", "59", "98.3", td_0815_.first, td_0815_.second, "", "4",
       "58", "kiemtra.lan", "Đếm lại từ ảnh: 1 người bị che", "7",
       "Tại trung tâm", "", "", "", ""},
      {"mt-01", "Trường Mầm non Bum Nưa", "Mường Tè", "Mầm non", kDate, "Sáng", "07:45",
       "", "38", "", "", "", "", "Không có hình để đếm", "2",
       "", "", "", "",
       "", "", "", "", ""},
      {"mt-01", "Trường Mầm non Bum Nưa", "Mường Tè", "Mầm non", kDate, "Sáng", "08:15",
       "08:14:00", "38", "30", "78.9", mt_0815_.first, mt_0815_.second, "", "6",
       "", "", "", "",
       "Tại điểm", "31", "29", "", ""},
  };
  // clang-format on
  EXPECT_EQ(parsed(csv), expected);
  // Only the sites asked for: a district's export.
  const std::vector<Site> muong_te = {sites_[2]};
  EXPECT_EQ(parsed(roll_calls_csv(muong_te, records_, clock_)).size(), 3u);
}

TEST_F(Exports, ASetAsideCountIsKeptWithWhyAndNoRateInTheCsvAndTheReport) {
  LedgerExtract::Call& first = records_.roll_calls.front();  // td-01 07:45, 52 of 60
  ASSERT_EQ(first.roll_call.label, "07:45");
  first.roll_call.set_aside = {"covered", "frozen"};
  const Rows rows = parsed(roll_calls_csv(sites_, records_, clock_));
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(rows[1][9], "52");  // the count as taken
  EXPECT_EQ(rows[1][10], "");   // no rate from it
  EXPECT_EQ(rows[1][13], "Số đếm bị gác lại, camera: Bị che, Đứng hình");
  auto html = site_report_html(sites_, "td-01", records_, clock_, options_);
  ASSERT_TRUE(html) << html.error().message;
  EXPECT_THAT(*html,
              ::testing::HasSubstr(
                  "52<span class=\"note\">Số đếm bị gác lại, camera: Bị che, Đứng hình</span>"));
}

// td-01's 07:45 roll call (52) counted on its picture: 50 boxes, one not a person, 8 missed:
// 57 people. td-01's counts then stand for 57/52 as many people; mt-01 has no check.
TEST_F(Exports, ACountOnThePictureAndTheSitesEstimateStandBesideTheCount) {
  LedgerExtract::Call& first = records_.roll_calls.front();
  ASSERT_EQ(first.roll_call.counted, 52);
  first.corrected = true;
  first.counted_as_taken = 52;
  first.check = PictureCheck{.boxes = 50, .removed = {1}, .added = {}};
  for (int i = 0; i < 8; ++i) first.check->added.emplace_back(10.0f * i, 5.0f);
  first.roll_call.counted = first.check->people();
  const Rows rows = parsed(roll_calls_csv(sites_, records_, clock_));
  ASSERT_EQ(rows.size(), 5u);
  const auto last_two = [&](size_t row) {
    return std::vector<std::string>(rows[row].end() - 2, rows[row].end());
  };
  EXPECT_EQ(rows[1][9], "57");
  EXPECT_EQ(last_two(1), (std::vector<std::string>{"57", "57"}));
  EXPECT_EQ(last_two(2), (std::vector<std::string>{"", "64"}));  // 58 as taken x 57/52
  EXPECT_EQ(last_two(3), (std::vector<std::string>{"", ""}));
}

TEST_F(Exports, AlertsCsvHasOneRowPerAlertInLocalTime) {
  const Rows expected = {
      {"Mã điểm", "Tên điểm", "Huyện/Thành phố", "Loại cảnh báo", "Mã loại", "Bắt đầu", "Kết thúc",
       "Số phút", "Trạng thái", "Lý do kết thúc", "Tệp ảnh minh chứng", "SHA-256 ảnh", "Mục sổ mở",
       "Mục sổ đóng", "Số đếm", "Số đếm kiểm tra tại trung tâm"},
      {"td-01", "Trường THCS Bản Giang", "Tam Đường", "Thiếu học viên", "under_attendance",
       "2027-07-12 10:30", "", "", "Đang mở", "", alert_ev_.first, alert_ev_.second, "8", "", "40",
       ""},
      {"mt-01", "Trường Mầm non Bum Nưa", "Mường Tè", "Mất kết nối", "offline", "2027-07-12 07:30",
       "2027-07-12 08:20", "50.0", "Đã kết thúc", "Hình ảnh gửi về trở lại", "", "", "3", "5", "",
       ""},
  };
  EXPECT_EQ(parsed(alerts_csv(sites_, records_, clock_)), expected);
}

TEST_F(Exports, SummariesCsvHasOneRowPerPeriodSummary) {
  const Rows expected = {
      {"Mã điểm", "Tên điểm", "Huyện/Thành phố", "Ngày", "Buổi", "Số dự kiến", "Số khung hình",
       "Cao nhất", "Trung vị", "Thấp nhất", "Tỉ lệ (%)", "Vào lớp muộn", "Ra về sớm",
       "Người-phút có mặt", "Số phút có hình", "Mục sổ"},
      {"td-01", "Trường THCS Bản Giang", "Tam Đường", kDate, "Sáng", "60", "240", "60", "56", "50",
       "93.3", "Không", "Không", "13440.0", "240.0", "9"},
      {"mt-01", "Trường Mầm non Bum Nưa", "Mường Tè", kDate, "Sáng", "38", "190", "33", "30", "0",
       "78.9", "Có", "Không", "5700.0", "190.0", "10"},
  };
  EXPECT_EQ(parsed(summaries_csv(sites_, records_)), expected);
}

TEST_F(Exports, SummariesCsvLeavesEmptyWhatAPeriodWithoutFramesCannotSay) {
  // td-02 sent nothing all morning: no peak, median, minimum, rate or late/early fact, which
  // is not the same as a count of 0 or "Không".
  summary("td-02", 45, 0, 0, 0, 0, 0, false, false, 0, 0);
  auto records = extract_ledger(entries_);
  ASSERT_TRUE(records) << records.error().message;
  const Rows rows = parsed(summaries_csv(sites_, *records));
  const auto td02 =
      std::find_if(rows.begin(), rows.end(), [](const auto& r) { return r[0] == "td-02"; });
  ASSERT_NE(td02, rows.end());
  EXPECT_EQ(*td02,
            (std::vector<std::string>{"td-02", sites_[1].name, "Tam Đường", kDate, "Sáng", "45",
                                      "0", "", "", "", "", "", "", "0.0", "0.0", "11"}));
}

TEST(ExportFileName, SaysTheTableTheScopeAndTheDayInAscii) {
  EXPECT_EQ(export_file_name("roll-calls", "tp-01", "", "2027-07-12"),
            "diem-danh_tp-01_2027-07-12.csv");
  EXPECT_EQ(export_file_name("roll-calls", "", "", "2027-07-12"),
            "diem-danh_toan-tinh_2027-07-12.csv");
  EXPECT_EQ(export_file_name("alerts", "", "Tam Đường", "2027-07-12"),
            "canh-bao_tam-duong_2027-07-12.csv");
  EXPECT_EQ(export_file_name("summaries", "", "Thành phố Lai Châu", "2027-07-13"),
            "cac-buoi_thanh-pho-lai-chau_2027-07-13.csv");
  EXPECT_EQ(export_file_name("rollups", "", "MƯỜNG TÈ", "2027-07-12"),
            "tong-hop_muong-te_2027-07-12.csv");
  // Nothing that could break a header or a path gets through.
  EXPECT_EQ(export_file_name("alerts", "", "a\"b/../\r\nc;\xC3", "2027-07-12"),
            "canh-bao_a-b-c_2027-07-12.csv");
  EXPECT_EQ(export_file_name("alerts", "", "\"/\\", "2027-07-12"),
            "canh-bao_toan-tinh_2027-07-12.csv");
}

TEST_F(Exports, RollupsCsvHasEachPeriodAndTheClass) {
  // td-01 median 56 of 60; td-02 no summary; mt-01 30 of 38 (< 80%: short).
  const auto rows_for = [](const std::string& date, const std::string& period) -> Rows {
    return {
        {date, period, "Huyện/Thành phố", "Tam Đường", "2", "1", "0", "105", "60", "56", "93.3"},
        {date, period, "Huyện/Thành phố", "Mường Tè", "1", "1", "1", "38", "38", "30", "78.9"},
        {date, period, "Cấp học", "Mầm non", "1", "1", "1", "38", "38", "30", "78.9"},
        {date, period, "Cấp học", "Tiểu học", "1", "0", "0", "45", "0", "0", ""},
        {date, period, "Cấp học", "Trung học cơ sở", "1", "1", "0", "60", "60", "56", "93.3"},
        {date, period, "Tổng", "Tất cả các điểm", "3", "2", "1", "143", "98", "86", "87.8"},
    };
  };
  Rows expected = {{"Ngày", "Buổi", "Loại nhóm", "Nhóm", "Số điểm", "Số điểm có số đếm",
                    "Số điểm thiếu người", "Số dự kiến", "Số dự kiến (điểm có số đếm)",
                    "Số đếm được", "Tỉ lệ (%)"}};
  for (auto& r : rows_for(kDate, "Sáng")) expected.push_back(r);
  for (auto& r : rows_for("", "Cả khoá")) expected.push_back(r);
  EXPECT_EQ(parsed(rollups_csv(sites_, records_, 0.8)), expected);
}

TEST_F(Exports, AFormulaInASiteNameIsNeutralisedInTheExport) {
  sites_[0].name = "=HYPERLINK(\"x\")";
  const Rows rows = parsed(roll_calls_csv(sites_, records_, clock_));
  EXPECT_EQ(rows[1][1], "'=HYPERLINK(\"x\")");
}

// --- Reports ---------------------------------------------------------------------------------

TEST(Thumbnail, ScalesDownToTheWidthNeverUp) {
  auto big = thumbnail_jpeg(testing::synthetic_jpeg(1280, 720), 240, 70);
  ASSERT_TRUE(big) << big.error().message;
  const cv::Mat b =
      cv::imdecode(std::vector<unsigned char>(big->begin(), big->end()), cv::IMREAD_COLOR);
  EXPECT_EQ(b.cols, 240);
  EXPECT_EQ(b.rows, 135);
  auto small = thumbnail_jpeg(testing::synthetic_jpeg(160, 90), 240, 70);
  ASSERT_TRUE(small);
  const cv::Mat s =
      cv::imdecode(std::vector<unsigned char>(small->begin(), small->end()), cv::IMREAD_COLOR);
  EXPECT_EQ(s.cols, 160);
  EXPECT_EQ(s.rows, 90);
  auto bad = thumbnail_jpeg("not a jpeg", 240, 70);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "not a JPEG (no SOI marker)");
}

TEST(Thumbnail, DrawsTheCountedBoxesOnTheThumbnailOnly) {
  const std::string picture = testing::synthetic_jpeg(1280, 720);
  const std::vector<Box> boxes = {{400, 200, 160, 160, 0.9f}};
  auto plain = thumbnail_jpeg(picture, 320, 90);
  auto boxed = thumbnail_jpeg(picture, 320, 90, boxes);
  ASSERT_TRUE(plain && boxed);
  const auto decode = [](const std::string& j) {
    return cv::imdecode(std::vector<unsigned char>(j.begin(), j.end()), cv::IMREAD_COLOR);
  };
  // The box at a quarter scale: its left edge at x = 100, from y = 50 to 90.
  const cv::Vec3b edge = decode(*boxed).at<cv::Vec3b>(70, 100);
  EXPECT_GT(edge[1], 150);  // green
  EXPECT_LT(edge[0], 100);
  EXPECT_LT(edge[2], 100);
  EXPECT_NE(decode(*plain).at<cv::Vec3b>(70, 100), edge);
}

TEST_F(Exports, SiteReportShowsEveryRollCallWithItsThumbnailSummaryAndAlerts) {
  auto html = site_report_html(sites_, "td-01", records_, clock_, options_);
  ASSERT_TRUE(html) << html.error().message;
  expect_self_contained(*html);
  using ::testing::HasSubstr;
  EXPECT_THAT(*html, HasSubstr("<td>Trường THCS Bản Giang</td>"));
  EXPECT_THAT(*html, HasSubstr("<td>Trung học cơ sở</td>"));
  EXPECT_THAT(*html, HasSubstr("<td>Xã Bản Giang, huyện Tam Đường, tỉnh Lai Châu</td>"));
  EXPECT_THAT(*html, HasSubstr("Ngày 12/07/2027 — buổi sáng"));
  // Each roll call: its time, its count against expected, the SHA-256 prefix of its picture.
  EXPECT_THAT(*html, HasSubstr("07:45 · 52/60 · SHA-256 " + td_0745_.second.substr(0, 12)));
  EXPECT_THAT(*html, HasSubstr("08:15 · 59/60 · SHA-256 " + td_0815_.second.substr(0, 12)));
  EXPECT_THAT(*html, HasSubstr("Hiệu chỉnh từ 58 bởi kiemtra.lan (mục 7): Đếm lại từ ảnh"));
  EXPECT_THAT(*html, HasSubstr("86,7%"));
  // The period summary and the alert, still open.
  EXPECT_THAT(*html, HasSubstr("93,3%"));
  EXPECT_THAT(*html, HasSubstr("13.440,0"));
  EXPECT_THAT(*html, HasSubstr("<td>Thiếu học viên</td><td>10:30</td>"));
  EXPECT_THAT(*html, HasSubstr("Đang mở"));
  EXPECT_THAT(*html, HasSubstr("10:30 · 40/60 · SHA-256 " + alert_ev_.second.substr(0, 12)));
  // No other site's records.
  EXPECT_EQ(html->find("Bum Nưa"), std::string::npos);
  // Three thumbnails (two roll calls, the alert), none wider than 240 px.
  const auto thumbs = thumbnails(*html);
  ASSERT_EQ(thumbs.size(), 3u);
  for (const cv::Mat& t : thumbs) EXPECT_LE(t.cols, 240);
  EXPECT_EQ(thumbs[1].cols, 240);  // from 1280 x 720
  EXPECT_EQ(thumbs[1].rows, 135);
}

TEST_F(Exports, SiteReportOfAnOfflineSiteSaysSoAndShowsTheAlertsEnd) {
  auto html = site_report_html(sites_, "mt-01", records_, clock_, options_);
  ASSERT_TRUE(html) << html.error().message;
  expect_self_contained(*html);
  using ::testing::HasSubstr;
  EXPECT_THAT(*html, HasSubstr("Không có hình để đếm (mất kết nối)"));
  EXPECT_THAT(*html, HasSubstr("<td>—</td>"));  // no count at 07:45
  EXPECT_THAT(*html, HasSubstr("08:15 · 30/38 · SHA-256 " + mt_0815_.second.substr(0, 12)));
  EXPECT_THAT(*html, HasSubstr("<td>Mất kết nối</td><td>07:30</td><td>08:20</td>"
                               "<td class=\"n\">50,0</td><td>Hình ảnh gửi về trở lại</td>"));
  const auto thumbs = thumbnails(*html);
  ASSERT_EQ(thumbs.size(), 1u);
  EXPECT_EQ(thumbs[0].cols, 160);  // small evidence is not scaled up
}

TEST_F(Exports, SiteReportEscapesTextAndRefusesAnUnknownSite) {
  sites_[0].name = "Trường <script>alert(1)</script> & \"Co\"";
  auto html = site_report_html(sites_, "td-01", records_, clock_, options_);
  ASSERT_TRUE(html);
  expect_self_contained(*html);
  EXPECT_THAT(*html, ::testing::HasSubstr(
                         "Trường &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;"));
  auto unknown = site_report_html(sites_, "xx-99", records_, clock_, options_);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "no site 'xx-99'");
}

TEST_F(Exports, SiteReportFlagsAlteredAndMissingEvidence) {
  testing::write_file(dir_ / td_0815_.first, testing::synthetic_jpeg(1280, 720, 50));  // altered
  std::filesystem::remove(dir_ / td_0745_.first);                                      // lost
  auto html = site_report_html(sites_, "td-01", records_, clock_, options_);
  ASSERT_TRUE(html) << html.error().message;
  using ::testing::HasSubstr;
  EXPECT_THAT(*html, HasSubstr("07:45 · 52/60 · SHA-256 " + td_0745_.second.substr(0, 12) +
                               "<br><span class=\"none\">Không tìm thấy tệp ảnh minh chứng"));
  EXPECT_THAT(*html,
              HasSubstr("08:15 · 59/60 · SHA-256 " + td_0815_.second.substr(0, 12) +
                        "<br><span class=\"warn\">Ảnh không khớp mã SHA-256 đã ghi trong sổ"));
  EXPECT_EQ(thumbnails(*html).size(), 2u);  // the altered one is shown, flagged; the alert's

  // A path that leaves the data directory is not followed.
  records_.roll_calls[0].roll_call.evidence_path = "../../etc/passwd";
  html = site_report_html(sites_, "td-01", records_, clock_, options_);
  ASSERT_TRUE(html);
  EXPECT_THAT(*html, HasSubstr("Đường dẫn ảnh minh chứng không hợp lệ"));
}

TEST_F(Exports, DistrictReportRollsUpItsSitesWithTheirLastPictures) {
  auto html = district_report_html(sites_, "Tam Đường", records_, clock_, options_);
  ASSERT_TRUE(html) << html.error().message;
  expect_self_contained(*html);
  using ::testing::HasSubstr;
  EXPECT_THAT(*html, HasSubstr("Theo huyện/thành phố: Tam Đường"));
  EXPECT_THAT(*html, HasSubstr("<tr><th>Số học viên dự kiến</th><td>105</td></tr>"));
  // Roll-up of the period and of the class: 2 sites, 1 counted, 0 short, 105, 56, 93.3%.
  const std::string rollup =
      "<td class=\"n\">2</td><td class=\"n\">1</td><td class=\"n\">0</td>"
      "<td class=\"n\">105</td><td class=\"n\">56</td>"
      "<td class=\"n\">93,3%</td></tr>";
  EXPECT_THAT(*html, HasSubstr("<tr><td>Ngày 12/07/2027 — buổi sáng</td>" + rollup));
  EXPECT_THAT(*html, HasSubstr("<tr><td>Cả khoá</td>" + rollup));
  // Its sites, each period: median, expected, rate, alerts by kind (td-01: one under-attendance).
  EXPECT_THAT(*html, HasSubstr("Trường THCS Bản Giang"));
  EXPECT_THAT(*html, HasSubstr("Trường Tiểu học Bình Lư"));
  EXPECT_EQ(html->find("Bum Nưa"), std::string::npos);
  EXPECT_THAT(*html, HasSubstr("<td>Ngày 12/07/2027 — buổi sáng</td><td class=\"n\">60</td>"
                               "<td class=\"n\">56</td><td class=\"n\">93,3%</td>"
                               "<td class=\"n\">1</td><td class=\"n\">0</td>"
                               "<td class=\"n\">0</td><td class=\"n\">0</td>"
                               "<td class=\"n\">0</td><td class=\"n\">0</td>"
                               "<td class=\"n\">9</td>"));
  EXPECT_THAT(*html, HasSubstr("<td>Ngày 12/07/2027 — buổi sáng</td><td class=\"n\">45</td>"
                               "<td class=\"n\">—</td><td class=\"n\">—</td>"));
  // The last roll call of the period at td-01, with its picture; td-02 has none.
  EXPECT_THAT(*html,
              HasSubstr("Sáng 12/07 08:15 · 59/60 · SHA-256 " + td_0815_.second.substr(0, 12)));
  EXPECT_EQ(html->find("07:45 · 52/60"), std::string::npos);
  const auto thumbs = thumbnails(*html);
  ASSERT_EQ(thumbs.size(), 1u);
  EXPECT_EQ(thumbs[0].cols, 240);

  auto unknown = district_report_html(sites_, "Nowhere", records_, clock_, options_);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "no site in district 'Nowhere'");
}

// --- The evaluation set (eval_set.h) --------------------------------------------------------

// A roll call of `site` on `date` at `label` with `boxes` boxes 10 px wide, 30 px apart, each
// with its picture; checked on the picture when `check` is given.
LedgerExtract::Call checkable(const std::string& site, const std::string& date,
                              const std::string& label, int boxes, std::int64_t seq,
                              std::optional<PictureCheck> check = std::nullopt) {
  LedgerExtract::Call c;
  c.roll_call.site_id = site;
  c.roll_call.date = date;
  c.roll_call.period = "morning";
  c.roll_call.label = label;
  c.roll_call.counted = boxes;
  for (int i = 0; i < boxes; ++i) {
    c.roll_call.boxes.push_back(Box{30.0f * i, 20, 10, 12, 0.8f});
  }
  c.roll_call.evidence_path = "evidence/" + site + "/" + std::to_string(seq) + ".jpg";
  c.roll_call.evidence_sha256 = std::string(64, 'a');
  c.seq = seq;
  std::string hhmm = label;
  hhmm.erase(2, 1);
  c.subject = "roll_call/" + site + "/" + date + "/morning/" + hhmm;
  if (check) {
    c.corrected = true;
    c.counted_as_taken = boxes;
    c.corrected_by = "kiem.toan";
    c.correction_seq = seq + 100;
    c.roll_call.counted = check->people();
    c.check = std::move(check);
  }
  return c;
}

PictureCheck check_of(int boxes, std::vector<int> removed,
                      std::vector<std::pair<float, float>> added) {
  return PictureCheck{.boxes = boxes, .removed = std::move(removed), .added = std::move(added)};
}

TEST(EvalSet, VerifiedPeopleAreTheKeptBoxesThenTheAddedPoints) {
  const auto c = checkable("td-01", "2027-07-12", "07:45", 4, 1);
  auto people = verified_people(c.roll_call, check_of(4, {2, 0}, {{300, 40.5f}}));
  ASSERT_TRUE(people) << people.error().message;
  EXPECT_THAT(*people, ::testing::ElementsAre(TruthItem::of_box(Box{30, 20, 10, 12, 1}),
                                              TruthItem::of_box(Box{90, 20, 10, 12, 1}),
                                              TruthItem::point(300, 40.5f)));
  EXPECT_EQ(format_truth(*people), "30 20 40 32\n90 20 100 32\n300 40.5\n");
  // Nobody kept and nobody added: an empty truth, a picture of an empty room.
  auto empty = verified_people(c.roll_call, check_of(4, {0, 1, 2, 3}, {}));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  // A box without area stays one person, as the point at its centre.
  auto flat = c;
  flat.roll_call.boxes[1].w = 0;
  auto with_flat = verified_people(flat.roll_call, check_of(4, {0, 2, 3}, {}));
  ASSERT_TRUE(with_flat);
  EXPECT_THAT(*with_flat, ::testing::ElementsAre(TruthItem::point(30, 26)));
  auto other = verified_people(c.roll_call, check_of(5, {}, {}));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().message, "the check is of 5 boxes but the roll call recorded 4");
}

TEST(EvalSet, OnlyRollCallsCountedOnThePictureNamedBySiteDayAndTime) {
  LedgerExtract records;
  records.roll_calls = {
      checkable("td-01", "2027-07-12", "07:45", 3, 10, check_of(3, {0}, {{5, 5}, {6, 6}})),
      checkable("td-01", "2027-07-12", "08:15", 3, 11),  // not corrected
      checkable("mt-01", "2027-07-12", "07:45", 2, 12, check_of(2, {}, {})),
      checkable("td-01", "2027-07-13", "07:45", 1, 13, check_of(1, {}, {})),
      checkable("td-01", "2027-07-13", "08:15", 2, 14, check_of(3, {}, {})),  // mismatched
      checkable("mt-01", "2027-07-13", "08:15", 2, 15, check_of(2, {}, {})),
  };
  // A plain recount after a check: its latest correction is not on the picture.
  records.roll_calls[1].corrected = true;
  records.roll_calls[1].counted_as_taken = 3;
  records.roll_calls[5].roll_call.evidence_path.clear();
  // The same site, day and time twice (a roll call of another period at the same minute).
  records.roll_calls.push_back(
      checkable("mt-01", "2027-07-12", "07:45", 1, 16, check_of(1, {}, {{1, 1}})));

  const EvalSet all = eval_set(records, {});
  std::vector<std::string> names;
  for (const auto& i : all.items) names.push_back(i.name);
  EXPECT_THAT(names, ::testing::ElementsAre("td-01_2027-07-12_0745", "mt-01_2027-07-12_0745",
                                            "td-01_2027-07-13_0745", "mt-01_2027-07-12_0745_16"));
  EXPECT_THAT(all.left_out,
              ::testing::ElementsAre(
                  "roll_call/td-01/2027-07-13/morning/0815: the check is of 3 boxes but the roll "
                  "call recorded 2",
                  "roll_call/mt-01/2027-07-13/morning/0815: no evidence picture"));
  const EvalSetItem& first = all.items[0];
  EXPECT_EQ(first.verified, 4);  // 3 - 1 + 2
  EXPECT_EQ(first.truth.size(), 4u);
  EXPECT_EQ(first.counted, 3);
  EXPECT_EQ(first.boxes, 3);
  EXPECT_EQ(first.removed, 1);
  EXPECT_EQ(first.added, 2);
  EXPECT_EQ(first.seq, 10);
  EXPECT_EQ(first.correction_seq, 110);
  EXPECT_EQ(first.time, "07:45");
  EXPECT_EQ(first.checked_by, "kiem.toan");

  EvalSetFilter td;
  td.site_id = "td-01";
  EXPECT_EQ(eval_set(records, td).items.size(), 2u);
  EvalSetFilter first_day;
  first_day.to_date = "2027-07-12";
  EXPECT_EQ(eval_set(records, first_day).items.size(), 3u);
  EvalSetFilter second_day;
  second_day.from_date = "2027-07-13";
  second_day.to_date = "2027-07-13";
  second_day.site_id = "td-01";
  const EvalSet second = eval_set(records, second_day);
  ASSERT_EQ(second.items.size(), 1u);
  EXPECT_EQ(second.items[0].name, "td-01_2027-07-13_0745");
  EXPECT_EQ(second.left_out.size(), 1u);

  const Rows rows = parsed(eval_set_index_csv(second));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{
                         "name", "site_id", "date", "time", "period", "counted", "verified",
                         "boxes", "removed", "added", "checked_by", "subject", "roll_call_seq",
                         "correction_seq", "evidence_path", "evidence_sha256"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{
                         "td-01_2027-07-13_0745", "td-01", "2027-07-13", "07:45", "morning", "1",
                         "1", "1", "0", "0", "kiem.toan", "roll_call/td-01/2027-07-13/morning/0745",
                         "13", "113", "evidence/td-01/13.jpg", std::string(64, 'a')}));
}

TEST(EvalSet, FilterDatesAreRealDaysInOrder) {
  EXPECT_TRUE(check_filter({}));
  EvalSetFilter f;
  f.from_date = "2027-07-12";
  f.to_date = "2027-07-12";
  EXPECT_TRUE(check_filter(f));
  f.from_date = "12/07/2027";
  EXPECT_EQ(check_filter(f).error().message,
            "--from must be a day as YYYY-MM-DD (got '12/07/2027')");
  f.from_date = "2027-07-12";
  f.to_date = "2027-02-29";  // not a leap year
  EXPECT_EQ(check_filter(f).error().message, "--to must be a day as YYYY-MM-DD (got '2027-02-29')");
  f.to_date = "2027-07-11";
  EXPECT_EQ(check_filter(f).error().message, "--from 2027-07-12 is after --to 2027-07-11");
}

}  // namespace
}  // namespace att
