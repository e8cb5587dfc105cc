#include "analysis/domain/site_keys.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "common/csv.h"
#include "common/files.h"
#include "protocol/signing.h"

namespace att {

Result<SiteKeys> parse_site_keys(std::string_view text, const std::vector<Site>& sites) {
  auto records = parse_csv(text);
  if (!records) return std::unexpected(records.error());
  if (records->empty() ||
      records->front().fields != std::vector<std::string>{"site_id", "secret"}) {
    return fail("line 1: the header must be 'site_id,secret'");
  }
  SiteKeys keys;
  std::set<std::string> seen;
  std::vector<std::string> errors;
  for (size_t i = 1; i < records->size(); ++i) {
    const CsvRecord& r = (*records)[i];
    const std::string where = "line " + std::to_string(r.line) + ": ";
    if (r.fields.size() != 2) {
      errors.push_back(where + "expected 2 fields (site_id,secret), got " +
                       std::to_string(r.fields.size()));
      continue;
    }
    const std::string& id = r.fields[0];
    std::string secret = r.fields[1];
    const bool again = !seen.insert(id).second;  // malformed rows count: one row per site
    if (std::ranges::none_of(sites, [&](const Site& s) { return s.id == id; })) {
      errors.push_back(where + "no site '" + id + "' in the province");
    } else if (again) {
      errors.push_back(where + "a second key for site '" + id + "'");
    } else if (auto ok = check_site_secret(secret); !ok) {
      errors.push_back(where + "site '" + id + "': " + ok.error().message);
    } else {
      std::ranges::transform(secret, secret.begin(),
                             [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      keys[id] = secret;
    }
  }
  if (!errors.empty()) {
    std::string message;
    for (const auto& e : errors) message += (message.empty() ? "" : "\n") + e;
    return fail(message);
  }
  return keys;
}

Result<SiteKeys> load_site_keys(const std::filesystem::path& path, const std::vector<Site>& sites) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return fail(path.string() + ": " + std::strerror(errno) +
                " (create it with: attendance-server keys)");
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    return fail(path.string() + " may be read by other users; make it private: chmod 600 " +
                path.string());
  }
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  auto keys = parse_site_keys(*text, sites);
  if (!keys) return fail(path.string() + ": " + keys.error().message);
  return keys;
}

Status save_site_keys(const std::filesystem::path& path, const SiteKeys& keys) {
  std::string text = "site_id,secret\n";
  for (const auto& [id, secret] : keys) text += id + "," + secret + "\n";
  return write_file_atomically(path, text, /*sync=*/true, 0600);
}

Result<std::vector<std::string>> add_missing_keys(SiteKeys& keys, const std::vector<Site>& sites) {
  std::vector<std::string> added;
  for (const Site& s : sites) {
    if (keys.contains(s.id)) continue;
    auto secret = new_site_secret();
    if (!secret) return std::unexpected(secret.error());
    keys[s.id] = *secret;
    added.push_back(s.id);
  }
  return added;
}

}  // namespace att
