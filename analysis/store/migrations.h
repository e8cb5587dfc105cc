// Numbered schema migrations, applied in order from 1. A migration is never edited once it
// has shipped; a change to the schema is a new migration at the end of the list.
#pragma once

#include <span>

#include "common/error.h"

struct sqlite3;

namespace att {

struct Migration {
  int version;       // 1, 2, 3, ... with no gaps
  const char* name;  // for the log
  const char* sql;   // may hold several statements
};

// SQLite's list (migrations.cpp).
std::span<const Migration> builtin_migrations();
// PostgreSQL's (pg_migrations.cpp): the same numbers and names, each the same change in
// PostgreSQL's dialect.
std::span<const Migration> postgres_migrations();

// Brings `db` from its PRAGMA user_version to the last of `migrations`, each migration in
// its own transaction (a failed one is rolled back and stops the run).
Status migrate(sqlite3* db, std::span<const Migration> migrations);

}  // namespace att
