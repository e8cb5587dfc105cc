#include "analysis/store/ledger_file.h"

#include "analysis/store/sqlite_store.h"

namespace att {

Result<LedgerReport> verify_database(const std::filesystem::path& db_path) {
  SqliteStoreOptions options;
  options.read_only = true;
  options.readers = 1;
  auto store = SqliteStore::open(db_path, options);
  if (!store) return std::unexpected(store.error());
  return verify_stored_ledger(**store);
}

}  // namespace att
