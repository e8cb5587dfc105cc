// Configuration input: the CSV reader, the sites list and class schedule organizers edit,
// the service's server.yaml, the capture node's YAML, and the YAML field checker under them.
// Every error message a person would read is asserted, and every "all errors at once"
// promise is checked with several mistakes in one input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "analysis/app/server_config.h"
#include "analysis/domain/province.h"
#include "capture/node_config.h"
#include "common/csv.h"
#include "common/yaml_fields.h"
#include "tests/support/test_support.h"

namespace {

namespace fs = std::filesystem;
using att::testing::TempDir;
using att::testing::write_file;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const fs::path kSourceDir = ATTENDANCE_SOURCE_DIR;

std::vector<std::vector<std::string>> fields_of(const std::vector<att::CsvRecord>& records) {
  std::vector<std::vector<std::string>> out;
  for (const auto& r : records) out.push_back(r.fields);
  return out;
}

std::vector<int> lines_of(const std::vector<att::CsvRecord>& records) {
  std::vector<int> out;
  for (const auto& r : records) out.push_back(r.line);
  return out;
}

// ----------------------------------------------------------------------------------------
// parse_csv

TEST(ParseCsv, PlainRecordsWithLineNumbers) {
  auto r = att::parse_csv("a,b,c\nd,e,f\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(fields_of(*r),
            (std::vector<std::vector<std::string>>{{"a", "b", "c"}, {"d", "e", "f"}}));
  EXPECT_THAT(lines_of(*r), ElementsAre(1, 2));
}

TEST(ParseCsv, LastRecordWithoutNewlineIsKept) {
  auto r = att::parse_csv("a,b\nc,d");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(fields_of(*r), (std::vector<std::vector<std::string>>{{"a", "b"}, {"c", "d"}}));
}

TEST(ParseCsv, EmptyFieldsAreKept) {
  auto r = att::parse_csv("a,,c,\n");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_THAT((*r)[0].fields, ElementsAre("a", "", "c", ""));
}

TEST(ParseCsv, QuotedFieldKeepsCommas) {
  auto r = att::parse_csv("id,\"Xã Bản Giang, huyện Tam Đường, tỉnh Lai Châu\",x\n");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_THAT((*r)[0].fields,
              ElementsAre("id", "Xã Bản Giang, huyện Tam Đường, tỉnh Lai Châu", "x"));
}

TEST(ParseCsv, DoubledQuotesInsideQuotedField) {
  auto r = att::parse_csv("\"say \"\"xin chào\"\"\",\"\"\"\",\"\"\n");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_THAT((*r)[0].fields, ElementsAre("say \"xin chào\"", "\"", ""));
}

TEST(ParseCsv, EmbeddedNewlinesAndRecordLineIsItsFirstLine) {
  const std::string text =
      "h1,h2\n"
      "\"line one\nline two\nline three\",x\n"  // lines 2-4
      "next,y\n";                               // line 5
  auto r = att::parse_csv(text);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[1].fields[0], "line one\nline two\nline three");
  EXPECT_EQ((*r)[1].fields[1], "x");
  EXPECT_THAT(lines_of(*r), ElementsAre(1, 2, 5));
}

TEST(ParseCsv, CrLfLineEnds) {
  auto r = att::parse_csv("a,b\r\nc,d\r\n\r\ne,\"f\"\r\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(fields_of(*r),
            (std::vector<std::vector<std::string>>{{"a", "b"}, {"c", "d"}, {"e", "f"}}));
  EXPECT_THAT(lines_of(*r), ElementsAre(1, 2, 4));
}

TEST(ParseCsv, ByteOrderMarkIsStripped) {
  auto r = att::parse_csv("\xEF\xBB\xBFid,name\ntd-01,Bản Giang\n");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].fields[0], "id");  // not "\xEF\xBB\xBFid"
  EXPECT_EQ((*r)[1].fields[1], "Bản Giang");
  EXPECT_THAT(lines_of(*r), ElementsAre(1, 2));
}

TEST(ParseCsv, BlankLinesAreSkippedButCounted) {
  auto r = att::parse_csv("\na\n\n\nb\n\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(fields_of(*r), (std::vector<std::vector<std::string>>{{"a"}, {"b"}}));
  EXPECT_THAT(lines_of(*r), ElementsAre(2, 5));
}

TEST(ParseCsv, EmptyTextHasNoRecords) {
  auto r = att::parse_csv("");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->empty());
}

TEST(ParseCsv, UnterminatedQuoteNamesTheLineWhereTheFieldStarts) {
  auto r = att::parse_csv("a,b\nc,d\ne,\"never closed\nmore\nand more\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "line 3: quoted field never closed");
}

TEST(ParseCsv, QuoteInsideUnquotedField) {
  auto r = att::parse_csv("a,b\nc,TV 42\" Samsung\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "line 2: a quote inside an unquoted field (quote the whole field and double the inner "
            "quotes)");
}

TEST(ParseCsv, TextAfterClosingQuote) {
  auto r = att::parse_csv("a\n\"quoted\" tail,b\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "line 2: text after a closing quote");
}

TEST(ParseCsv, LegacyEncodingIsRefusedWithItsLine) {
  // "Trường" as a Windows-1258 / Latin-1 spreadsheet would save it: 0xE0 is not UTF-8 here.
  auto r = att::parse_csv("id,name\ntd-01,ok\ntd-02,Tr\xE0ng\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "line 3: not valid UTF-8 (save the file as \"CSV UTF-8\" from the spreadsheet)");
}

TEST(ParseCsv, InvalidUtf8InsideAMultiLineFieldNamesThePhysicalLine) {
  auto r = att::parse_csv("a,\"one\ntwo\nthr\xFF\"\n");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, ::testing::StartsWith("line 3: not valid UTF-8"));
}

// ----------------------------------------------------------------------------------------
// first_invalid_utf8_line

TEST(FirstInvalidUtf8Line, ValidTextIsZero) {
  EXPECT_EQ(att::first_invalid_utf8_line(""), 0);
  EXPECT_EQ(att::first_invalid_utf8_line("plain ascii\nlines\n"), 0);
  EXPECT_EQ(att::first_invalid_utf8_line("Trường Tiểu học Nậm Loỏng, Mường Tè\n"), 0);
  EXPECT_EQ(att::first_invalid_utf8_line("\xF0\x9F\x98\x80 emoji"), 0);  // U+1F600
  EXPECT_EQ(att::first_invalid_utf8_line("\xF4\x8F\xBF\xBF"), 0);        // U+10FFFF, the last
  EXPECT_EQ(att::first_invalid_utf8_line("\xEF\xBF\xBD"), 0);            // U+FFFD
  EXPECT_EQ(att::first_invalid_utf8_line("\xC2\x80"), 0);                // U+0080, shortest 2-byte
}

TEST(FirstInvalidUtf8Line, OverlongEncodings) {
  EXPECT_EQ(att::first_invalid_utf8_line("\xC0\xAF"), 1);                // '/' in two bytes
  EXPECT_EQ(att::first_invalid_utf8_line("\xC1\xBF"), 1);                // U+007F in two bytes
  EXPECT_EQ(att::first_invalid_utf8_line("ok\n\xE0\x80\xAF"), 2);        // '/' in three bytes
  EXPECT_EQ(att::first_invalid_utf8_line("a\nb\n\xF0\x80\x80\xAF"), 3);  // '/' in four bytes
  EXPECT_EQ(att::first_invalid_utf8_line("\xE0\x9F\xBF"), 1);            // U+07FF in three bytes
}

TEST(FirstInvalidUtf8Line, Surrogates) {
  EXPECT_EQ(att::first_invalid_utf8_line("x\n\xED\xA0\x80"), 2);  // U+D800
  EXPECT_EQ(att::first_invalid_utf8_line("\xED\xBF\xBF"), 1);     // U+DFFF
  EXPECT_EQ(att::first_invalid_utf8_line("\xED\x9F\xBF"), 0);     // U+D7FF is fine
}

TEST(FirstInvalidUtf8Line, AboveTheLastCodePoint) {
  EXPECT_EQ(att::first_invalid_utf8_line("\xF4\x90\x80\x80"), 1);      // U+110000
  EXPECT_EQ(att::first_invalid_utf8_line("\xF8\x88\x80\x80\x80"), 1);  // 5-byte form
}

TEST(FirstInvalidUtf8Line, TruncatedSequenceAtTheEnd) {
  EXPECT_EQ(att::first_invalid_utf8_line("ab\nc\xE1\xBA"), 2);     // 3-byte cut after 2
  EXPECT_EQ(att::first_invalid_utf8_line("x\xC3"), 1);             // 2-byte cut after 1
  EXPECT_EQ(att::first_invalid_utf8_line("\n\n\xF0\x9F\x98"), 3);  // 4-byte cut after 3
}

TEST(FirstInvalidUtf8Line, BadContinuationAndLoneBytes) {
  EXPECT_EQ(att::first_invalid_utf8_line("\xC3"
                                         "a"),
            1);                                                // lead followed by ASCII
  EXPECT_EQ(att::first_invalid_utf8_line("ok\nok\n\x80"), 3);  // lone continuation byte
  EXPECT_EQ(att::first_invalid_utf8_line("\xFF"), 1);
  EXPECT_EQ(att::first_invalid_utf8_line("\xE1\xBA\n"), 1);  // newline cannot continue
}

// ----------------------------------------------------------------------------------------
// parse_sites_csv

constexpr char kHeader[] = "id,name,district,school_level,address,expected_attendees,camera\n";

TEST(ParseSitesCsv, VietnameseTextRoundTripsExactly) {
  const std::string text =
      std::string(kHeader) +
      "td-01,Trường THCS Bản Giang,Tam Đường,lower_secondary,"
      "\"Xã Bản Giang, huyện Tam Đường, tỉnh Lai Châu\",60,\"IP Dahua, góc phải\"\n"
      "mt-01,Trường Mầm non Bum Nưa,Mường Tè,preschool,\"Xã Bum Nưa, huyện Mường Tè\",38,USB\n"
      "ps_9,Trung tâm GDNN-GDTX Phong Thổ,Phong Thổ,upper_secondary,Thị trấn Phong Thổ,5000,\n"
      "sh-02,Trường Tiểu học Nậm Tăm,Sìn Hồ,primary,Xã Nậm Tăm,0,Logitech C925e\n";
  auto r = att::parse_sites_csv(text);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  const att::Site& a = (*r)[0];
  EXPECT_EQ(a.id, "td-01");
  EXPECT_EQ(a.name, "Trường THCS Bản Giang");
  EXPECT_EQ(a.district, "Tam Đường");
  EXPECT_EQ(a.level, att::SchoolLevel::kLowerSecondary);
  EXPECT_EQ(a.address, "Xã Bản Giang, huyện Tam Đường, tỉnh Lai Châu");
  EXPECT_EQ(a.expected_attendees, 60);
  EXPECT_EQ(a.camera, "IP Dahua, góc phải");
  EXPECT_EQ((*r)[1].level, att::SchoolLevel::kPreschool);
  EXPECT_EQ((*r)[1].district, "Mường Tè");
  EXPECT_EQ((*r)[2].id, "ps_9");
  EXPECT_EQ((*r)[2].level, att::SchoolLevel::kUpperSecondary);
  EXPECT_EQ((*r)[2].expected_attendees, 5000);
  EXPECT_EQ((*r)[2].camera, "");
  EXPECT_EQ((*r)[3].level, att::SchoolLevel::kPrimary);
  EXPECT_EQ((*r)[3].expected_attendees, 0);
  EXPECT_EQ((*r)[3].name, "Trường Tiểu học Nậm Tăm");
}

TEST(ParseSitesCsv, SpreadsheetExportWithBomAndCrLf) {
  const std::string text =
      "\xEF\xBB\xBFid,name,district,school_level,address,expected_attendees,camera\r\n"
      "td-01,Trường THCS Bản Giang,Tam Đường,lower_secondary,Xã Bản Giang,60,IP\r\n";
  auto r = att::parse_sites_csv(text);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].id, "td-01");
  EXPECT_EQ((*r)[0].camera, "IP");  // no stray '\r'
}

TEST(ParseSitesCsv, ColumnsInAnyOrder) {
  const std::string text =
      "camera,expected_attendees,address,school_level,district,name,id\n"
      "USB,45,Xã Bình Lư,primary,Tam Đường,Trường Tiểu học Bình Lư,td-02\n";
  auto r = att::parse_sites_csv(text);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].id, "td-02");
  EXPECT_EQ((*r)[0].name, "Trường Tiểu học Bình Lư");
  EXPECT_EQ((*r)[0].district, "Tam Đường");
  EXPECT_EQ((*r)[0].level, att::SchoolLevel::kPrimary);
  EXPECT_EQ((*r)[0].address, "Xã Bình Lư");
  EXPECT_EQ((*r)[0].expected_attendees, 45);
  EXPECT_EQ((*r)[0].camera, "USB");
}

TEST(ParseSitesCsv, SpacesAroundHeaderNamesAndValuesAreTrimmed) {
  const std::string text =
      "id , name,district,school_level,address,expected_attendees,camera\n"
      " td-01 ,  Bản Giang ,Tam Đường, primary ,addr, 12 ,cam\n";
  auto r = att::parse_sites_csv(text);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)[0].id, "td-01");
  EXPECT_EQ((*r)[0].name, "Bản Giang");
  EXPECT_EQ((*r)[0].expected_attendees, 12);
}

TEST(ParseSitesCsv, MissingColumn) {
  auto r = att::parse_sites_csv(
      "id,name,district,school_level,address,expected_attendees\n"
      "td-01,A,B,primary,C,10\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "header: 1 error:\n  - line 1: missing column 'camera'");
}

TEST(ParseSitesCsv, UnknownColumn) {
  auto r = att::parse_sites_csv(
      "id,name,district,school_level,address,expected_attendees,camera,phone\n"
      "td-01,A,B,primary,C,10,cam,0912\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "header: 1 error:\n  - line 1: unknown column 'phone'");
}

TEST(ParseSitesCsv, DuplicateColumn) {
  auto r = att::parse_sites_csv(
      "id,name,district,school_level,address,expected_attendees,camera,name\n"
      "td-01,A,B,primary,C,10,cam,A\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "header: 1 error:\n  - line 1: column 'name' appears twice");
}

TEST(ParseSitesCsv, AllHeaderProblemsAtOnce) {
  auto r = att::parse_sites_csv("id,nam,district,district,address,expected_attendees\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "header: 5 errors:\n"
            "  - line 1: unknown column 'nam'\n"
            "  - line 1: column 'district' appears twice\n"
            "  - line 1: missing column 'name'\n"
            "  - line 1: missing column 'school_level'\n"
            "  - line 1: missing column 'camera'");
}

// One bad row after the header; returns the error message (or "OK").
std::string one_row_error(const std::string& row) {
  auto r = att::parse_sites_csv(std::string(kHeader) + row + "\n");
  return r ? "OK" : r.error().message;
}

TEST(ParseSitesCsv, BadId) {
  EXPECT_EQ(one_row_error("TD 01,A,B,primary,C,10,cam"),
            "sites: 1 error:\n  - line 2: id: 'TD 01' is not a valid id (lowercase letters, "
            "digits, '-' or '_', at most 32)");
  EXPECT_THAT(one_row_error(",A,B,primary,C,10,cam"),
              HasSubstr("line 2: id: '' is not a valid id"));
  EXPECT_THAT(one_row_error("-td,A,B,primary,C,10,cam"),
              HasSubstr("line 2: id: '-td' is not a valid id"));
  EXPECT_THAT(one_row_error(std::string(33, 'a') + ",A,B,primary,C,10,cam"),
              HasSubstr("is not a valid id"));
  EXPECT_EQ(one_row_error(std::string(32, 'a') + ",A,B,primary,C,10,cam"), "OK");
  EXPECT_THAT(one_row_error("tđ-01,A,B,primary,C,10,cam"), HasSubstr("is not a valid id"));
}

TEST(ParseSitesCsv, DuplicateIdNamesTheFirstLine) {
  const std::string text = std::string(kHeader) +
                           "td-01,A,B,primary,\"two\nlines\",10,cam\n"  // lines 2-3
                           "\n"                                         // line 4
                           "td-02,A,B,primary,C,10,cam\n"               // line 5
                           "td-01,A2,B,primary,C,10,cam\n";             // line 6
  auto r = att::parse_sites_csv(text);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "sites: 1 error:\n  - line 6: id: 'td-01' already used on line 2");
}

TEST(ParseSitesCsv, EmptyNameAndDistrict) {
  EXPECT_EQ(one_row_error("td-01,,B,primary,C,10,cam"), "sites: 1 error:\n  - line 2: name: empty");
  EXPECT_EQ(one_row_error("td-01,   ,B,primary,C,10,cam"),
            "sites: 1 error:\n  - line 2: name: empty");
  EXPECT_EQ(one_row_error("td-01,A,,primary,C,10,cam"),
            "sites: 1 error:\n  - line 2: district: empty");
}

TEST(ParseSitesCsv, UnknownSchoolLevel) {
  EXPECT_EQ(one_row_error("td-01,A,B,college,C,10,cam"),
            "sites: 1 error:\n  - line 2: school_level: 'college' is not one of preschool, "
            "primary, lower_secondary, upper_secondary");
  EXPECT_THAT(one_row_error("td-01,A,B,Primary,C,10,cam"),
              HasSubstr("school_level: 'Primary' is not one of"));
}

TEST(ParseSitesCsv, ExpectedAttendeesBounds) {
  EXPECT_EQ(one_row_error("td-01,A,B,primary,C,many,cam"),
            "sites: 1 error:\n  - line 2: expected_attendees: 'many' is not a whole number from 0 "
            "to 5000");
  EXPECT_THAT(one_row_error("td-01,A,B,primary,C,-1,cam"),
              HasSubstr("line 2: expected_attendees: '-1' is not a whole number from 0 to 5000"));
  EXPECT_THAT(one_row_error("td-01,A,B,primary,C,5001,cam"),
              HasSubstr("line 2: expected_attendees: '5001' is not a whole number from 0 to 5000"));
  EXPECT_THAT(one_row_error("td-01,A,B,primary,C,12.5,cam"),
              HasSubstr("expected_attendees: '12.5' is not a whole number"));
  EXPECT_THAT(one_row_error("td-01,A,B,primary,C,,cam"),
              HasSubstr("expected_attendees: '' is not a whole number"));
  EXPECT_THAT(one_row_error("td-01,A,B,primary,C,99999999999,cam"),
              HasSubstr("expected_attendees: '99999999999' is not a whole number"));
  EXPECT_EQ(one_row_error("td-01,A,B,primary,C,5000,cam"), "OK");
  EXPECT_EQ(one_row_error("td-01,A,B,primary,C,0,cam"), "OK");
}

TEST(ParseSitesCsv, WrongFieldCount) {
  EXPECT_EQ(one_row_error("td-01,A,B,primary,C,10"),
            "sites: 1 error:\n  - line 2: has 6 fields, the header has 7");
  EXPECT_EQ(one_row_error("td-01,A,B,primary,Xã A, huyện B,10,cam"),
            "sites: 1 error:\n  - line 2: has 8 fields, the header has 7");
}

TEST(ParseSitesCsv, EveryBadRowIsReportedAtOnce) {
  const std::string text =
      std::string(kHeader) +
      "td-01,Trường A,Tam Đường,primary,addr,10,cam\n"     // 2: good
      "TD-02,Trường B,Tam Đường,primary,addr,10,cam\n"     // 3: bad id
      "td-03,,Tam Đường,primary,addr,10,cam\n"             // 4: empty name
      "\n"                                                 // 5: blank
      "td-04,Trường D,Tam Đường,university,addr,10,cam\n"  // 6: bad level
      "td-05,Trường E,Tam Đường,primary,addr,-3,cam\n"     // 7: negative
      "td-06,Trường F,Tam Đường,primary,addr,10\n"         // 8: field count
      "td-01,Trường G,Tam Đường,primary,addr,10,cam\n"     // 9: duplicate id
      "td-07,,Tam Đường,preschool,addr,lots,cam\n";        // 10: two problems in one row
  auto r = att::parse_sites_csv(text);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "sites: 8 errors:\n"
            "  - line 3: id: 'TD-02' is not a valid id (lowercase letters, digits, '-' or '_', at "
            "most 32)\n"
            "  - line 4: name: empty\n"
            "  - line 6: school_level: 'university' is not one of preschool, primary, "
            "lower_secondary, upper_secondary\n"
            "  - line 7: expected_attendees: '-3' is not a whole number from 0 to 5000\n"
            "  - line 8: has 6 fields, the header has 7\n"
            "  - line 9: id: 'td-01' already used on line 2\n"
            "  - line 10: name: empty\n"
            "  - line 10: expected_attendees: 'lots' is not a whole number from 0 to 5000");
}

TEST(ParseSitesCsv, HeaderOnlyIsAnError) {
  auto r = att::parse_sites_csv(kHeader);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "no sites (only a header line)");
  auto blank_rows = att::parse_sites_csv(std::string(kHeader) + "\n\n\r\n");
  ASSERT_FALSE(blank_rows);
  EXPECT_EQ(blank_rows.error().message, "no sites (only a header line)");
}

TEST(ParseSitesCsv, EmptyFileIsAnError) {
  auto r = att::parse_sites_csv("");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "no header line (expected: id,name,district,...)");
}

TEST(ParseSitesCsv, CsvErrorsPassThrough) {
  auto r = att::parse_sites_csv(std::string(kHeader) + "td-01,Tr\xE0ng,B,primary,C,10,cam\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "line 2: not valid UTF-8 (save the file as \"CSV UTF-8\" from the spreadsheet)");
}

TEST(LoadSitesCsv, MissingFileAndPathInErrors) {
  TempDir dir;
  auto missing = att::load_sites_csv(dir / "nope.csv");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, (dir / "nope.csv").string() + ": cannot open");

  write_file(dir / "sites.csv", std::string(kHeader) + "td-01,A,B,primary,C,x,cam\n");
  auto bad = att::load_sites_csv(dir / "sites.csv");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            (dir / "sites.csv").string() +
                ": sites: 1 error:\n  - line 2: expected_attendees: 'x' is not a whole number "
                "from 0 to 5000");
}

TEST(SchoolLevel, NamesRoundTrip) {
  for (auto level : {att::SchoolLevel::kPreschool, att::SchoolLevel::kPrimary,
                     att::SchoolLevel::kLowerSecondary, att::SchoolLevel::kUpperSecondary}) {
    EXPECT_EQ(att::parse_school_level(att::to_string(level)), level);
  }
  EXPECT_EQ(att::to_string(att::SchoolLevel::kLowerSecondary), "lower_secondary");
  EXPECT_FALSE(att::parse_school_level(""));
  EXPECT_FALSE(att::parse_school_level("secondary"));
}

TEST(ValidSiteId, Rules) {
  EXPECT_TRUE(att::valid_site_id("td-01"));
  EXPECT_TRUE(att::valid_site_id("a"));
  EXPECT_TRUE(att::valid_site_id("0_x-y"));
  EXPECT_FALSE(att::valid_site_id(""));
  EXPECT_FALSE(att::valid_site_id("_a"));
  EXPECT_FALSE(att::valid_site_id("-a"));
  EXPECT_FALSE(att::valid_site_id("Td-01"));
  EXPECT_FALSE(att::valid_site_id("td 01"));
  EXPECT_FALSE(att::valid_site_id("td/01"));
  EXPECT_FALSE(att::valid_site_id("../etc"));
  EXPECT_TRUE(att::valid_site_id(std::string(32, 'z')));
  EXPECT_FALSE(att::valid_site_id(std::string(33, 'z')));
}

// ----------------------------------------------------------------------------------------
// The sample province in config/

TEST(SampleProvince, LoadsWithEveryExpectedFigure) {
  const fs::path path = kSourceDir / "config" / "server.yaml";
  auto c = att::load_server_config(path);
  ASSERT_TRUE(c) << c.error().message;

  EXPECT_EQ(c->province_name, "Lai Châu");
  EXPECT_EQ(c->listen_port, 8080);
  EXPECT_EQ(c->detector.name, "fused");
  EXPECT_DOUBLE_EQ(c->counting.window_s, 300);
  EXPECT_EQ(c->zones_yaml, (kSourceDir / "config" / "zones.yaml").lexically_normal());
  ASSERT_EQ(c->zones.count("td-01"), 1u);
  EXPECT_EQ(c->zones.at("td-01").exclude.size(), 2u);
  EXPECT_EQ(c->data_dir, (kSourceDir / "data").lexically_normal());
  EXPECT_EQ(c->sites_csv, (kSourceDir / "config" / "sites.csv").lexically_normal());

  ASSERT_EQ(c->sites.size(), 164u);
  std::set<std::string> districts, ids;
  std::set<att::SchoolLevel> levels;
  long total = 0;
  for (const auto& s : c->sites) {
    districts.insert(s.district);
    levels.insert(s.level);
    ids.insert(s.id);
    total += s.expected_attendees;
  }
  EXPECT_EQ(districts.size(), 8u);
  EXPECT_EQ(levels.size(), 4u);
  EXPECT_EQ(ids.size(), 164u);
  EXPECT_GE(total, 9900);
  EXPECT_LE(total, 10100);
  EXPECT_EQ(c->sites.front().id, "tp-01");
  EXPECT_EQ(c->sites.front().name, "Hội trường UBND thành phố Lai Châu");
  EXPECT_TRUE(districts.contains("Thành phố Lai Châu"));

  EXPECT_EQ(c->schedule.timezone, "Asia/Ho_Chi_Minh");
  ASSERT_EQ(c->schedule.days.size(), 2u);
  EXPECT_LT(c->schedule.days[0].date, c->schedule.days[1].date);
  for (const auto& day : c->schedule.days) {
    std::vector<std::string> names;
    for (const auto& p : day.periods) {
      names.push_back(p.name);
      EXPECT_LT(p.start_minute, p.end_minute);
    }
    EXPECT_THAT(names, ElementsAre("morning", "afternoon")) << day.date;
    EXPECT_LT(day.periods[0].end_minute, day.periods[1].start_minute);
  }
}

// ----------------------------------------------------------------------------------------
// load_schedule

TEST(LoadSchedule, Good) {
  TempDir dir;
  write_file(dir / "schedule.yaml",
             "timezone: Asia/Ho_Chi_Minh\n"
             "days:\n"
             "  - date: 2027-07-12\n"
             "    periods:\n"
             "      - {name: morning, start: \"07:30\", end: \"11:30\"}\n"
             "      - {name: afternoon, start: \"13:30\", end: \"17:00\"}\n"
             "  - date: 2028-02-29\n"
             "    periods:\n"
             "      - {name: evening, start: \"00:00\", end: \"23:59\"}\n"
             "roll_calls:\n"
             "  first_after_start_min: 10\n"
             "  every_min: 45\n");
  auto s = att::load_schedule(dir / "schedule.yaml");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->timezone, "Asia/Ho_Chi_Minh");
  ASSERT_EQ(s->days.size(), 2u);
  EXPECT_EQ(s->days[0].date, "2027-07-12");
  ASSERT_EQ(s->days[0].periods.size(), 2u);
  EXPECT_EQ(s->days[0].periods[0].name, "morning");
  EXPECT_EQ(s->days[0].periods[0].start_minute, 7 * 60 + 30);
  EXPECT_EQ(s->days[0].periods[0].end_minute, 11 * 60 + 30);
  EXPECT_EQ(s->days[0].periods[1].start_minute, 13 * 60 + 30);
  EXPECT_EQ(s->days[0].periods[1].end_minute, 17 * 60);
  EXPECT_EQ(s->days[1].date, "2028-02-29");  // a leap day
  EXPECT_EQ(s->days[1].periods[0].start_minute, 0);
  EXPECT_EQ(s->days[1].periods[0].end_minute, 23 * 60 + 59);
  EXPECT_EQ(s->first_roll_call_after_start_min, 10);
  EXPECT_EQ(s->roll_call_every_min, 45);
}

TEST(LoadSchedule, RollCallDefaults) {
  TempDir dir;
  write_file(dir / "s.yaml",
             "timezone: Asia/Ho_Chi_Minh\n"
             "days:\n"
             "  - date: 2027-07-12\n"
             "    periods: [{name: morning, start: \"07:30\", end: \"11:30\"}]\n");
  auto s = att::load_schedule(dir / "s.yaml");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->first_roll_call_after_start_min, 15);
  EXPECT_EQ(s->roll_call_every_min, 30);
}

TEST(LoadSchedule, PerSiteOverridesAreReadAndCheckedLikeTheDays) {
  TempDir dir;
  write_file(dir / "s.yaml",
             "timezone: Asia/Ho_Chi_Minh\n"
             "days:\n"
             "  - date: 2027-07-12\n"
             "    periods: [{name: morning, start: \"07:30\", end: \"11:30\"}]\n"
             "overrides:\n"
             "  - site: mt-01\n"
             "    days:\n"
             "      - date: 2027-07-12\n"
             "        periods: [{name: morning, start: \"09:00\", end: \"11:30\"}]\n");
  auto s = att::load_schedule(dir / "s.yaml");
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->overrides.contains("mt-01"));
  EXPECT_EQ(s->overrides["mt-01"][0].periods[0].start_minute, 9 * 60);

  write_file(dir / "bad.yaml",
             "timezone: Asia/Ho_Chi_Minh\n"
             "days:\n"
             "  - date: 2027-07-12\n"
             "    periods: [{name: morning, start: \"07:30\", end: \"11:30\"}]\n"
             "overrides:\n"
             "  - site: mt-01\n"
             "    days:\n"
             "      - date: 2027-07-12\n"
             "        periods: [{name: morning, start: \"11:00\", end: \"09:30\"}]\n");
  auto bad = att::load_schedule(dir / "bad.yaml");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message,
              HasSubstr("overrides[0].days[0].periods[0].end: 09:30 is not after the start 11:00"));
}

TEST(LoadSchedule, EveryMistakeListedTogether) {
  TempDir dir;
  const fs::path path = dir / "schedule.yaml";
  write_file(path,
             "timezone: Asia/Ho_Chi_Minh\n"
             "days:\n"
             "  - date: 2027-02-29\n"  // not a leap year
             "    periods:\n"
             "      - {name: morning, start: \"7:30\", end: \"11:30\"}\n"
             "  - date: 2027-07-12\n"
             "    periods:\n"
             "      - {name: morning, start: \"09:00\", end: \"08:00\"}\n"
             "  - date: 2027-07-11\n"
             "    periods:\n"
             "      - {name: morning, start: \"07:30\", end: \"11:30\"}\n"
             "      - {name: afternoon, start: \"11:00\", end: \"24:00\"}\n"
             "      - {name: late, start: \"18:00\", end: \"19:00\", room: 4}\n");
  auto s = att::load_schedule(path);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            path.string() +
                ": 6 errors:\n"
                "  - days[0].date: '2027-02-29' is not a date YYYY-MM-DD\n"
                "  - days[0].periods[0].start: '7:30' is not HH:MM\n"
                "  - days[1].periods[0].end: 08:00 is not after the start 09:00\n"
                "  - days[2].date: 2027-07-11 does not come after 2027-07-12\n"
                "  - days[2].periods[1].end: '24:00' is not HH:MM\n"
                "  - days[2].periods[2].room: unknown setting");
}

TEST(LoadSchedule, OverlappingPeriods) {
  TempDir dir;
  const fs::path path = dir / "schedule.yaml";
  write_file(path,
             "timezone: Asia/Ho_Chi_Minh\n"
             "days:\n"
             "  - date: 2027-07-12\n"
             "    periods:\n"
             "      - {name: morning, start: \"07:30\", end: \"11:30\"}\n"
             "      - {name: afternoon, start: \"11:00\", end: \"17:00\"}\n");
  auto s = att::load_schedule(path);
  ASSERT_FALSE(s);
  EXPECT_EQ(
      s.error().message,
      path.string() + ": 1 error:\n  - days[0].periods[1].start: overlaps the previous period");
}

TEST(LoadSchedule, BadDates) {
  TempDir dir;
  const fs::path path = dir / "schedule.yaml";
  write_file(path,
             "timezone: Asia/Ho_Chi_Minh\n"
             "days:\n"
             "  - {date: 12/07/2027, periods: [{name: a, start: \"07:30\", end: \"08:00\"}]}\n"
             "  - {date: 2027-13-01, periods: [{name: a, start: \"07:30\", end: \"08:00\"}]}\n"
             "  - {date: 2027-04-31, periods: [{name: a, start: \"07:30\", end: \"08:00\"}]}\n");
  auto s = att::load_schedule(path);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("days[0].date: '12/07/2027' is not a date YYYY-MM-DD"));
  EXPECT_THAT(s.error().message, HasSubstr("days[1].date: '2027-13-01' is not a date YYYY-MM-DD"));
  EXPECT_THAT(s.error().message, HasSubstr("days[2].date: '2027-04-31' is not a date YYYY-MM-DD"));
  EXPECT_THAT(s.error().message, HasSubstr(": 3 errors:"));
}

TEST(LoadSchedule, SameDateTwiceIsNotIncreasing) {
  TempDir dir;
  const fs::path path = dir / "schedule.yaml";
  write_file(path,
             "timezone: Asia/Ho_Chi_Minh\n"
             "days:\n"
             "  - {date: 2027-07-12, periods: [{name: a, start: \"07:30\", end: \"08:00\"}]}\n"
             "  - {date: 2027-07-12, periods: [{name: b, start: \"09:30\", end: \"10:00\"}]}\n");
  auto s = att::load_schedule(path);
  ASSERT_FALSE(s);
  EXPECT_EQ(
      s.error().message,
      path.string() + ": 1 error:\n  - days[1].date: 2027-07-12 does not come after 2027-07-12");
}

TEST(LoadSchedule, MissingDaysAndTimezoneAndBadRollCalls) {
  TempDir dir;
  const fs::path path = dir / "schedule.yaml";
  write_file(path, "roll_calls: {first_after_start_min: -1, every_min: 0}\n");
  auto s = att::load_schedule(path);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            path.string() +
                ": 4 errors:\n"
                "  - timezone: required\n"
                "  - days: required\n"
                "  - roll_calls.first_after_start_min: must be between 0 and 240 (got -1)\n"
                "  - roll_calls.every_min: must be between 1 and 240 (got 0)");
}

TEST(LoadSchedule, DayWithoutPeriodsAndPeriodWithoutTimes) {
  TempDir dir;
  const fs::path path = dir / "schedule.yaml";
  write_file(path,
             "timezone: Asia/Ho_Chi_Minh\n"
             "days:\n"
             "  - date: 2027-07-12\n"
             "  - date: 2027-07-13\n"
             "    periods: [{name: morning}]\n");
  auto s = att::load_schedule(path);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, path.string() +
                                   ": 3 errors:\n"
                                   "  - days[0].periods: required\n"
                                   "  - days[1].periods[0].start: required\n"
                                   "  - days[1].periods[0].end: required");
}

TEST(LoadSchedule, DaysNotAList) {
  TempDir dir;
  const fs::path path = dir / "schedule.yaml";
  write_file(path, "timezone: Asia/Ho_Chi_Minh\ndays: 2027-07-12\n");
  auto s = att::load_schedule(path);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, path.string() + ": 1 error:\n  - days: must be a list");
}

// Hours and minutes are digits only: a sign would slip through a number parser.
TEST(LoadSchedule, NegativeHourOrMinuteIsNotHhMm) {
  TempDir dir;
  const fs::path path = dir / "schedule.yaml";
  write_file(path,
             "timezone: Asia/Ho_Chi_Minh\n"
             "days:\n"
             "  - date: 2027-07-12\n"
             "    periods:\n"
             "      - {name: morning, start: \"07:30\", end: \"08:-5\"}\n"
             "      - {name: afternoon, start: \"-1:30\", end: \"17:00\"}\n");
  auto s = att::load_schedule(path);
  ASSERT_FALSE(s) << "accepted; periods[0].end_minute = " << s->days[0].periods[0].end_minute;
  EXPECT_EQ(s.error().message, path.string() +
                                   ": 2 errors:\n"
                                   "  - days[0].periods[0].end: '08:-5' is not HH:MM\n"
                                   "  - days[0].periods[1].start: '-1:30' is not HH:MM");
}

// An invalid date is reported once, and does not make the next, valid, date look out of order.
TEST(LoadSchedule, InvalidDateDoesNotPoisonTheOrderCheck) {
  TempDir dir;
  const fs::path path = dir / "schedule.yaml";
  write_file(path,
             "timezone: Asia/Ho_Chi_Minh\n"
             "days:\n"
             "  - {date: 2027-13-01, periods: [{name: a, start: \"07:30\", end: \"08:00\"}]}\n"
             "  - {date: 2027-07-12, periods: [{name: a, start: \"07:30\", end: \"08:00\"}]}\n");
  auto s = att::load_schedule(path);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            path.string() + ": 1 error:\n  - days[0].date: '2027-13-01' is not a date YYYY-MM-DD");
}

TEST(LoadSchedule, MissingFile) {
  TempDir dir;
  auto s = att::load_schedule(dir / "nope.yaml");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, (dir / "nope.yaml").string() + ": cannot open");
}

// ----------------------------------------------------------------------------------------
// load_server_config

constexpr char kGoodSchedule[] =
    "timezone: Asia/Ho_Chi_Minh\n"
    "days:\n"
    "  - date: 2027-07-12\n"
    "    periods:\n"
    "      - {name: morning, start: \"07:30\", end: \"11:30\"}\n";

const std::string kGoodSites =
    std::string(kHeader) +
    "td-01,Trường THCS Bản Giang,Tam Đường,lower_secondary,\"Xã Bản Giang, Tam Đường\",60,IP\n"
    "mt-01,Trường Mầm non Bum Nưa,Mường Tè,preschool,Xã Bum Nưa,38,USB\n";

constexpr char kProvince[] =
    "province:\n"
    "  name: Lai Châu\n"
    "  sites: sites.csv\n"
    "  schedule: schedule.yaml\n";

// A directory with sites.csv and schedule.yaml, and server.yaml written from `yaml`.
struct ConfigDir {
  TempDir dir;
  fs::path server;
  explicit ConfigDir(const std::string& yaml) : server(dir / "server.yaml") {
    write_file(dir / "sites.csv", kGoodSites);
    write_file(dir / "schedule.yaml", kGoodSchedule);
    write_file(server, yaml);
  }
  std::string error() const {
    auto c = att::load_server_config(server);
    return c ? "OK" : c.error().message;
  }
};

TEST(LoadServerConfig, GoodWithRelativePathsResolvedAgainstTheFile) {
  TempDir dir;
  write_file(dir / "conf" / "lists" / "sites.csv", kGoodSites);
  write_file(dir / "conf" / "schedule.yaml", kGoodSchedule);
  const fs::path path = dir / "conf" / "server.yaml";
  write_file(path,
             "listen:\n"
             "  host: 0.0.0.0\n"
             "  port: 9090\n"
             "  threads: 4\n"
             "data_dir: ../var/data\n"
             "dashboard_dir: /srv/dashboard\n"
             "log_level: debug\n"
             "province:\n"
             "  name: Lai Châu\n"
             "  sites: lists/sites.csv\n"
             "  schedule: ./schedule.yaml\n"
             "detector:\n"
             "  name: haar\n"
             "  model_dir: models\n"
             "  haar_cascade: cascades/face.xml\n"
             "  score_threshold: 0.6\n"
             "  nms_threshold: 0.4\n"
             "  workers: 2\n"
             "ingest:\n"
             "  max_body_bytes: 2048\n"
             "  max_image_pixels: 10000\n"
             "  queue_capacity: 12\n"
             "  queue_per_site: 3\n"
             "  max_future_s: 60\n"
             "  max_age_days: 2\n"
             "nodes:\n"
             "  sample_interval_s: 10\n"
             "  live_interval_s: 1\n"
             "  live_duration_s: 120\n");
  auto c = att::load_server_config(path);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->listen_host, "0.0.0.0");
  EXPECT_EQ(c->listen_port, 9090);
  EXPECT_EQ(c->http_threads, 4);
  EXPECT_EQ(c->data_dir, dir.path() / "var" / "data");
  EXPECT_EQ(c->dashboard_dir, fs::path("/srv/dashboard"));
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_EQ(c->province_name, "Lai Châu");
  EXPECT_EQ(c->sites_csv, dir.path() / "conf" / "lists" / "sites.csv");
  EXPECT_EQ(c->schedule_yaml, dir.path() / "conf" / "schedule.yaml");
  EXPECT_EQ(c->detector.name, "haar");
  EXPECT_EQ(c->detector.model_dir, dir.path() / "conf" / "models");
  EXPECT_EQ(c->detector.haar_cascade, dir.path() / "conf" / "cascades" / "face.xml");
  EXPECT_DOUBLE_EQ(c->detector.score_threshold, 0.6);
  EXPECT_DOUBLE_EQ(c->detector.nms_threshold, 0.4);
  EXPECT_EQ(c->detector.workers, 2);
  EXPECT_EQ(c->max_body_bytes, 2048);
  EXPECT_EQ(c->max_image_pixels, 10000);
  EXPECT_EQ(c->queue_capacity, 12);
  EXPECT_EQ(c->queue_per_site, 3);
  EXPECT_EQ(c->max_future_s, 60);
  EXPECT_EQ(c->max_age_s, 2 * 86400);
  EXPECT_DOUBLE_EQ(c->nodes.sample_interval_s, 10);
  EXPECT_DOUBLE_EQ(c->nodes.live_interval_s, 1);
  EXPECT_DOUBLE_EQ(c->nodes.live_duration_s, 120);
  EXPECT_TRUE(c->nodes.site_keys_csv.empty());
  ASSERT_EQ(c->sites.size(), 2u);
  EXPECT_EQ(c->sites[0].address, "Xã Bản Giang, Tam Đường");
  ASSERT_EQ(c->schedule.days.size(), 1u);
  EXPECT_EQ(c->schedule.days[0].date, "2027-07-12");
}

TEST(LoadServerConfig, TheStoreIsSqliteUnlessPostgresIsNamedWithItsConnectionString) {
  {
    ConfigDir d(kProvince);
    auto c = att::load_server_config(d.server);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->storage.backend, "sqlite");
    EXPECT_EQ(c->storage.postgres, "");
  }
  {
    ConfigDir d(std::string(kProvince) +
                "storage:\n  backend: postgres\n  postgres: \"host=db port=5432 dbname=att\"\n"
                "  readers: 8\n");
    auto c = att::load_server_config(d.server);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->storage.backend, "postgres");
    EXPECT_EQ(c->storage.postgres, "host=db port=5432 dbname=att");
    EXPECT_EQ(c->storage.readers, 8);
  }
  EXPECT_THAT(ConfigDir(std::string(kProvince) + "storage:\n  backend: mysql\n").error(),
              HasSubstr("storage.backend: 'mysql' is not one of sqlite, postgres"));
  EXPECT_THAT(ConfigDir(std::string(kProvince) + "storage:\n  backend: postgres\n").error(),
              HasSubstr("storage.postgres: the connection string is required with backend "
                        "postgres"));
}

TEST(LoadServerConfig, OnlyProvinceGivesDocumentedDefaults) {
  ConfigDir d(kProvince);
  auto c = att::load_server_config(d.server);
  ASSERT_TRUE(c) << c.error().message;
  const att::ServerConfig defaults;
  EXPECT_EQ(c->listen_host, "127.0.0.1");
  EXPECT_EQ(c->listen_port, 8080);
  EXPECT_EQ(c->http_threads, 8);
  EXPECT_EQ(c->data_dir, d.dir.path() / "data");
  EXPECT_TRUE(c->dashboard_dir.empty());
  EXPECT_EQ(c->log_level, "info");
  EXPECT_EQ(c->log_format, "text");
  EXPECT_EQ(c->detector.name, "fused");
  EXPECT_TRUE(c->detector.model_dir.empty());
  EXPECT_EQ(c->detector.haar_cascade, defaults.detector.haar_cascade);
  EXPECT_DOUBLE_EQ(c->detector.score_threshold, 0);  // each detector's measured default
  EXPECT_DOUBLE_EQ(c->detector.far_rows_fraction, 0.5);
  EXPECT_DOUBLE_EQ(c->counting.window_s, 300);
  EXPECT_DOUBLE_EQ(c->counting.enter_fraction, 0.3);
  EXPECT_TRUE(c->zones.empty());
  EXPECT_DOUBLE_EQ(c->detector.nms_threshold, 0.3);
  EXPECT_EQ(c->detector.workers, 0);
  EXPECT_EQ(c->max_body_bytes, 4 << 20);
  EXPECT_EQ(c->max_image_pixels, 3840LL * 2160);
  EXPECT_EQ(c->queue_capacity, 0);  // 4 per detector
  EXPECT_EQ(c->queue_per_site, 2);
  EXPECT_EQ(c->max_future_s, 300);
  EXPECT_EQ(c->max_age_s, 30 * 86400);
  EXPECT_DOUBLE_EQ(c->nodes.sample_interval_s, 5);
  EXPECT_DOUBLE_EQ(c->nodes.live_interval_s, 0.5);
  EXPECT_TRUE(c->tls_cert.empty());
}

// ----------------------------------------------------------------------------------------
// Counting: the occupancy window's settings and per-site zones

TEST(LoadServerConfig, CountingSettingsAndZonesAreRead) {
  ConfigDir d(std::string(kProvince) +
              "counting:\n"
              "  window_s: 600\n"
              "  enter_fraction: 0.4\n"
              "  leave_fraction: 0.2\n"
              "  zones: zones.yaml\n");
  write_file(d.dir / "zones.yaml",
             "td-01:\n"
             "  count:\n"
             "    audience: [[0, 0.3], [1, 0.3], [1, 1], [0, 1]]\n"
             "  exclude:\n"
             "    stage: [[0, 0.3], [0.2, 0.3], [0.2, 1], [0, 1]]\n"
             "    tv: [[0.8, 0], [1, 0], [1, 0.3]]\n"
             "  empty_reference: refs/td-01-empty.jpg\n");
  auto c = att::load_server_config(d.server);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_DOUBLE_EQ(c->counting.window_s, 600);
  EXPECT_DOUBLE_EQ(c->counting.enter_fraction, 0.4);
  EXPECT_DOUBLE_EQ(c->counting.leave_fraction, 0.2);
  ASSERT_EQ(c->zones.count("td-01"), 1u);
  const att::SiteZones& z = c->zones.at("td-01");
  ASSERT_EQ(z.count.size(), 1u);
  ASSERT_EQ(z.exclude.size(), 2u);
  EXPECT_EQ(z.exclude[0].name, "stage");
  EXPECT_EQ(z.exclude[1].points.size(), 3u);
  EXPECT_EQ(c->empty_references.at("td-01"), d.dir / "refs" / "td-01-empty.jpg");
  // In the audience, off the stage: counted. On the stage, or above the audience: not.
  EXPECT_TRUE(z.counts(640, 500, 1280, 720));
  EXPECT_FALSE(z.counts(100, 500, 1280, 720));
  EXPECT_FALSE(z.counts(640, 100, 1280, 720));
}

TEST(LoadServerConfig, BadZonesAreAllReported) {
  ConfigDir d(std::string(kProvince) + "counting:\n  zones: zones.yaml\n");
  write_file(d.dir / "zones.yaml",
             "xx-99:\n"
             "  count:\n"
             "    all: [[0, 0], [1, 0], [1, 1]]\n"
             "td-01:\n"
             "  count:\n"
             "    line: [[0, 0], [1, 1]]\n"
             "  exclude:\n"
             "    stage: [[0, 0], [1.5, 0], [1, 1]]\n"
             "    door: [[0, 0], [a, 0], [1, 1]]\n"
             "  excluded: {}\n");
  const std::string e = d.error();
  EXPECT_THAT(e, HasSubstr("xx-99: no such site in the province"));
  EXPECT_THAT(e, HasSubstr("td-01.count.line: a zone is a list of 3 or more [x, y] points"));
  EXPECT_THAT(e, HasSubstr("td-01.exclude.stage: point [1.500000, 0.000000] is outside 0..1"));
  EXPECT_THAT(e, HasSubstr("td-01.exclude.door: each point is [x, y], two numbers in 0..1"));
  EXPECT_THAT(e, HasSubstr("td-01.excluded: unknown setting"));
}

// Found by fuzz/fuzz_yaml: YAML's .nan is a float that no comparison refuses, so a zone
// point of .nan passed the 0..1 check and reached the occupancy window.
TEST(LoadServerConfig, NanZonePointIsRefused) {
  ConfigDir d(std::string(kProvince) + "counting:\n  zones: zones.yaml\n");
  write_file(d.dir / "zones.yaml",
             "td-01:\n"
             "  count:\n"
             "    hall: [[.nan, 0], [1, 0], [1, 1]]\n"
             "  exclude:\n"
             "    door: [[0, 0], [1, .NaN], [1, 1]]\n");
  const std::string e = d.error();
  EXPECT_THAT(e, HasSubstr("td-01.count.hall: point [nan, 0.000000] is outside 0..1"));
  EXPECT_THAT(e, HasSubstr("td-01.exclude.door: point [1.000000, nan] is outside 0..1"));
}

TEST(LoadServerConfig, LeaveShareAboveEnterShareIsRefused) {
  ConfigDir d(std::string(kProvince) + "counting:\n  enter_fraction: 0.2\n  leave_fraction: 0.3\n");
  EXPECT_THAT(d.error(),
              HasSubstr("counting.leave_fraction must not exceed counting.enter_fraction"));
}

TEST(LoadServerConfig, YamlSyntaxErrorNamesLineAndColumn) {
  ConfigDir d(std::string(kProvince) +
              "listen:\n"
              "  port: 8080\n"
              "  threads: [4\n");
  const std::string e = d.error();
  EXPECT_THAT(e, ::testing::StartsWith(d.server.string() + ": YAML syntax error at line "));
  EXPECT_THAT(e, ::testing::ContainsRegex("at line [0-9]+, column [0-9]+: "));
}

TEST(LoadServerConfig, YamlSyntaxErrorExactPosition) {
  // " host" is indented less than the mapping it follows: the error is at its first column.
  ConfigDir d("listen:\n  port: 8080\n host: x\n");
  EXPECT_EQ(d.error(),
            d.server.string() + ": YAML syntax error at line 3, column 2: end of map not found");
}

TEST(LoadServerConfig, MissingFile) {
  TempDir dir;
  auto c = att::load_server_config(dir / "absent.yaml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, (dir / "absent.yaml").string() + ": cannot open");
}

TEST(LoadServerConfig, MisspeltKeyIsAnError) {
  ConfigDir d(std::string(kProvince) + "listen: {prot: 80}\n");
  EXPECT_EQ(d.error(), d.server.string() + ": 1 error:\n  - listen.prot: unknown setting");
}

TEST(LoadServerConfig, UnknownTopLevelKey) {
  ConfigDir d(std::string(kProvince) + "datadir: /tmp/x\n");
  EXPECT_EQ(d.error(), d.server.string() + ": 1 error:\n  - datadir: unknown setting");
}

TEST(LoadServerConfig, PortOutOfRange) {
  ConfigDir d(std::string(kProvince) + "listen: {port: 70000}\n");
  EXPECT_EQ(d.error(), d.server.string() +
                           ": 1 error:\n  - listen.port: must be between 0 and 65535 (got 70000)");
  ConfigDir neg(std::string(kProvince) + "listen: {port: -1}\n");
  EXPECT_THAT(neg.error(), HasSubstr("listen.port: must be between 0 and 65535 (got -1)"));
  ConfigDir zero(std::string(kProvince) + "listen: {port: 0}\n");
  EXPECT_EQ(zero.error(), "OK");
}

TEST(LoadServerConfig, WrongTypes) {
  ConfigDir word(std::string(kProvince) + "listen: {port: eighty}\n");
  EXPECT_EQ(word.error(), word.server.string() +
                              ": 1 error:\n  - listen.port: must be a whole number (got 'eighty')");
  ConfigDir fraction(std::string(kProvince) + "listen: {threads: 2.5}\n");
  EXPECT_THAT(fraction.error(), HasSubstr("listen.threads: must be a whole number (got '2.5')"));
  ConfigDir list(std::string(kProvince) + "listen: {port: [1, 2]}\n");
  EXPECT_THAT(list.error(), HasSubstr("listen.port: must be a whole number (got 'a non-scalar')"));
  ConfigDir scalar(std::string(kProvince) + "listen: 8080\n");
  EXPECT_EQ(scalar.error(), scalar.server.string() + ": 1 error:\n  - listen: must be a mapping");
  ConfigDir number(std::string(kProvince) + "detector: {score_threshold: high}\n");
  EXPECT_THAT(number.error(), HasSubstr("detector.score_threshold: must be a number (got 'high')"));
  ConfigDir text(std::string(kProvince) + "log_level: [info]\n");
  EXPECT_THAT(text.error(), HasSubstr("log_level: must be a text value"));
}

TEST(LoadServerConfig, NumberBounds) {
  ConfigDir d(std::string(kProvince) +
              "detector: {score_threshold: 0.01, nms_threshold: 1.5, workers: 65}\n"
              "listen: {threads: 1}\n"
              "ingest: {max_body_bytes: 100}\n");
  const std::string e = d.error();
  EXPECT_THAT(e, HasSubstr(": 5 errors:"));
  EXPECT_THAT(e, HasSubstr("listen.threads: must be between 2 and 256 (got 1)"));
  EXPECT_THAT(e, HasSubstr("detector.score_threshold: must be between 0.05 and 1 (got 0.01)"));
  EXPECT_THAT(e, HasSubstr("detector.nms_threshold: must be between 0.05 and 1 (got 1.5)"));
  EXPECT_THAT(e, HasSubstr("detector.workers: must be between 0 and 64 (got 65)"));
  EXPECT_THAT(e, HasSubstr("ingest.max_body_bytes: must be between 1024 and 67108864 (got 100)"));
}

TEST(LoadServerConfig, BadDetectorName) {
  ConfigDir d(std::string(kProvince) + "detector: {name: ssd}\n");
  EXPECT_EQ(d.error(), d.server.string() +
                           ": 1 error:\n  - detector.name: 'ssd' is not one of fused, yunet-tiled, "
                           "yunet, lffd-head, haar, hog");
}

TEST(LoadServerConfig, BadLogLevel) {
  ConfigDir d(std::string(kProvince) + "log_level: verbose\n");
  EXPECT_EQ(d.error(), d.server.string() +
                           ": 1 error:\n  - log_level: 'verbose' is not one of trace, debug, info, "
                           "warn, error");
}

TEST(LoadServerConfig, AlertOnIsSeenOrEstimated) {
  ConfigDir d(std::string(kProvince) + "attendance: {alert_on: estimated}\n");
  auto c = att::load_server_config(d.server);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->attendance.alert_on_estimated);
  ConfigDir bad(std::string(kProvince) + "attendance: {alert_on: guessed}\n");
  EXPECT_EQ(bad.error(), bad.server.string() +
                             ": 1 error:\n  - attendance.alert_on: 'guessed' is "
                             "not one of seen, estimated");
}

TEST(LoadServerConfig, LogFormatJson) {
  ConfigDir d(std::string(kProvince) + "log_format: json\n");
  auto c = att::load_server_config(d.server);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->log_format, "json");
}

TEST(LoadServerConfig, BadLogFormat) {
  ConfigDir d(std::string(kProvince) + "log_format: JSON\n");
  EXPECT_EQ(d.error(),
            d.server.string() + ": 1 error:\n  - log_format: 'JSON' is not one of text, json");
}

TEST(LoadServerConfig, MissingProvinceSection) {
  ConfigDir d("listen: {port: 8080}\n");
  const std::string e = d.error();
  EXPECT_THAT(e, ::testing::StartsWith(d.server.string() + ": "));
  EXPECT_THAT(e, HasSubstr("\n  - province: required"));
}

TEST(LoadServerConfig, ProvinceWithoutItsFiles) {
  ConfigDir d("province: {name: Lai Châu}\n");
  EXPECT_EQ(d.error(), d.server.string() +
                           ": 2 errors:\n"
                           "  - province.sites: required\n"
                           "  - province.schedule: required");
}

TEST(LoadServerConfig, NamedFilesMissing) {
  ConfigDir d(
      "province:\n"
      "  name: Lai Châu\n"
      "  sites: other.csv\n"
      "  schedule: other.yaml\n");
  EXPECT_EQ(d.error(), d.server.string() +
                           ": 2 errors:\n"
                           "  - province.sites: " +
                           (d.dir / "other.csv").string() +
                           ": cannot open\n"
                           "  - province.schedule: " +
                           (d.dir / "other.yaml").string() + ": cannot open");
}

TEST(LoadServerConfig, FiveMistakesInOneMessage) {
  ConfigDir d(
      "listen:\n"
      "  port: 70000\n"      // 1: out of range
      "data_dri: ../data\n"  // 2: misspelt key
      "log_level: loud\n"    // 3: bad value
      "province:\n"
      "  name: Lai Châu\n"
      "  sites: sites.csv\n"
      "  schedule: schedule.yaml\n"
      "detector:\n"
      "  name: mtcnn\n");          // 4: bad detector
  write_file(d.dir / "sites.csv",  // 5: a bad row in the CSV the config names
             std::string(kHeader) +
                 "td-01,Trường THCS Bản Giang,Tam Đường,lower_secondary,addr,60,IP\n"
                 "td-02,Trường Tiểu học Bình Lư,Tam Đường,primary,addr,about 40,USB\n");
  EXPECT_EQ(d.error(),
            d.server.string() +
                ": 5 errors:\n"
                "  - listen.port: must be between 0 and 65535 (got 70000)\n"
                "  - log_level: 'loud' is not one of trace, debug, info, warn, error\n"
                "  - detector.name: 'mtcnn' is not one of fused, yunet-tiled, yunet, lffd-head, "
                "haar, hog\n"
                "  - data_dri: unknown setting\n"
                "  - province.sites: " +
                (d.dir / "sites.csv").string() +
                ": sites: 1 error:\n"
                "  - line 3: expected_attendees: 'about 40' is not a whole number from 0 to 5000");
}

TEST(LoadServerConfig, ScheduleErrorsAreIncluded) {
  ConfigDir d(kProvince);
  write_file(d.dir / "schedule.yaml", "timezone: Asia/Ho_Chi_Minh\n");
  EXPECT_EQ(d.error(), d.server.string() + ": 1 error:\n  - province.schedule: " +
                           (d.dir / "schedule.yaml").string() + ": 1 error:\n  - days: required");
}

TEST(LoadServerConfig, TopLevelNotAMapping) {
  ConfigDir d("- just\n- a list\n");
  EXPECT_THAT(d.error(), HasSubstr("top level: must be a mapping"));
}

// YAML allows non-text keys ("? [a, b]"); they are an error in the list, never an exception.
TEST(LoadServerConfig, NonScalarKeyIsAnErrorNotAnException) {
  ConfigDir d(std::string(kProvince) + "listen:\n  ? [a, b]\n  : 1\n");
  std::string e;
  ASSERT_NO_THROW(e = d.error());
  EXPECT_THAT(e, HasSubstr("listen: a key that is not plain text"));
}

// ----------------------------------------------------------------------------------------
// Capture node config

TEST(LoadCaptureConfig, SampleFileInTheRepositoryLoads) {
  const fs::path path = kSourceDir / "config" / "capture.yaml";
  auto c = att::load_capture_config(path);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->site_id, "td-01");
  EXPECT_EQ(c->server_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c->source_uri, "videotestsrc://?pattern=ball");
  EXPECT_TRUE(c->realtime);
  EXPECT_DOUBLE_EQ(c->sample_interval_s, 5.0);
  EXPECT_EQ(c->width, 0);
  EXPECT_EQ(c->jpeg_quality, 85);
  EXPECT_FALSE(c->exit_on_eos);
  EXPECT_DOUBLE_EQ(c->upload_timeout_s, 15);
  EXPECT_DOUBLE_EQ(c->max_backoff_s, 30);
  EXPECT_EQ(c->log_level, "info");
  EXPECT_EQ(c->log_format, "text");
  EXPECT_EQ(c->state_dir, (kSourceDir / "data" / "capture-td-01").lexically_normal());
  EXPECT_EQ(c->secret_file,
            (kSourceDir / "data" / "capture-td-01" / "site.key").lexically_normal());
  EXPECT_TRUE(c->ca_file.empty());
  EXPECT_DOUBLE_EQ(c->min_interval_s, 0.2);
  EXPECT_DOUBLE_EQ(c->stall_timeout_s, 20);
  EXPECT_EQ(c->spool_max_bytes, 4096LL << 20);
  EXPECT_EQ(c->queue_frames, 8);
  EXPECT_DOUBLE_EQ(c->heartbeat_s, 30);
  EXPECT_DOUBLE_EQ(c->health.dark_brightness, 35);
  EXPECT_EQ(c->health.frozen_samples, 3);
  EXPECT_DOUBLE_EQ(c->health.moved_shift, 0.03);
  EXPECT_TRUE(c->reference.empty());  // state_dir/reference.jpg
}

constexpr char kGoodCapture[] =
    "site_id: mt-01\n"
    "server_url: https://attendance.example.vn\n"
    "secret_file: mt-01.key\n"
    "ca_file: /etc/attendance/ca.pem\n"
    "state_dir: state\n"
    "log_level: debug\n"
    "log_format: json\n"
    "source:\n"
    "  uri: file:///srv/clips/class.mp4\n"
    "  realtime: false\n"
    "  sample_interval_s: 0.5\n"
    "  width: 1280\n"
    "  jpeg_quality: 90\n"
    "  exit_on_eos: true\n"
    "spool: {max_mb: 64, queue_frames: 3}\n"
    "health: {heartbeat_s: 10, reference: view.jpg, dark_brightness: 20, frozen_samples: 5}\n"
    "upload:\n"
    "  timeout_s: 5\n"
    "  max_backoff_s: 60\n";

TEST(LoadCaptureConfig, GoodFileWithRelativeStateDir) {
  TempDir dir;
  write_file(dir / "node" / "capture.yaml", kGoodCapture);
  auto c = att::load_capture_config(dir / "node" / "capture.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->site_id, "mt-01");
  EXPECT_EQ(c->server_url, "https://attendance.example.vn");
  EXPECT_EQ(c->state_dir, dir.path() / "node" / "state");
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_EQ(c->log_format, "json");
  EXPECT_EQ(c->source_uri, "file:///srv/clips/class.mp4");
  EXPECT_FALSE(c->realtime);
  EXPECT_DOUBLE_EQ(c->sample_interval_s, 0.5);
  EXPECT_EQ(c->width, 1280);
  EXPECT_EQ(c->jpeg_quality, 90);
  EXPECT_TRUE(c->exit_on_eos);
  EXPECT_DOUBLE_EQ(c->upload_timeout_s, 5);
  EXPECT_DOUBLE_EQ(c->max_backoff_s, 60);
  EXPECT_EQ(c->secret_file, dir.path() / "node" / "mt-01.key");
  EXPECT_EQ(c->ca_file, fs::path("/etc/attendance/ca.pem"));
  EXPECT_EQ(c->spool_max_bytes, 64LL << 20);
  EXPECT_EQ(c->queue_frames, 3);
  EXPECT_DOUBLE_EQ(c->heartbeat_s, 10);
  EXPECT_EQ(c->reference, dir.path() / "node" / "view.jpg");
  EXPECT_DOUBLE_EQ(c->health.dark_brightness, 20);
  EXPECT_EQ(c->health.frozen_samples, 5);
}

TEST(LoadCaptureConfig, AbsoluteStateDirKept) {
  TempDir dir;
  write_file(dir / "c.yaml",
             "site_id: mt-01\nserver_url: http://x\nstate_dir: /var/lib/att\nsecret_file: k\n"
             "source: {uri: videotestsrc://}\n");
  auto c = att::load_capture_config(dir / "c.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->state_dir, fs::path("/var/lib/att"));
}

TEST(LoadCaptureConfig, MissingSiteIdAndBadSchemeTogether) {
  TempDir dir;
  const fs::path path = dir / "capture.yaml";
  write_file(path, "server_url: ftp://10.0.0.5\nsecret_file: k\nsource: {uri: videotestsrc://}\n");
  auto c = att::load_capture_config(path);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message,
            path.string() +
                ": 2 errors:\n"
                "  - site_id: required\n"
                "  - server_url: must start with http:// or https:// (got 'ftp://10.0.0.5')");
}

TEST(LoadCaptureConfig, SampleIntervalOutOfRange) {
  TempDir dir;
  const fs::path path = dir / "capture.yaml";
  write_file(path,
             "site_id: mt-01\nserver_url: http://x\nsecret_file: k\n"
             "source: {uri: videotestsrc://, sample_interval_s: 0.01}\n");
  auto c = att::load_capture_config(path);
  ASSERT_FALSE(c);
  EXPECT_EQ(
      c.error().message,
      path.string() +
          ": 1 error:\n  - source.sample_interval_s: must be between 0.05 and 3600 (got 0.01)");
}

TEST(LoadCaptureConfig, TheSiteKeyIsRequired) {
  TempDir dir;
  const fs::path path = dir / "capture.yaml";
  write_file(path, "site_id: mt-01\nserver_url: http://x\nsource: {uri: videotestsrc://}\n");
  auto c = att::load_capture_config(path);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message,
            path.string() +
                ": 1 error:\n  - secret_file: required (the site's key, from `attendance-server "
                "keys --show mt-01`)");
}

TEST(LoadCaptureConfig, UnknownKey) {
  TempDir dir;
  const fs::path path = dir / "capture.yaml";
  write_file(path,
             "site_id: mt-01\nserver_url: http://x\nsecret_file: k\n"
             "source: {uri: videotestsrc://, fps: 2}\n");
  auto c = att::load_capture_config(path);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, path.string() + ": 1 error:\n  - source.fps: unknown setting");
}

TEST(LoadCaptureConfig, SeveralFileErrorsTogether) {
  TempDir dir;
  const fs::path path = dir / "capture.yaml";
  write_file(path,
             "site_id: mt-01\nserver_url: http://x\nsecret_file: k\n"
             "source: {uri: videotestsrc://, sample_interval_s: 7200, jpeg_quality: 10, "
             "realtime: maybe}\n"
             "upload: {timeout: 5}\n");
  auto c = att::load_capture_config(path);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message,
            path.string() +
                ": 4 errors:\n"
                "  - source.realtime: must be true or false\n"
                "  - source.sample_interval_s: must be between 0.05 and 3600 (got 7200)\n"
                "  - source.jpeg_quality: must be between 30 and 100 (got 10)\n"
                "  - upload.timeout: unknown setting");
}

// Reading errors and checking errors (missing site_id, bad scheme) come in one message.
TEST(LoadCaptureConfig, EveryKindOfMistakeListedTogether) {
  TempDir dir;
  const fs::path path = dir / "capture.yaml";
  write_file(path,
             "server_url: rtsp://10.0.0.5\n"                           // bad scheme
             "source: {uri: videotestsrc://, sample_interval_s: 0}\n"  // out of range
             "uploads: {timeout_s: 5}\n");                             // unknown key
  // ... and site_id is missing.
  auto c = att::load_capture_config(path);
  ASSERT_FALSE(c);
  const std::string& e = c.error().message;
  EXPECT_THAT(e, HasSubstr("site_id: required"));
  EXPECT_THAT(e,
              HasSubstr("server_url: must start with http:// or https:// (got 'rtsp://10.0.0.5')"));
  EXPECT_THAT(e, HasSubstr("source.sample_interval_s: must be between 0.05 and 3600 (got 0)"));
  EXPECT_THAT(e, HasSubstr("uploads: unknown setting"));
}

TEST(LoadCaptureConfig, BadLogFormat) {
  TempDir dir;
  const fs::path path = dir / "capture.yaml";
  write_file(path,
             "site_id: mt-01\nserver_url: http://x\nsecret_file: k\nlog_format: syslog\n"
             "source: {uri: videotestsrc://}\n");
  auto c = att::load_capture_config(path);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message,
            path.string() + ": 1 error:\n  - log_format: 'syslog' is not one of text, json");
}

TEST(LoadCaptureConfig, MissingFileAndSyntaxError) {
  TempDir dir;
  auto missing = att::load_capture_config(dir / "none.yaml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, (dir / "none.yaml").string() + ": cannot open");
  write_file(dir / "bad.yaml", "site_id: [td-01\n");
  auto bad = att::load_capture_config(dir / "bad.yaml");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message,
              ::testing::StartsWith((dir / "bad.yaml").string() + ": YAML syntax error at line "));
}

att::CaptureConfig good_capture() {
  att::CaptureConfig c;
  c.site_id = "td-01";
  c.server_url = "http://10.0.0.5:8080";
  c.source_uri = "rtsp://cam/stream";
  c.secret_file = "/etc/attendance/site.key";
  return c;
}

TEST(ValidateCaptureConfig, GoodConfigPasses) {
  EXPECT_TRUE(att::validate_capture_config(good_capture()));
  auto https = good_capture();
  https.server_url = "https://x";
  EXPECT_TRUE(att::validate_capture_config(https));
  auto edges = good_capture();
  edges.sample_interval_s = 0.05;
  EXPECT_TRUE(att::validate_capture_config(edges));
  edges.sample_interval_s = 3600;
  EXPECT_TRUE(att::validate_capture_config(edges));
}

TEST(ValidateCaptureConfig, EveryProblemListedTogether) {
  att::CaptureConfig c;  // as command-line overrides might leave it
  c.server_url = "10.0.0.5:8080";
  c.sample_interval_s = 0;
  c.log_level = "loud";
  auto s = att::validate_capture_config(c);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            "capture settings: 6 errors:\n"
            "  - site_id: required\n"
            "  - server_url: must start with http:// or https:// (got '10.0.0.5:8080')\n"
            "  - source.uri: required\n"
            "  - secret_file: required (the site's key, from `attendance-server keys --show "
            "SITE`)\n"
            "  - source.sample_interval_s: must be between 0.05 and 3600\n"
            "  - log_level: 'loud' is not one of trace, debug, info, warn, error");
}

// --log-format overrides the file's value, and is checked with the rest.
TEST(ValidateCaptureConfig, LogFormatFromTheCommandLine) {
  auto c = good_capture();
  c.log_format = "json";
  EXPECT_TRUE(att::validate_capture_config(c));
  c.log_format = "yaml";
  auto s = att::validate_capture_config(c);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            "capture settings: 1 error:\n  - log_format: 'yaml' is not one of text, json");
}

TEST(ValidateCaptureConfig, IntervalAboveRange) {
  auto c = good_capture();
  c.sample_interval_s = 3600.5;
  auto s = att::validate_capture_config(c);
  ASSERT_FALSE(s);
  EXPECT_EQ(
      s.error().message,
      "capture settings: 1 error:\n  - source.sample_interval_s: must be between 0.05 and 3600");
}

// ----------------------------------------------------------------------------------------
// YamlMap, directly

TEST(YamlMap, GettersCheckTypesAndBoundsAndFinishReportsUnreadKeys) {
  const YAML::Node root = YAML::Load(
      "name: x\n"
      "n: 7\n"
      "big: 99\n"
      "ratio: 0.25\n"
      "flag: yes\n"
      "bad_flag: perhaps\n"
      "items: [a, b, c]\n"
      "not_items: 3\n"
      "sub: {k: 1, extra: 2}\n"
      "stray: 1\n");
  att::ConfigErrors errors;
  att::YamlMap top(root, "", errors);
  EXPECT_EQ(top.string("name", "d"), "x");
  EXPECT_EQ(top.string("absent", "d"), "d");
  EXPECT_EQ(top.integer("n", 0, 0, 10), 7);
  EXPECT_EQ(top.integer("big", 5, 0, 10), 5);  // out of range: the fallback
  EXPECT_DOUBLE_EQ(top.number("ratio", 0, 0, 1), 0.25);
  EXPECT_TRUE(top.boolean("flag", false));
  EXPECT_TRUE(top.boolean("bad_flag", true));  // fallback
  EXPECT_EQ(top.sequence("items").size(), 3u);
  EXPECT_TRUE(top.sequence("not_items").empty());
  EXPECT_EQ(top.string("required_one", "", att::YamlMap::kRequired), "");
  att::YamlMap sub = top.map("sub");
  EXPECT_EQ(sub.integer("k", 0, 0, 5), 1);
  EXPECT_EQ(sub.where("k"), "sub.k");
  sub.finish();
  top.finish();
  EXPECT_THAT(errors.items(), ElementsAre("big: must be between 0 and 10 (got 99)",
                                          "bad_flag: must be true or false",
                                          "not_items: must be a list", "required_one: required",
                                          "sub.extra: unknown setting", "stray: unknown setting"));
}

TEST(YamlMap, NullValueCountsAsAbsent) {
  const YAML::Node root = YAML::Load("a: ~\nb:\n");
  att::ConfigErrors errors;
  att::YamlMap top(root, "", errors);
  EXPECT_FALSE(top.has("a"));
  EXPECT_EQ(top.integer("a", 3, 0, 10), 3);
  EXPECT_EQ(top.string("b", "x", att::YamlMap::kRequired), "x");
  top.finish();
  EXPECT_THAT(errors.items(), ElementsAre("b: required"));
}

TEST(ConfigErrors, Summary) {
  att::ConfigErrors one;
  one.add("a: bad");
  EXPECT_EQ(one.summary("f.yaml"), "f.yaml: 1 error:\n  - a: bad");
  att::ConfigErrors two;
  two.add("a: bad");
  two.add("b: worse");
  EXPECT_EQ(two.summary("f.yaml"), "f.yaml: 2 errors:\n  - a: bad\n  - b: worse");
  EXPECT_TRUE(att::ConfigErrors().empty());
}

TEST(LoadYamlFile, EmptyFileIsANullDocument) {
  TempDir dir;
  write_file(dir / "empty.yaml", "");
  auto n = att::load_yaml_file(dir / "empty.yaml");
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_TRUE(n->IsNull());
}

}  // namespace
