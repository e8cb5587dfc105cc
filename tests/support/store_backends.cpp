#include "tests/support/store_backends.h"

#include "analysis/store/pg_store.h"
#include "analysis/store/sqlite_store.h"

namespace att::testing {

::testing::internal::ParamGenerator<Backend> all_backends() {
  return ::testing::Values(Backend::kSqlite, Backend::kPostgres);
}

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "SQLite" : "PostgreSQL";
}

TestStore::TestStore(Backend backend, GroupCommitOptions writer)
    : backend_(backend), writer_(writer) {
  if (backend_ == Backend::kPostgres) {
    postgres_ = std::make_unique<PostgresDatabase>();
    if (!postgres_->ok()) {
      error_ = "no PostgreSQL database for the test: " + postgres_->error();
      return;
    }
  }
  open();
}

TestStore::~TestStore() {
  store_.reset();  // closed before its database is dropped
}

void TestStore::open() {
  if (backend_ == Backend::kSqlite) {
    SqliteStoreOptions options;
    options.writer = writer_;
    auto s = SqliteStore::open(dir_ / "att.db", options);
    if (!s) {
      error_ = s.error().message;
      return;
    }
    store_ = std::move(*s);
  } else {
    PgStoreOptions options;
    options.conninfo = postgres_->conninfo();
    options.readers = 2;
    options.writer = writer_;
    auto s = PgStore::open(options);
    if (!s) {
      error_ = s.error().message;
      return;
    }
    store_ = std::move(*s);
  }
  error_.clear();
}

void TestStore::reopen() {
  store_.reset();
  open();
}

std::string TestStore::scalar(const std::string& sql) {
  if (backend_ == Backend::kPostgres) return postgres_->scalar(sql);
  return RawDb(dir_ / "att.db").scalar(sql);
}

std::int64_t TestStore::integer(const std::string& sql) {
  if (backend_ == Backend::kPostgres) return postgres_->integer(sql);
  return std::stoll(RawDb(dir_ / "att.db").scalar(sql));
}

}  // namespace att::testing
