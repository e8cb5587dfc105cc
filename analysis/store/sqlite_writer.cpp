#include "analysis/store/sqlite_writer.h"

namespace att {

// SQLite's transactions: BEGIN IMMEDIATE takes the write lock at once.
class SqliteWriter::Connection final : public Transactions {
 public:
  explicit Connection(sql::Db db) : db_(std::move(db)) {}
  sqlite3* get() const { return db_.get(); }

  Status begin() override { return sql::exec(get(), "BEGIN IMMEDIATE"); }
  Status savepoint() override { return sql::exec(get(), "SAVEPOINT write"); }
  void rollback_to_savepoint() override { (void)sql::exec(get(), "ROLLBACK TO write"); }
  void release_savepoint() override { (void)sql::exec(get(), "RELEASE write"); }
  Status commit() override { return sql::exec(get(), "COMMIT"); }
  void rollback() override { (void)sql::exec(get(), "ROLLBACK"); }

 private:
  sql::Db db_;
};

SqliteWriter::SqliteWriter(sql::Db db, SqliteWriterOptions options)
    : connection_(std::make_unique<Connection>(std::move(db))),
      commits_(std::make_unique<GroupCommit>(*connection_, options)) {}

SqliteWriter::~SqliteWriter() {
  commits_.reset();  // the thread finishes and joins before the connection closes
}

Status SqliteWriter::write(const std::function<Status(sqlite3*)>& work) {
  sqlite3* db = connection_->get();
  return commits_->write([&] { return work(db); });
}

WriteStats SqliteWriter::stats() const {
  return commits_->stats();
}

}  // namespace att
