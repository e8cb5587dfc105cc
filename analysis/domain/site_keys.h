// The service's copy of each site's secret (protocol/signing.h), in a CSV that only the
// service may read:
//
//   site_id,secret
//   td-01,6f1c...   (64 hex digits)
//
// Kept apart from sites.csv, which organizers edit in spreadsheets and pass around.
// `attendance-server keys` creates the file and adds a key for every site that lacks one.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "analysis/domain/province.h"
#include "common/error.h"

namespace att {

using SiteKeys = std::map<std::string, std::string>;  // site id -> secret (lowercase hex)

// Parses the keys text: the header, then one row per site; every bad row is listed with its
// line (unknown site, duplicate, malformed secret). Nothing is returned unless all is valid.
Result<SiteKeys> parse_site_keys(std::string_view text, const std::vector<Site>& sites);

// Reads the file. A file that other users may read is refused (chmod 600).
Result<SiteKeys> load_site_keys(const std::filesystem::path& path, const std::vector<Site>& sites);

// Writes the file atomically with mode 0600, rows in site id order.
Status save_site_keys(const std::filesystem::path& path, const SiteKeys& keys);

// Adds a fresh key for every site in `sites` that has none; returns the ids it added.
Result<std::vector<std::string>> add_missing_keys(SiteKeys& keys, const std::vector<Site>& sites);

}  // namespace att
