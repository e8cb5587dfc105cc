#include "analysis/store/pg_db.h"

#include <cstdlib>
#include <cstring>

namespace att::pg {
namespace {

// The primary message of a failed result, else the connection's.
std::string message_of(PGconn* db, const PGresult* result) {
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string m = primary ? primary : PQerrorMessage(db);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  // libpq's own messages span lines ("server closed the connection unexpectedly\n\tThis..."):
  // one line in a log.
  for (char& c : m) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return m.empty() ? "no answer from the server" : m;
}

ErrorCode code_of_result(const PGresult* result) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return state ? code_of(state) : ErrorCode::kUnavailable;  // no SQLSTATE: the link failed
}

}  // namespace

std::string Rows::text(int row, int col) const {
  return std::string(PQgetvalue(result_.get(), row, col),
                     static_cast<size_t>(PQgetlength(result_.get(), row, col)));
}

std::int64_t Rows::integer(int row, int col) const {
  return std::strtoll(PQgetvalue(result_.get(), row, col), nullptr, 10);
}

std::int64_t Rows::affected() const {
  return std::strtoll(PQcmdTuples(result_.get()), nullptr, 10);
}

Result<Conn> connect(const std::string& conninfo) {
  Conn db(PQconnectdb(conninfo.c_str()));
  if (!db) return fail(ErrorCode::kUnavailable, "PostgreSQL: out of memory");
  if (PQstatus(db.get()) != CONNECTION_OK) {
    // The server as libpq understood the string (host and port, never the password).
    const char* host = PQhost(db.get());
    const char* port = PQport(db.get());
    const char* name = PQdb(db.get());
    return fail(ErrorCode::kUnavailable, std::string("cannot connect to PostgreSQL at ") +
                                             (host ? host : "?") + ":" + (port ? port : "?") +
                                             " (database " + (name ? name : "?") +
                                             "): " + message_of(db.get(), nullptr));
  }
  if (auto s = exec(db.get(),
                    "SET client_encoding = 'UTF8'; SET synchronous_commit = on; "
                    "SET client_min_messages = warning",
                    "configure the connection");
      !s) {
    return std::unexpected(s.error());
  }
  return db;
}

ErrorCode code_of(const char* sqlstate) {
  const std::string s = sqlstate;
  if (s.starts_with("23")) return ErrorCode::kConflict;
  if (s.starts_with("08") || s.starts_with("57P") || s.starts_with("53") || s == "40001" ||
      s == "40P01") {
    return ErrorCode::kUnavailable;
  }
  return ErrorCode::kIo;
}

Status exec(PGconn* db, const std::string& sql, const std::string& what) {
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(db, sql.c_str()), &PQclear);
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return {};
  return fail(code_of_result(result.get()), what + ": " + message_of(db, result.get()));
}

Result<Rows> query_params(PGconn* db, const char* sql, const std::string& what, int count,
                          const char* const* values) {
  PGresult* result = PQexecParams(db, sql, count, nullptr, values, nullptr, nullptr, 0);
  const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Rows(result);
  Rows failed(result);  // cleared on return
  return fail(code_of_result(result), what + ": " + message_of(db, result));
}

bool broken(PGconn* db) {
  return PQstatus(db) == CONNECTION_BAD;
}

Result<std::string> with_dbname(const std::string& conninfo, const std::string& dbname) {
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (!options) {
    std::string why = parse_error ? parse_error : "out of memory";
    PQfreemem(parse_error);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return fail(ErrorCode::kInvalid, "not a PostgreSQL connection string: " + why);
  }
  std::string out;
  for (const PQconninfoOption* o = options; o->keyword; ++o) {
    const bool is_dbname = std::strcmp(o->keyword, "dbname") == 0;
    if (!is_dbname && !o->val) continue;
    std::string quoted;  // in single quotes, ' and \ escaped, as libpq reads a value
    for (const char c : std::string(is_dbname ? dbname : o->val)) {
      if (c == '\'' || c == '\\') quoted += '\\';
      quoted += c;
    }
    if (!out.empty()) out += ' ';
    out += std::string(o->keyword) + "='" + quoted + "'";
  }
  PQconninfoFree(options);
  return out;
}

}  // namespace att::pg
