// Evidence pictures as the printable reports show them: a thumbnail re-encoded small enough
// to inline as a data: URI, and, when there is none or it no longer matches the ledger, why.
// Reads files under the data directory only; thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/box.h"
#include "common/error.h"

namespace att {

// The evidence picture scaled down to `max_width` (never up), its counted `boxes` (in the
// picture's pixels) drawn on the thumbnail, and re-encoded as JPEG at `quality`. The picture
// itself is never changed. Fails on bytes that are not a JPEG or one over 40 megapixels.
Result<std::string> thumbnail_jpeg(std::string_view jpeg, int max_width, int quality,
                                   const std::vector<Box>& boxes = {});

// An evidence picture for a report: its thumbnail, or why there is none.
struct EvidenceThumbnail {
  std::string data_uri;   // "data:image/jpeg;base64,..."; "" when none
  std::string problem;    // Vietnamese; "" when the picture is there and matches
  bool mismatch = false;  // the file's bytes no longer match the recorded SHA-256
};

// The picture at `relative` (a path under `data_dir`, as the ledger records it) checked
// against its recorded `sha256` and scaled as thumbnail_jpeg() does. A picture that does not
// match is still shown, flagged; an empty path, an absolute one or one through "..", a
// missing file and one that does not decode give no thumbnail and say so.
EvidenceThumbnail evidence_thumbnail(const std::filesystem::path& data_dir,
                                     const std::string& relative, const std::string& sha256,
                                     int max_width, int quality,
                                     const std::vector<Box>& boxes = {});

}  // namespace att
