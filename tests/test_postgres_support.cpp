// The tests' PostgreSQL support (tests/support/postgres.h) on a real server: each
// PostgresDatabase is a database of its own, empty, usable through its helpers, and gone once
// the object is.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <memory>
#include <string>

#include "tests/support/postgres.h"

namespace att::testing {
namespace {

TEST(PostgresSupport, EachDatabaseIsItsOwnAndEmpty) {
  PostgresDatabase a, b;
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_NE(a.name(), b.name());
  EXPECT_NE(a.conninfo(), b.conninfo());
  EXPECT_EQ(a.scalar("SELECT current_database()"), a.name());
  EXPECT_EQ(b.scalar("SELECT current_database()"), b.name());
  const std::string user_tables =
      "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')";
  EXPECT_EQ(a.integer(user_tables), 0);
  EXPECT_EQ(b.integer(user_tables), 0);

  // A table made in one is not in the other.
  ASSERT_TRUE(a.exec("CREATE TABLE only_in_a (x int)").has_value());
  EXPECT_EQ(a.integer(user_tables), 1);
  EXPECT_EQ(b.integer(user_tables), 0);
}

TEST(PostgresSupport, ExecScalarAndIntegerWork) {
  PostgresDatabase db;
  ASSERT_TRUE(db.ok()) << db.error();
  const Status made = db.exec(
      "CREATE TABLE site (id text PRIMARY KEY, name text, expected bigint);"
      "INSERT INTO site VALUES ('td-01', 'Trường THCS Bản Giang', 60),"
      " ('td-02', 'Trường Tiểu học Bình Lư', 5000000000), ('mt-01', NULL, NULL)");
  ASSERT_TRUE(made.has_value()) << made.error().message;
  EXPECT_EQ(db.integer("SELECT count(*) FROM site"), 3);
  EXPECT_EQ(db.scalar("SELECT name FROM site WHERE id = 'td-01'"), "Trường THCS Bản Giang");
  EXPECT_EQ(db.integer("SELECT expected FROM site WHERE id = 'td-02'"), 5000000000);
  EXPECT_EQ(db.scalar("SELECT name FROM site WHERE id = 'mt-01'"), "");  // NULL
  EXPECT_EQ(db.scalar("SELECT name FROM site WHERE id = 'none'"), "");   // no row

  // PostgreSQL's own message comes back, with a code from its SQLSTATE.
  const Status bad = db.exec("INSERT INTO no_such_table VALUES (1)");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, "relation \"no_such_table\" does not exist");
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalid);
  const Status duplicate = db.exec("INSERT INTO site VALUES ('td-01', 'again', 1)");
  ASSERT_FALSE(duplicate.has_value());
  EXPECT_EQ(duplicate.error().message,
            "duplicate key value violates unique constraint \"site_pkey\"");
  EXPECT_EQ(duplicate.error().code, ErrorCode::kConflict);
  // A failed statement in a batch rolls the batch back.
  EXPECT_FALSE(db.exec("INSERT INTO site VALUES ('x', 'y', 1); SELECT 1/0").has_value());
  EXPECT_EQ(db.integer("SELECT count(*) FROM site"), 3);
}

TEST(PostgresSupport, DatabaseIsDroppedWithTheObject) {
  const auto server = postgres_server();
  ASSERT_TRUE(server.has_value()) << server.error().message;
  std::string name;
  // A connection the test leaves open does not keep the database: the drop ends it.
  std::unique_ptr<PGconn, decltype(&PQfinish)> left_open(nullptr, &PQfinish);
  {
    PostgresDatabase db;
    ASSERT_TRUE(db.ok()) << db.error();
    name = db.name();
    left_open.reset(PQconnectdb(db.conninfo().c_str()));
    ASSERT_EQ(PQstatus(left_open.get()), CONNECTION_OK) << PQerrorMessage(left_open.get());
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> after_drop(PQexec(left_open.get(), "SELECT 1"),
                                                           &PQclear);
  EXPECT_NE(PQresultStatus(after_drop.get()), PGRES_TUPLES_OK) << "the left connection still works";

  std::unique_ptr<PGconn, decltype(&PQfinish)> admin(PQconnectdb(server->c_str()), &PQfinish);
  ASSERT_EQ(PQstatus(admin.get()), CONNECTION_OK) << PQerrorMessage(admin.get());
  const char* params[] = {name.c_str()};
  std::unique_ptr<PGresult, decltype(&PQclear)> found(
      PQexecParams(admin.get(), "SELECT count(*) FROM pg_database WHERE datname = $1", 1, nullptr,
                   params, nullptr, nullptr, 0),
      &PQclear);
  ASSERT_EQ(PQresultStatus(found.get()), PGRES_TUPLES_OK) << PQerrorMessage(admin.get());
  EXPECT_STREQ(PQgetvalue(found.get(), 0, 0), "0") << name << " is still there";
}

}  // namespace
}  // namespace att::testing
