// PostgreSQL for the tests: a real server for the whole test run and an empty database of its
// own for each test, dropped when the test is done.
//
// The server is the one the test command started (ctest's `postgres` fixture runs
// scripts/pg_server.sh start and names its connection-string file in ATT_TEST_POSTGRES), or,
// when a test binary runs on its own, one the process starts with the same script in a
// directory under /tmp the first time a test asks, and stops when the process exits.
// Everything here may be called from any thread; one PostgresDatabase is used by one thread
// at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/error.h"

struct pg_conn;  // libpq's PGconn, kept out of this header

namespace att::testing {

// The test run's server: the one the test command started (its connection string in the file
// named by ATT_TEST_POSTGRES), else one this process starts with scripts/pg_server.sh in a
// temporary directory and stops at exit (tried once: a failed start is reported to every
// caller). Returns the maintenance connection string (keyword=value, dbname=postgres, as the
// superuser `attendance`), or an error saying why there is none.
Result<std::string> postgres_server();

// A database of its own for one test: created empty on the run's server at construction
// (CREATE DATABASE t_<pid>_<counter>_<random> TEMPLATE template0), dropped at destruction
// (WITH (FORCE): connections the test left open to it are ended).
class PostgresDatabase {
 public:
  PostgresDatabase();
  ~PostgresDatabase();
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;

  // False when there is no database (no server, or it refused): error() says why, and the
  // calls below fail with it.
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // The keyword=value connection string for this database, for the code under test.
  const std::string& conninfo() const { return conninfo_; }
  const std::string& name() const { return name_; }

  // SQL on this database through its own connection, beside whatever the test is checking.
  // The first column of the first row as text: "" when there is no row or it is NULL. An error
  // is a test failure (ADD_FAILURE) with PostgreSQL's message.
  std::string scalar(const std::string& sql);
  // scalar() as a number; a value that is not an integer is a test failure (and 0).
  std::int64_t integer(const std::string& sql);
  // One or more statements (the simple query protocol: one implicit transaction unless they
  // say otherwise). The error carries PostgreSQL's primary message.
  Status exec(const std::string& sql);

 private:
  struct ConnCloser {
    void operator()(pg_conn* conn) const;
  };

  std::string error_;
  std::string maintenance_;  // the server's maintenance connection string, for the drop
  std::string name_;
  std::string conninfo_;
  bool created_ = false;  // the database exists on the server: the destructor drops it
  std::unique_ptr<pg_conn, ConnCloser> conn_;
};

}  // namespace att::testing
