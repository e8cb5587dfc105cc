#include "analysis/store/ledger_file.h"

#include "analysis/store/sqlite_store.h"

namespace att {

Result<LedgerReport> verify_database(const std::filesystem::path& db_path) {
  // The head first: the store writes it only after an append committed, so a head read before
  // the rows never names an entry the rows could lack without a deletion.
  auto head = read_ledger_head(ledger_head_path(db_path));

  SqliteStoreOptions options;
  options.read_only = true;
  options.readers = 1;
  auto store = SqliteStore::open(db_path, options);
  if (!store) return std::unexpected(store.error());
  return verify_stored_ledger(**store, head, "ledger.head beside " + db_path.filename().string());
}

}  // namespace att
