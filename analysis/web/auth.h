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
#include <cstdint>
#include <deque>
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

std::string_view to_string(Role role);  // "organizer", "auditor", "technician", "admin"
std::optional<Role> parse_role(std::string_view name);

// Logins and sessions (server.yaml "auth:").
struct AuthConfig {
  double session_idle_minutes = 720;  // a session not used for this long ends (to within 1 min)
  double session_max_hours = 168;     // every session ends this long after its login
  int login_attempts = 5;             // failed logins for one user name, or from one address...
  double login_window_minutes = 15;   // ...within this long: 429 until the oldest is older
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

struct LoginResult {
  enum class Outcome { kOk, kBadCredentials, kThrottled };
  Outcome outcome = Outcome::kBadCredentials;
  Identity identity;      // kOk
  std::string token;      // kOk: the cookie's value; only its SHA-256 is stored
  int retry_after_s = 0;  // kThrottled: when the oldest counted attempt leaves the window
};

class Auth {
 public:
  // `store` must outlive this object. `clock` is the service's time (tests move it).
  Auth(AccountStore& store, AuthConfig config, WallClock clock = now_ms);

  // Users, as `attendance-server users` manages them. Bad input (a malformed name, a short
  // password, a name taken or unknown) is refused with a clear message and changes nothing.
  Status add_user(const std::string& name, Role role, const std::string& password);
  Status set_password(const std::string& name, const std::string& password);  // ends sessions
  Status disable_user(const std::string& name);                               // ends sessions

  // A login from `address`. An unknown user, a wrong password and a disabled user get the
  // same answer after the same work (a dummy hash is checked for an unknown name). Once
  // config.login_attempts failed for the name or the address within the window, further
  // attempts are throttled without checking the password (attempts in flight count too).
  // Errors: the store's.
  Result<LoginResult> login(const std::string& name, const std::string& password,
                            const std::string& address);
  // The identity of the session whose cookie holds `token`, while the session lasts and its
  // user is enabled; none otherwise (an ended session is deleted). Notes the activity for the
  // idle timeout: a write at most once a minute per session. Errors: the store's.
  Result<std::optional<Identity>> identify(std::string_view token);
  Status logout(std::string_view token);  // ends the session, if there is one

  // attendance_logins_total{result="ok|bad_credentials|throttled"}, Prometheus text.
  std::string render_metrics() const;

 private:
  // Seconds until `key` has fewer attempts than the limit in the window (0: it has now),
  // forgetting those older than the window. Caller holds mu_.
  int throttled_for(const std::string& key, std::int64_t now);
  // Forgets attempts older than the window, and keys left with none. Caller holds mu_.
  void forget_old_attempts(std::int64_t now);

  AccountStore& store_;
  const AuthConfig config_;
  WallClock clock_;
  std::mutex mu_;
  // Failed or in-flight login attempts within the window, by "user:<name>" and
  // "address:<address>", oldest first; guarded by mu_.
  std::map<std::string, std::deque<std::int64_t>> attempts_;
  std::atomic<std::int64_t> logins_ok_ = 0, logins_bad_ = 0, logins_throttled_ = 0;
  log::RateLimit refusal_log_{std::chrono::seconds(10)};  // failed and throttled logins
};

}  // namespace att
