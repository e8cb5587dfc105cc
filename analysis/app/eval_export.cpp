#include "analysis/app/eval_export.h"

#include <unistd.h>

#include <algorithm>

#include "analysis/app/service.h"
#include "analysis/domain/records.h"
#include "common/files.h"
#include "common/sha256.h"

namespace att {

namespace fs = std::filesystem;

namespace {

constexpr char kIndex[] = "index.csv";
constexpr char kBom[] = "\xEF\xBB\xBF";

// Whether `dir` holds a set this command wrote: its index.csv with our header, and nothing but
// index.csv, *.jpg and *.txt files.
bool is_previous_export(const fs::path& dir) {
  std::error_code ec;
  bool has_index = false;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& p = entry.path();
    if (!entry.is_regular_file(ec) || entry.is_symlink(ec)) return false;
    if (p.filename() == kIndex) {
      has_index = true;
    } else if (p.extension() != ".jpg" && p.extension() != ".txt") {
      return false;
    }
  }
  if (ec || !has_index) return false;
  auto text = read_file(dir / kIndex);
  if (!text) return false;
  const std::string header = std::string(kBom) + kEvalSetIndexHeader + "\r\n";
  return text->starts_with(header);
}

// Whether `out` exists (an empty folder or a previous set, to be replaced) or not; fails for
// what is refused.
Result<bool> check_out(const fs::path& out) {
  std::error_code ec;
  const fs::path parent = out.parent_path();
  if (!fs::is_directory(parent, ec)) {
    return fail(ErrorCode::kNotFound,
                "--out " + out.string() + ": the folder " + parent.string() + " does not exist");
  }
  const auto status = fs::symlink_status(out, ec);
  if (status.type() == fs::file_type::not_found) return false;
  if (status.type() != fs::file_type::directory) {
    return fail(ErrorCode::kConflict, "--out " + out.string() + " exists and is not a folder");
  }
  if (fs::is_empty(out, ec) || is_previous_export(out)) return true;
  return fail(ErrorCode::kConflict,
              "--out " + out.string() +
                  " is a folder that holds other files than an evaluation set written by "
                  "export-eval; give a new or empty folder");
}

// A sibling of `out` for the set being written, or the set being replaced.
fs::path beside(const fs::path& out, const std::string& what) {
  return out.parent_path() /
         ("." + out.filename().string() + "." + what + "-" + std::to_string(getpid()));
}

// Writes the pictures, truth files and index of `set` into the empty folder `dir`; the items
// whose picture cannot be had are moved to set.left_out.
Status write_set(const ServerConfig& config, EvalSet& set, const fs::path& dir) {
  EvalSet written;
  written.left_out = std::move(set.left_out);
  for (EvalSetItem& item : set.items) {
    const fs::path evidence = config.data_dir / item.evidence_path;
    if (fs::path(item.evidence_path).is_absolute() ||
        item.evidence_path.find("..") != std::string::npos) {
      written.left_out.push_back(item.subject + ": evidence path '" + item.evidence_path +
                                 "' is outside the data directory");
      continue;
    }
    auto bytes = read_file(evidence);
    if (!bytes) {
      written.left_out.push_back(item.subject + ": the evidence picture " + evidence.string() +
                                 " cannot be read (deleted by retention?)");
      continue;
    }
    if (!item.evidence_sha256.empty() && sha256_hex(*bytes) != item.evidence_sha256) {
      written.left_out.push_back(item.subject + ": the evidence picture " + evidence.string() +
                                 " does not have the SHA-256 its ledger entry names");
      continue;
    }
    if (auto w = write_file_atomically(dir / (item.name + ".jpg"), *bytes, /*sync=*/false); !w) {
      return w;
    }
    if (auto w = write_file_atomically(dir / (item.name + ".txt"), format_truth(item.truth),
                                       /*sync=*/false);
        !w) {
      return w;
    }
    written.items.push_back(std::move(item));
  }
  if (auto w = write_file_atomically(dir / kIndex, eval_set_index_csv(written), /*sync=*/true);
      !w) {
    return w;
  }
  set = std::move(written);
  return {};
}

}  // namespace

Result<EvalExportResult> export_eval_set(const ServerConfig& config, const fs::path& out,
                                         const EvalSetFilter& filter) {
  if (auto ok = check_filter(filter); !ok) return std::unexpected(ok.error());
  if (!filter.site_id.empty() &&
      std::none_of(config.sites.begin(), config.sites.end(),
                   [&](const Site& s) { return s.id == filter.site_id; })) {
    return fail("--site: no site '" + filter.site_id.substr(0, 64) + "' in the province");
  }
  if (out.empty()) return fail("--out needs a folder");
  fs::path target = fs::absolute(out).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();
  auto replace = check_out(target);
  if (!replace) return std::unexpected(replace.error());

  const fs::path db = database_path(config);
  std::error_code ec;
  if (config.storage.backend == "sqlite" && !fs::exists(db, ec)) {
    return fail(ErrorCode::kNotFound, "no database at " + db.string() + " (check data_dir)");
  }
  auto store = open_store(config, /*read_only=*/true);
  if (!store) return std::unexpected(store.error());
  auto records = read_records(**store, filter.site_id);
  if (!records) return std::unexpected(records.error());
  EvalSet set = eval_set(*records, filter);

  const fs::path partial = beside(target, "partial");
  fs::remove_all(partial, ec);  // a left-over of a process of the same id that died
  if (!fs::create_directory(partial, ec)) {
    return fail(ErrorCode::kIo, "cannot create " + partial.string() + ": " + ec.message());
  }
  if (auto w = write_set(config, set, partial); !w) {
    fs::remove_all(partial, ec);
    return std::unexpected(w.error());
  }
  // In place: an empty folder is removed, a previous set moved aside until the new one is in.
  const fs::path old = beside(target, "old");
  if (*replace) {
    fs::remove_all(old, ec);
    fs::rename(target, old, ec);
    if (ec) {
      const std::string why = ec.message();
      fs::remove_all(partial, ec);
      return fail(ErrorCode::kIo, "cannot replace " + target.string() + ": " + why);
    }
  }
  fs::rename(partial, target, ec);
  if (ec) {
    const std::string why = ec.message();
    if (*replace) fs::rename(old, target, ec);  // the previous set back as it was
    fs::remove_all(partial, ec);
    return fail(ErrorCode::kIo, "cannot move the set to " + target.string() + ": " + why);
  }
  if (*replace) fs::remove_all(old, ec);

  EvalExportResult result;
  result.written = static_cast<int>(set.items.size());
  result.left_out = std::move(set.left_out);
  result.out = target;
  return result;
}

}  // namespace att
