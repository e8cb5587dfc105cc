// Small owning wrappers and helpers for libpq, PostgreSQL's C client, used by the PostgreSQL
// store. Values travel as text parameters ($1, $2, ...), never joined into the SQL.
#pragma once

#include <libpq-fe.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "common/error.h"

namespace att::pg {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;

// A statement's answer: its rows as text.
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result) {}
  int size() const { return PQntuples(result_.get()); }
  bool empty() const { return size() == 0; }
  bool null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  std::string text(int row, int col) const;  // "" for NULL
  std::int64_t integer(int row, int col) const;
  std::int64_t affected() const;  // rows an INSERT, UPDATE or DELETE changed
  std::string command() const { return PQcmdStatus(result_.get()); }  // "COMMIT", "INSERT 0 1"

 private:
  struct Clearer {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clearer> result_;
};

// Connects (a libpq keyword=value string or a postgresql:// URL) with UTF-8 text and every
// commit flushed to disk before it returns (synchronous_commit = on), whatever the server's
// default. The error names the server as the string does, without a password.
Result<Conn> connect(const std::string& conninfo);

// What a failed statement means to a caller, from its SQLSTATE: a constraint kConflict; a lost
// connection, a server shutting down, a full disk, a deadlock or a serialization failure
// kUnavailable (the same call may succeed later); anything else kIo.
ErrorCode code_of(const char* sqlstate);

// Runs `sql` (one or more statements, no parameters). Errors read "what: <message>".
Status exec(PGconn* db, const std::string& sql, const std::string& what);

// One statement with `count` text parameters (nullptr = NULL).
Result<Rows> query_params(PGconn* db, const char* sql, const std::string& what, int count,
                          const char* const* values);

inline std::string param(const std::string& v) {
  return v;
}
inline std::string param(const char* v) {
  return v;
}
inline std::string param(std::int64_t v) {
  return std::to_string(v);
}
inline std::string param(int v) {
  return std::to_string(v);
}
inline std::string param(bool v) {
  return v ? "1" : "0";
}

// Runs `sql` with `args` bound to $1, $2, ... and returns its rows.
template <typename... Args>
Result<Rows> query(PGconn* db, const char* sql, const std::string& what, const Args&... args) {
  const std::array<std::string, sizeof...(Args)> texts{param(args)...};
  std::array<const char*, sizeof...(Args) + 1> values{};
  for (size_t i = 0; i < texts.size(); ++i) values[i] = texts[i].c_str();
  return query_params(db, sql, what, static_cast<int>(texts.size()), values.data());
}

// Whether the connection is lost (the server went away or restarted).
bool broken(PGconn* db);

// `conninfo` (keyword=value or a URL) as keyword=value with its dbname replaced by `dbname`:
// the same server and user, another database (CREATE DATABASE is run from one and the new one
// then opened). kInvalid when libpq cannot read `conninfo`; the message does not repeat it
// (it may hold a password).
Result<std::string> with_dbname(const std::string& conninfo, const std::string& dbname);

}  // namespace att::pg
