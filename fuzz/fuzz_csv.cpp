// Feeds the input, as an uploaded or edited sites.csv, to first_invalid_utf8_line, parse_csv
// and parse_sites_csv (common/csv.h, analysis/domain/province.h). Checks, beyond "does not crash":
//   - first_invalid_utf8_line names a line that exists (0 when all is valid UTF-8), and
//     parse_csv refuses exactly the texts it flags (after an optional BOM);
//   - parse_csv's records are non-empty, in order of their first line;
//   - a successful parse_sites_csv gives sites with valid, unique ids, a name, a district and
//     expected_attendees in 0..5000, and those sites go through sites_to_csv and back through
//     parse_sites_csv unchanged (a text beginning with = + - @ or CR comes back with the ' that
//     neutralises it for spreadsheets, as province.h says).
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "analysis/domain/province.h"
#include "common/csv.h"
#include "fuzz/fuzz_support.h"

namespace {

void check(bool ok, const char* what) {
  att::fuzz::check(ok, "fuzz_csv", what);
}

// What a text looks like after a trip through csv_cell.
std::string neutralised(const std::string& text) {
  if (!text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos) {
    return "'" + text;
  }
  return text;
}

bool same_site(const att::Site& a, const att::Site& b) {
  return a.id == b.id && a.name == b.name && a.district == b.district && a.level == b.level &&
         a.address == b.address && a.expected_attendees == b.expected_attendees &&
         a.camera == b.camera;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  std::string_view body = text;
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
  const int bad_line = att::first_invalid_utf8_line(body);
  const auto lines = 1 + std::count(body.begin(), body.end(), '\n');
  check(bad_line >= 0 && bad_line <= lines, "first_invalid_utf8_line names no line of the text");

  const auto records = att::parse_csv(text);
  check(bool(records) || !records.error().message.empty(), "parse_csv failed without a reason");
  check(bad_line == 0 || !records, "parse_csv accepted text that is not UTF-8");
  if (records) {
    int previous = 0;
    for (const auto& r : *records) {
      check(!r.fields.empty(), "a record without fields");
      check(r.line > previous && r.line <= lines, "record lines out of order or out of range");
      previous = r.line;
    }
  }

  const auto sites = att::parse_sites_csv(text);
  if (!sites) {
    check(!sites.error().message.empty(), "parse_sites_csv failed without a reason");
    return 0;
  }
  check(records && !sites->empty(), "sites from text parse_csv refused, or none");
  std::set<std::string> ids;
  for (const auto& s : *sites) {
    check(att::valid_site_id(s.id), "a site with an invalid id");
    check(ids.insert(s.id).second, "two sites with one id");
    check(!s.name.empty() && !s.district.empty(), "a site without a name or district");
    check(s.expected_attendees >= 0 && s.expected_attendees <= 5000,
          "expected_attendees out of bounds");
  }

  const auto again = att::parse_sites_csv(att::sites_to_csv(*sites));
  check(bool(again), "sites_to_csv wrote what parse_sites_csv refuses");
  check(again->size() == sites->size(), "the round trip changed the number of sites");
  for (size_t i = 0; i < sites->size(); ++i) {
    att::Site expected = (*sites)[i];
    expected.name = neutralised(expected.name);
    expected.district = neutralised(expected.district);
    expected.address = neutralised(expected.address);
    expected.camera = neutralised(expected.camera);
    check(same_site((*again)[i], expected), "the round trip changed a site");
  }
  return 0;
}
