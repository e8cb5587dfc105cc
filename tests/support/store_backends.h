// The store suites run on both backends: a test written once against Store (analysis/domain/
// store.h) is instantiated for SQLite (a file in a temporary directory) and for PostgreSQL (a
// database of its own on the test run's server, tests/support/postgres.h).
//
//   class LedgerStoreTest : public ::testing::TestWithParam<Backend> { ... TestStore
//   db_{GetParam()}; }; INSTANTIATE_TEST_SUITE_P(Backends, LedgerStoreTest, all_backends(),
//   backend_name);
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "analysis/domain/store.h"
#include "analysis/store/group_commit.h"
#include "tests/support/postgres.h"
#include "tests/support/test_support.h"

namespace att::testing {

enum class Backend { kSqlite, kPostgres };

// For INSTANTIATE_TEST_SUITE_P: both backends, and their names in the tests' names.
::testing::internal::ParamGenerator<Backend> all_backends();
std::string backend_name(const ::testing::TestParamInfo<Backend>& info);  // SQLite, PostgreSQL

// A store of one backend, open, with SQL beside it on the same database for a test to look at
// what was stored (the SQL here is what both dialects take: plain SELECTs).
class TestStore {
 public:
  explicit TestStore(Backend backend, GroupCommitOptions writer = {});
  ~TestStore();

  // "" when the store is open; else why not (no PostgreSQL server, a failed open).
  const std::string& error() const { return error_; }
  Backend backend() const { return backend_; }
  Store& store() { return *store_; }
  Store* operator->() { return store_.get(); }
  Store& operator*() { return *store_; }

  // Closes the store (every write committed) and opens it again on the same database.
  void reopen();
  void close() { store_.reset(); }

  // On the database directly, not through the store.
  std::string scalar(const std::string& sql);
  std::int64_t integer(const std::string& sql);

 private:
  void open();

  Backend backend_;
  GroupCommitOptions writer_;
  std::string error_;
  TempDir dir_;                                 // SQLite's file
  std::unique_ptr<PostgresDatabase> postgres_;  // PostgreSQL's database
  std::unique_ptr<Store> store_;
};

}  // namespace att::testing
