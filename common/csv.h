// RFC 4180 CSV as organizers save it from a spreadsheet: UTF-8 (a leading BOM is accepted),
// LF or CRLF line ends, quoted fields with commas, quotes ("") and line breaks inside.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace att {

struct CsvRecord {
  int line = 0;  // 1-based line where the record starts, for error messages
  std::vector<std::string> fields;
};

// Parses the whole text. Fails on text that is not valid UTF-8 (naming the line, so a file
// saved as Windows-1258 or TCVN3 is caught, not imported as mojibake), on an unterminated
// quoted field and on a quote inside an unquoted field. Blank lines are skipped.
Result<std::vector<CsvRecord>> parse_csv(std::string_view text);

// Returns the 1-based line of the first byte that is not valid UTF-8, or 0 if all is valid.
int first_invalid_utf8_line(std::string_view text);

// Writing, for spreadsheets.

// One cell: neutralised (a leading = + - @ \t \r gets a ' before it), then quoted with inner
// quotes doubled when it holds a comma, a quote, CR or LF. Other bytes, UTF-8 included, are
// kept as they are.
std::string csv_cell(std::string_view text);

// The whole file: UTF-8 BOM, then each row's cells (csv_cell) joined by commas, each row
// ended by CRLF.
std::string csv_document(const std::vector<std::vector<std::string>>& rows);

}  // namespace att
