// Users and sessions of the dashboard (analysis/web/auth.h checks roles, passwords.h names and
// passwords).
// Part of Store (analysis/domain/store.h), whose contract holds: thread-safe, a write returns
// once it is durable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace att {

// A person who logs in to the dashboard (analysis/web/auth.h says how).
struct User {
  std::string name;           // 1-64 of [a-z0-9._-]; unique
  std::string role;           // organizer, auditor, technician or admin
  std::string password_hash;  // self-describing slow hash (passwords.h), never the password
  std::int64_t created_ms = 0;
  bool disabled = false;  // no login, no session
};

// A logged-in browser. Only the SHA-256 of its token is stored, so a copy of the database
// lets no one in.
struct Session {
  std::string token_sha256;  // hex
  std::string user;
  std::string csrf_token;         // sent back in X-CSRF-Token with every change
  std::int64_t created_ms = 0;    // at login
  std::int64_t expires_ms = 0;    // the absolute end, whatever the activity
  std::int64_t last_seen_ms = 0;  // kept to within a minute or so (idle timeout)
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;

  // Refused: a name that exists.
  virtual Status add_user(const User& user) = 0;
  // Replaces the role, password hash and disabled flag of the user of that name, and ends
  // all its sessions (it logs in again under the new terms). Refused: no such user.
  virtual Status update_user(const User& user) = 0;
  virtual Result<std::optional<User>> find_user(const std::string& name) = 0;
  virtual Result<std::vector<User>> users() = 0;  // by name
  // Refused: an unknown or disabled user.
  virtual Status add_session(const Session& session) = 0;
  virtual Result<std::optional<Session>> find_session(const std::string& token_sha256) = 0;
  virtual Status touch_session(const std::string& token_sha256, std::int64_t last_seen_ms) = 0;
  virtual Status delete_session(const std::string& token_sha256) = 0;
  // Deletes the sessions that ended by `now_ms`: expires_ms reached, or last seen at or
  // before `idle_before_ms`. Returns how many.
  virtual Result<std::int64_t> delete_ended_sessions(std::int64_t now_ms,
                                                     std::int64_t idle_before_ms) = 0;
};

}  // namespace att
