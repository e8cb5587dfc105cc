#include "common/sqlite_db.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace att::sql {

void DbCloser::operator()(sqlite3* db) const {
  sqlite3_close_v2(db);
}
void StmtFinalizer::operator()(sqlite3_stmt* s) const {
  sqlite3_finalize(s);
}

int read_write_create() {
  return SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
}
int read_only() {
  return SQLITE_OPEN_READONLY;
}

// What an SQLite result code means to a caller.
ErrorCode code_of(int rc) {
  switch (rc & 0xff) {  // the primary code of an extended one
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
      return ErrorCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return ErrorCode::kCorrupt;
    case SQLITE_CONSTRAINT:
      return ErrorCode::kConflict;
    case SQLITE_CANTOPEN:
      return ErrorCode::kNotFound;
    default:
      return ErrorCode::kIo;
  }
}

Result<Db> open(const std::filesystem::path& path, int flags) {
  // A database may hold secrets (password and session hashes): only its owner reads it.
  // SQLite gives its -wal and -shm files the database file's mode.
  if (flags & SQLITE_OPEN_CREATE) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
    } else if (struct stat st{}; ::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      ::chmod(path.c_str(), st.st_mode & 0700);  // one made before this rule, or by hand
    }
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    return fail(code_of(rc), "cannot open database " + path.string() + ": " +
                                 (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db.get(), 5000);
  sqlite3_extended_result_codes(db.get(), 1);
  return db;
}

std::string error(sqlite3* db, const std::string& what) {
  return what + ": " + sqlite3_errmsg(db);
}

Status exec(sqlite3* db, const char* sql) {
  char* msg = nullptr;
  if (const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &msg); rc != SQLITE_OK) {
    std::string text = msg ? msg : sqlite3_errmsg(db);
    sqlite3_free(msg);
    return fail(code_of(rc), text);
  }
  return {};
}

Result<Stmt> prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (const int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr); rc != SQLITE_OK) {
    return fail(code_of(rc), error(db, std::string("prepare '") + sql + "'"));
  }
  return Stmt(raw);
}

void bind(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void bind(sqlite3_stmt* s, int i, std::int64_t v) {
  sqlite3_bind_int64(s, i, v);
}
void bind(sqlite3_stmt* s, int i, int v) {
  sqlite3_bind_int(s, i, v);
}
void bind_blob(sqlite3_stmt* s, int i, std::string_view bytes) {
  sqlite3_bind_blob64(s, i, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
}

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(s, i));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

Result<bool> step(sqlite3* db, sqlite3_stmt* s, const std::string& what) {
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return fail(code_of(rc), error(db, what));
}

std::int64_t column_int64(sqlite3_stmt* s, int i) {
  return sqlite3_column_int64(s, i);
}
std::int64_t changes(sqlite3* db) {
  return sqlite3_changes64(db);
}

}  // namespace att::sql
