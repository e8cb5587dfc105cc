#include "tests/support/postgres.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>

#include "analysis/store/pg_db.h"
#include "tests/support/test_support.h"

namespace att::testing {
namespace {

struct ResultClear {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultClear>;
struct ConnFinish {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using PgConn = std::unique_ptr<PGconn, ConnFinish>;

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string first_line(const std::string& text) {
  return trimmed(text.substr(0, text.find('\n')));
}

// Notices (a DROP ... IF EXISTS that skipped, CREATE DATABASE's) would go to stderr.
void ignore_notice(void*, const char*) {}

// A connection, closed on every path (PQfinish even when the connection failed).
Result<PgConn> connect(const std::string& conninfo) {
  PgConn conn(PQconnectdb(conninfo.c_str()));
  if (!conn) return fail(ErrorCode::kUnavailable, "libpq could not allocate a connection");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return fail(ErrorCode::kUnavailable, "connecting to PostgreSQL (" + conninfo +
                                             "): " + trimmed(PQerrorMessage(conn.get())));
  }
  PQsetNoticeProcessor(conn.get(), ignore_notice, nullptr);
  return conn;
}

// The code of a failed statement, from its SQLSTATE's class.
ErrorCode code_of(const char* sqlstate) {
  const std::string state = sqlstate ? sqlstate : "";
  const std::string kind = state.substr(0, 2);
  if (kind == "23") return ErrorCode::kConflict;                 // integrity constraint violation
  if (kind == "22" || kind == "42") return ErrorCode::kInvalid;  // data exception, syntax/access
  if (kind == "08" || kind == "53" || kind == "57" || state.empty()) {
    return ErrorCode::kUnavailable;  // connection, resources, operator intervention; no answer
  }
  return ErrorCode::kIo;
}

// Runs `sql` (one or more statements); the last statement's result, or the error with
// PostgreSQL's primary message (libpq's own when the server sent none: a lost connection).
Result<PgResult> run(PGconn* conn, const std::string& sql) {
  PgResult result(PQexec(conn, sql.c_str()));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
    return result;
  }
  const char* primary =
      result ? PQresultErrorField(result.get(), PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const char* sqlstate = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
  return fail(code_of(sqlstate), primary ? std::string(primary) : trimmed(PQerrorMessage(conn)));
}

// The first column of the first row of `sql`'s last result; nullopt when there is no row or
// the value is NULL.
Result<std::optional<std::string>> first_value(PGconn* conn, const std::string& sql) {
  auto result = run(conn, sql);
  if (!result) return std::unexpected(result.error());
  PGresult* r = result->get();
  if (PQntuples(r) == 0 || PQnfields(r) == 0 || PQgetisnull(r, 0, 0)) return std::nullopt;
  return std::string(PQgetvalue(r, 0, 0), PQgetlength(r, 0, 0));
}

std::filesystem::path pg_server_script() {
  return std::filesystem::path(ATTENDANCE_SOURCE_DIR) / "scripts" / "pg_server.sh";
}

// The server this process starts when the test command did not start one: started by the
// first caller (a function-local static: one start, thread-safe), stopped when the process
// exits, by the process that started it only (not by a forked child that exits).
class PrivateServer {
 public:
  PrivateServer() : owner_(::getpid()) {
    char dir[] = "/tmp/att-pg-XXXXXX";
    if (!::mkdtemp(dir)) {
      conninfo_ = fail(ErrorCode::kIo, std::string("creating a directory for the test's "
                                                   "PostgreSQL server (mkdtemp /tmp/att-pg-"
                                                   "XXXXXX): ") +
                                           std::strerror(errno));
      return;
    }
    dir_ = dir;
    TempDir out;
    const CommandRun start = run_command({pg_server_script().string(), "start", dir_}, out.path());
    if (start.exit_code != 0) {
      conninfo_ = fail(ErrorCode::kUnavailable,
                       "starting the tests' PostgreSQL server (" + pg_server_script().string() +
                           " start " + dir_ + ") failed with exit status " +
                           std::to_string(start.exit_code) + ": " + trimmed(start.err));
      return;
    }
    conninfo_ = first_line(start.out);
  }

  ~PrivateServer() {
    if (dir_.empty() || ::getpid() != owner_) return;
    TempDir out;
    const CommandRun stop = run_command({pg_server_script().string(), "stop", dir_}, out.path());
    if (stop.exit_code != 0) {
      std::fprintf(stderr, "stopping the tests' PostgreSQL server (%s stop %s) failed: %s\n",
                   pg_server_script().c_str(), dir_.c_str(), stop.err.c_str());
    }
  }

  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;

  const Result<std::string>& conninfo() const { return conninfo_; }

 private:
  pid_t owner_;
  std::string dir_;
  Result<std::string> conninfo_;
};

}  // namespace

Result<std::string> postgres_server() {
  const char* file = std::getenv("ATT_TEST_POSTGRES");
  if (file && *file && std::filesystem::exists(file)) {
    std::string conninfo = first_line(read_file(file));
    if (conninfo.empty()) {
      return fail(ErrorCode::kUnavailable, std::string("ATT_TEST_POSTGRES names ") + file +
                                               ", which holds no connection string");
    }
    return conninfo;
  }
  static PrivateServer server;
  return server.conninfo();
}

void PostgresDatabase::ConnCloser::operator()(pg_conn* conn) const {
  PQfinish(conn);
}

PostgresDatabase::PostgresDatabase() {
  auto server = postgres_server();
  if (!server) {
    error_ = server.error().message;
    return;
  }
  maintenance_ = *server;
  static std::atomic<unsigned> counter{0};
  thread_local std::mt19937 random(std::random_device{}());
  char suffix[9];
  std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(random()));
  name_ = "t_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" + suffix;

  auto admin = connect(maintenance_);
  if (!admin) {
    error_ = admin.error().message;
    return;
  }
  auto created =
      run(admin->get(), "CREATE DATABASE " + name_ + " TEMPLATE template0 STRATEGY FILE_COPY");
  if (!created) {
    error_ = "CREATE DATABASE " + name_ + ": " + created.error().message;
    return;
  }
  created_ = true;
  auto conninfo = pg::with_dbname(maintenance_, name_);
  if (!conninfo) {
    error_ = conninfo.error().message;
    return;
  }
  conninfo_ = *conninfo;
  auto conn = connect(conninfo_);
  if (!conn) {
    error_ = conn.error().message;
    return;
  }
  conn_.reset(conn->release());
}

PostgresDatabase::~PostgresDatabase() {
  conn_.reset();
  if (!created_) return;
  auto admin = connect(maintenance_);
  if (!admin) {
    ADD_FAILURE() << "dropping the test database " << name_ << ": " << admin.error().message;
    return;
  }
  auto dropped = run(admin->get(), "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  if (!dropped) {
    ADD_FAILURE() << "DROP DATABASE " << name_ << ": " << dropped.error().message;
  }
}

std::string PostgresDatabase::scalar(const std::string& sql) {
  if (!conn_) {
    ADD_FAILURE() << "no test database: " << error_;
    return "";
  }
  auto value = first_value(conn_.get(), sql);
  if (!value) {
    ADD_FAILURE() << sql << ": " << value.error().message;
    return "";
  }
  return value->value_or("");
}

std::int64_t PostgresDatabase::integer(const std::string& sql) {
  if (!conn_) {
    ADD_FAILURE() << "no test database: " << error_;
    return 0;
  }
  auto value = first_value(conn_.get(), sql);
  if (!value) {
    ADD_FAILURE() << sql << ": " << value.error().message;
    return 0;
  }
  if (!*value) {
    ADD_FAILURE() << sql << ": no row, or NULL, where an integer was expected";
    return 0;
  }
  const std::string& text = **value;
  std::int64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end != text.data() + text.size()) {
    ADD_FAILURE() << sql << ": '" << text << "' is not an integer";
    return 0;
  }
  return number;
}

Status PostgresDatabase::exec(const std::string& sql) {
  if (!conn_) return fail(ErrorCode::kUnavailable, "no test database: " + error_);
  auto result = run(conn_.get(), sql);
  if (!result) return std::unexpected(result.error());
  return {};
}

}  // namespace att::testing
