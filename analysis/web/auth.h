// Who may use the dashboard and its API, and how they prove it: users with a role, logins
// (throttled) and the login sessions they open, each with a CSRF token. Names and passwords
// are checked and hashed by passwords.h; the checks of a request's origin are in
// request_checks.h, and which role may make which request is the route table's
// (analysis/web/route_table.h).
//
// Users and sessions live in the service's database (AccountStore), so sessions survive a restart.
// A session is known there by the SHA-256 of a random token that only the browser's cookie
// holds. Everything here is thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "analysis/domain/account_store.h"
#include "common/error.h"
#include "common/log.h"
#include "common/time_util.h"

namespace att {

enum class Role { kOrganizer, kAuditor, kTechnician, kAdmin };

// Every role, in this order (the admin's page offers them as listed).
inline constexpr Role kRoles[] = {Role::kOrganizer, Role::kAuditor, Role::kTechnician,
                                  Role::kAdmin};
std::string_view to_string(Role role);  // "organizer", "auditor", "technician", "admin"
std::optional<Role> parse_role(std::string_view name);

// Logins and sessions (server.yaml "auth:").
struct AuthConfig {
  double session_idle_minutes = 720;  // a session not used for this long ends (to within 1 min)
  double session_max_hours = 168;     // every session ends this long after its login
  // Failed logins of one user name from one address: this many are free; each further one
  // must wait twice as long after the last as the one before (1 s, 2 s, 4 s, ... up to the
  // window); 429 + Retry-After meanwhile. Failures older than the window are forgotten. The
  // real user, from another address, is never locked out by someone guessing.
  int login_attempts = 5;
  double login_window_minutes = 15;
  // Failed logins from one address, whatever the names: the same growth after this many
  // (a school's NAT is many people; a guesser trying names is one).
  int address_attempts = 50;
  // Password checks (scrypt: 32 MiB and ~100 ms each) running at once at most; a login that
  // finds them busy for 2 s is answered 503 + Retry-After.
  int password_checks = 2;
};

inline constexpr char kSessionCookie[] = "att_session";
inline constexpr char kCsrfHeader[] = "X-CSRF-Token";

// Who a request comes from: its session's user, while the session lasts.
struct Identity {
  std::string user;
  Role role = Role::kOrganizer;
  std::string csrf_token;
  std::int64_t expires_ms = 0;  // the session's absolute end (idleness may end it sooner)
};

// What an admin changes of a user; what is absent stays as it is.
struct UserChange {
  std::optional<Role> role;
  std::optional<bool> disabled;
  std::optional<std::string> password;  // a new password (check_password's rules)
};

// A user before and after a change, as stored (password hashes included: never sent).
struct UserChanged {
  User before, after;
};

struct LoginResult {
  enum class Outcome { kOk, kBadCredentials, kThrottled, kBusy };
  Outcome outcome = Outcome::kBadCredentials;
  Identity identity;      // kOk
  std::string token;      // kOk: the cookie's value; only its SHA-256 is stored
  int retry_after_s = 0;  // kThrottled, kBusy: when to try again
};

class Auth {
 public:
  // `store` must outlive this object. `clock` is the service's time (tests move it).
  Auth(AccountStore& store, AuthConfig config, WallClock clock = now_ms);

  // Users, as `attendance-server users` and the admin's page (POST /api/v1/users) manage
  // them. Bad input is refused with a clear message and changes nothing; the error's code
  // says which: kInvalid (a malformed name, a short password, an admin's change of themself
  // that check_own_change refuses), kConflict (the name is taken), kNotFound (no such user),
  // kUnavailable (no password check came free within 2 s: a new password is hashed under the
  // same config.password_checks as logins); otherwise the store's.
  // Returns the user as stored.
  Result<User> add_user(const std::string& name, Role role, const std::string& password);
  // Changes what `change` names in one write, which ends the user's sessions (it logs in
  // again under the new terms); a change that changes nothing (no password, the role and
  // state it has) writes nothing. `by`: the admin making the change, held to
  // check_own_change; "" from the command line.
  Result<UserChanged> change_user(const std::string& name, const UserChange& change,
                                  std::string_view by = {});
  Status set_password(const std::string& name, const std::string& password);  // ends sessions
  Status disable_user(const std::string& name);                               // ends sessions
  // An admin may not disable or demote themself, so that whoever manages the users keeps the
  // means to, and the service is never left without an admin by its own page. kInvalid when
  // `change` to the user `name` by the user `by` would.
  static Status check_own_change(std::string_view by, std::string_view name,
                                 const UserChange& change);

  // A login from `address`. An unknown user, a wrong password and a disabled user get the
  // same answer after the same work (a dummy hash is checked for an unknown name). Failures
  // past config.login_attempts for the name from this address, or past
  // config.address_attempts from the address, are throttled with growing delays without
  // checking the password (attempts in flight count too). kBusy when no password check is
  // free for 2 s. Errors: the store's.
  Result<LoginResult> login(const std::string& name, const std::string& password,
                            const std::string& address);
  // The identity of the session whose cookie holds `token`, while the session lasts and its
  // user is enabled; none otherwise (an ended session is deleted). Notes the activity for the
  // idle timeout: a write at most once a minute per session. Errors: the store's.
  Result<std::optional<Identity>> identify(std::string_view token);
  Status logout(std::string_view token);  // ends the session, if there is one

  // attendance_logins_total{result="ok|bad_credentials|throttled|busy"} and
  // attendance_password_checks_peak, Prometheus text.
  std::string render_metrics() const;

 private:
  // Failed (or in-flight) attempts of one key since the window began for it.
  struct Failures {
    int count = 0;
    std::int64_t last_ms = 0;
  };
  // Seconds until `key` may try again (0: now), given `free` attempts before delays begin;
  // forgets failures older than the window. Caller holds mu_.
  int throttled_for(const std::string& key, int free, std::int64_t now);
  // Forgets keys whose last failure is older than the window. Caller holds mu_.
  void forget_old_attempts(std::int64_t now);
  // Waits up to 2 s for one of config_.password_checks; false if none came free.
  bool begin_password_check();
  void end_password_check();
  // The stored hash of a new password, made under one of the password checks; kUnavailable
  // when none came free.
  Result<std::string> hash_new_password(const std::string& password);

  AccountStore& store_;
  const AuthConfig config_;
  WallClock clock_;
  std::mutex mu_;
  // Failed or in-flight login attempts within the window, by "name:<name> from:<address>"
  // and "address:<address>"; guarded by mu_.
  std::map<std::string, Failures> attempts_;
  std::mutex checks_mu_;
  std::condition_variable check_freed_;
  int checks_running_ = 0, checks_waiting_ = 0;  // guarded by checks_mu_
  std::atomic<int> checks_peak_ = 0;             // the most that ran at once
  std::atomic<std::int64_t> logins_ok_ = 0, logins_bad_ = 0, logins_throttled_ = 0,
                            logins_busy_ = 0;
  log::RateLimit refusal_log_{std::chrono::seconds(10)};  // failed and throttled logins
};

}  // namespace att
