// Small owning wrappers and helpers for SQLite, shared by the service's store and the capture
// node's spool. Only implementation files include this; sqlite3's own header stays in
// common/sqlite_db.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace att::sql {

struct DbCloser {
  void operator()(sqlite3* db) const;
};
using Db = std::unique_ptr<sqlite3, DbCloser>;  // closed even when open failed

struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const;
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Opens with `flags` (SQLITE_OPEN_*), no mutex (each connection has one owner), a 5 s busy
// timeout and extended result codes. With SQLITE_OPEN_CREATE the file is made mode 0600, and
// an existing one readable by others is made so.
Result<Db> open(const std::filesystem::path& path, int flags);
int read_write_create();  // SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
int read_only();          // SQLITE_OPEN_READONLY

// What an SQLite result code (primary or extended) means to a caller: busy, locked or full
// is kUnavailable, corrupt or not a database kCorrupt, a constraint kConflict, cannot open
// kNotFound, anything else kIo.
ErrorCode code_of(int rc);

std::string error(sqlite3* db, const std::string& what);  // "what: <sqlite message>"
Status exec(sqlite3* db, const char* sql);
Result<Stmt> prepare(sqlite3* db, const char* sql);

void bind(sqlite3_stmt* s, int i, const std::string& v);  // text
void bind(sqlite3_stmt* s, int i, std::int64_t v);
void bind(sqlite3_stmt* s, int i, int v);
void bind_blob(sqlite3_stmt* s, int i, std::string_view bytes);

std::string column_text(sqlite3_stmt* s, int i);  // text or blob bytes, "" for NULL

// One step: true for a row, false when done, an error otherwise.
Result<bool> step(sqlite3* db, sqlite3_stmt* s, const std::string& what);
std::int64_t column_int64(sqlite3_stmt* s, int i);

// Prepares `sql`, binds `args` to ?1, ?2, ... and runs it to the end (a statement with no
// rows to read: INSERT, UPDATE, DELETE).
template <typename... Args>
Status run(sqlite3* db, const char* sql, const std::string& what, const Args&... args) {
  auto stmt = prepare(db, sql);
  if (!stmt) return std::unexpected(stmt.error());
  int i = 0;
  (bind(stmt->get(), ++i, args), ...);
  while (true) {
    auto row = step(db, stmt->get(), what);
    if (!row) return std::unexpected(row.error());
    if (!*row) return {};
  }
}
std::int64_t changes(sqlite3* db);

}  // namespace att::sql
