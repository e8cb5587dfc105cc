// Auth: users (added, changed: role, state, password), logins with their throttling, the
// sessions they open, and the counts of logins. Names and passwords are checked and hashed by
// passwords.h.
#include "analysis/web/auth.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <vector>

#include "analysis/web/passwords.h"
#include "common/log.h"
#include "common/sha256.h"

namespace att {

// ------------------------------------------------------------------------------------------
// Roles

namespace {

constexpr std::array<std::string_view, 4> kRoleNames = {"organizer", "auditor", "technician",
                                                        "admin"};

}  // namespace

std::string_view to_string(Role role) {
  return kRoleNames[static_cast<size_t>(role)];
}

std::optional<Role> parse_role(std::string_view name) {
  for (size_t i = 0; i < kRoleNames.size(); ++i) {
    if (kRoleNames[i] == name) return static_cast<Role>(i);
  }
  return std::nullopt;
}

// ------------------------------------------------------------------------------------------
// Users and sessions

namespace {

constexpr std::int64_t kTouchEveryMs = 60'000;  // last_seen_ms is written at most this often

// A hash of a random password no one knows, checked for unknown user names so that they take
// as long as a wrong password.
constexpr char kDummyHash[] =
    "scrypt$15$8$1$zSMa1b4qlN9Ff4mvNRFAig==$yyis0XRIXKD0D9O3gO1imuRjPci3gMIczeEtGazeEXg=";

Result<std::string> random_hex(size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
    return fail("the system's random source failed");
  std::string out;
  out.reserve(2 * bytes);
  for (unsigned char b : raw) out += fmt::format("{:02x}", b);
  return out;
}

bool is_token(std::string_view token) {
  return token.size() == 64 && std::all_of(token.begin(), token.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

Auth::Auth(AccountStore& store, AuthConfig config, WallClock clock)
    : store_(store), config_(config), clock_(std::move(clock)) {}

Result<User> Auth::add_user(const std::string& name, Role role, const std::string& password) {
  if (auto s = check_user_name(name); !s) return std::unexpected(s.error());
  if (auto s = check_password(password); !s) return std::unexpected(s.error());
  auto existing = store_.find_user(name);
  if (!existing) return std::unexpected(existing.error());
  if (*existing) return fail(ErrorCode::kConflict, "user '" + name + "' already exists");
  auto hash = hash_new_password(password);
  if (!hash) return std::unexpected(hash.error());
  User user{name, std::string(to_string(role)), std::move(*hash), clock_(), false};
  if (auto added = store_.add_user(user); !added) return std::unexpected(added.error());
  return user;
}

Status Auth::check_own_change(std::string_view by, std::string_view name,
                              const UserChange& change) {
  if (by.empty() || by != name) return {};
  if (change.disabled.value_or(false)) return fail("an admin cannot disable themself");
  if (change.role && *change.role != Role::kAdmin)
    return fail("an admin cannot take the admin role from themself");
  return {};
}

Result<UserChanged> Auth::change_user(const std::string& name, const UserChange& change,
                                      std::string_view by) {
  if (change.password) {
    if (auto s = check_password(*change.password); !s) return std::unexpected(s.error());
  }
  if (auto s = check_own_change(by, name, change); !s) return std::unexpected(s.error());
  auto user = store_.find_user(name);
  if (!user) return std::unexpected(user.error());
  if (!*user) return fail(ErrorCode::kNotFound, "no user '" + printable_name(name) + "'");
  UserChanged changed{**user, **user};
  if (change.role) changed.after.role = std::string(to_string(*change.role));
  if (change.disabled) changed.after.disabled = *change.disabled;
  if (!change.password && changed.after.role == changed.before.role &&
      changed.after.disabled == changed.before.disabled) {
    return changed;  // nothing to write; the sessions go on
  }
  if (change.password) {
    auto hash = hash_new_password(*change.password);
    if (!hash) return std::unexpected(hash.error());
    changed.after.password_hash = std::move(*hash);
  }
  if (auto s = store_.update_user(changed.after); !s) return std::unexpected(s.error());
  return changed;
}

Status Auth::set_password(const std::string& name, const std::string& password) {
  UserChange change;
  change.password = password;
  auto changed = change_user(name, change);
  if (!changed) return std::unexpected(changed.error());
  return {};
}

Status Auth::disable_user(const std::string& name) {
  UserChange change;
  change.disabled = true;
  auto changed = change_user(name, change);
  if (!changed) return std::unexpected(changed.error());
  return {};
}

Result<std::string> Auth::hash_new_password(const std::string& password) {
  if (!begin_password_check()) {
    return fail(ErrorCode::kUnavailable, "too many password checks at once; try again in a moment");
  }
  auto hash = hash_password(password);
  end_password_check();
  return hash;
}

void Auth::forget_old_attempts(std::int64_t now) {
  const auto window = static_cast<std::int64_t>(config_.login_window_minutes * 60'000);
  std::erase_if(attempts_, [&](const auto& a) { return a.second.last_ms <= now - window; });
}

int Auth::throttled_for(const std::string& key, int free, std::int64_t now) {
  const auto window = static_cast<std::int64_t>(config_.login_window_minutes * 60'000);
  auto it = attempts_.find(key);
  if (it == attempts_.end()) return 0;
  if (it->second.last_ms <= now - window) {
    attempts_.erase(it);
    return 0;
  }
  const int past = it->second.count - free;  // failures beyond the free ones
  if (past < 0) return 0;
  const std::int64_t delay_ms = std::min<std::int64_t>(window, 1000LL << std::min(past, 30));
  const std::int64_t wait_ms = it->second.last_ms + delay_ms - now;
  return wait_ms <= 0 ? 0 : static_cast<int>((wait_ms + 999) / 1000);
}

bool Auth::begin_password_check() {
  std::unique_lock lock(checks_mu_);
  // A queue of at most a few waiters per check; beyond that a login is refused at once.
  if (checks_waiting_ >= 8 * config_.password_checks) return false;
  ++checks_waiting_;
  const bool got = check_freed_.wait_for(
      lock, std::chrono::seconds(2), [this] { return checks_running_ < config_.password_checks; });
  --checks_waiting_;
  if (got && ++checks_running_ > checks_peak_) checks_peak_ = checks_running_;
  return got;
}

void Auth::end_password_check() {
  {
    std::lock_guard lock(checks_mu_);
    --checks_running_;
  }
  check_freed_.notify_one();
}

Result<LoginResult> Auth::login(const std::string& name, const std::string& password,
                                const std::string& address) {
  auto log = log::get("http");
  const std::int64_t now = clock_();
  const std::string by_pair = "name:" + name.substr(0, 64) + " from:" + address;
  const std::string by_address = "address:" + address;
  LoginResult result;
  const auto refuse_for = [&](LoginResult::Outcome outcome, int wait, const char* why) {
    ++(outcome == LoginResult::Outcome::kBusy ? logins_busy_ : logins_throttled_);
    if (long long held = 0; refusal_log_.allow(held)) {
      log->warn("login of '{}' from {} {} for {} s ({} more failed or refused logins not logged)",
                printable_name(name), address, why, wait, held);
    }
    result.outcome = outcome;
    result.retry_after_s = wait;
    return result;
  };
  {
    std::lock_guard lock(mu_);
    if (attempts_.size() > 10000) forget_old_attempts(now);
    const int wait = std::max(throttled_for(by_pair, config_.login_attempts, now),
                              throttled_for(by_address, config_.address_attempts, now));
    if (wait > 0) return refuse_for(LoginResult::Outcome::kThrottled, wait, "throttled");
    // Counted before the password is checked, so that attempts in flight count too.
    for (const std::string* key : {&by_pair, &by_address}) {
      Failures& f = attempts_[*key];
      ++f.count;
      f.last_ms = now;
    }
  }
  const auto uncount = [&](bool whole_pair) {
    std::lock_guard lock(mu_);
    if (whole_pair) attempts_.erase(by_pair);
    for (const std::string* key : {&by_pair, &by_address}) {
      auto it = attempts_.find(*key);
      if (it != attempts_.end() && --it->second.count <= 0) attempts_.erase(it);
    }
  };
  if (!begin_password_check()) {
    uncount(false);  // not the client's failure
    return refuse_for(LoginResult::Outcome::kBusy, 1, "refused: password checks busy,");
  }
  struct EndCheck {
    Auth* auth;
    ~EndCheck() { auth->end_password_check(); }
  } end_check{this};

  std::optional<User> user;
  if (check_user_name(name)) {
    auto found = store_.find_user(name);
    if (!found) return std::unexpected(found.error());
    user = std::move(*found);
  }
  auto match = verify_password(password, user ? user->password_hash : kDummyHash);
  if (!match) log->error("user '{}': {}", printable_name(name), match.error().message);
  const std::optional<Role> role = user ? parse_role(user->role) : std::nullopt;
  if (!match || !*match || !user || user->disabled || !role) {
    ++logins_bad_;
    if (long long held = 0; refusal_log_.allow(held)) {
      log->warn("failed login of '{}' from {} ({} more failed or throttled logins not logged)",
                printable_name(name), address, held);
    }
    return result;  // kBadCredentials; the attempt stays counted
  }

  auto token = random_hex(32);
  auto csrf = random_hex(32);
  if (!token || !csrf) return std::unexpected(!token ? token.error() : csrf.error());
  const auto max_ms = static_cast<std::int64_t>(config_.session_max_hours * 3'600'000);
  const auto idle_ms = static_cast<std::int64_t>(config_.session_idle_minutes * 60'000);
  const Session session{sha256_hex(*token), name, *csrf, now, now + max_ms, now};
  if (auto added = store_.add_session(session); !added) return std::unexpected(added.error());
  uncount(/*whole_pair=*/true);
  if (auto ended = store_.delete_ended_sessions(now, now - idle_ms); !ended)
    log->error("ended sessions are not deleted: {}", ended.error().message);
  ++logins_ok_;
  log->info("user '{}' ({}) logged in from {}", name, to_string(*role), address);
  result.outcome = LoginResult::Outcome::kOk;
  result.identity = Identity{name, *role, *csrf, session.expires_ms};
  result.token = std::move(*token);
  return result;
}

Result<std::optional<Identity>> Auth::identify(std::string_view token) {
  if (!is_token(token)) return std::nullopt;
  const std::string key = sha256_hex(std::string(token));
  auto session = store_.find_session(key);
  if (!session) return std::unexpected(session.error());
  if (!*session) return std::nullopt;
  const Session& s = **session;
  const std::int64_t now = clock_();
  const auto idle_ms = static_cast<std::int64_t>(config_.session_idle_minutes * 60'000);
  if (now >= s.expires_ms || now - s.last_seen_ms >= idle_ms) {
    if (auto ended = store_.delete_session(key); !ended)
      log::get("http")->error("an ended session is not deleted: {}", ended.error().message);
    return std::nullopt;
  }
  auto user = store_.find_user(s.user);
  if (!user) return std::unexpected(user.error());
  const std::optional<Role> role = *user ? parse_role((*user)->role) : std::nullopt;
  if (!*user || (*user)->disabled || !role) return std::nullopt;
  if (now - s.last_seen_ms >= kTouchEveryMs) {
    if (auto touched = store_.touch_session(key, now); !touched)
      log::get("http")->error("session of '{}': {}", s.user, touched.error().message);
  }
  return Identity{s.user, *role, s.csrf_token, s.expires_ms};
}

Status Auth::logout(std::string_view token) {
  if (!is_token(token)) return {};
  return store_.delete_session(sha256_hex(std::string(token)));
}

std::string Auth::render_metrics() const {
  std::string out;
  out += "# HELP attendance_logins_total Dashboard logins by result (throttled: 429, busy: 503).\n";
  out += "# TYPE attendance_logins_total counter\n";
  out += fmt::format("attendance_logins_total{{result=\"ok\"}} {}\n", logins_ok_.load());
  out +=
      fmt::format("attendance_logins_total{{result=\"bad_credentials\"}} {}\n", logins_bad_.load());
  out +=
      fmt::format("attendance_logins_total{{result=\"throttled\"}} {}\n", logins_throttled_.load());
  out += fmt::format("attendance_logins_total{{result=\"busy\"}} {}\n", logins_busy_.load());
  out += "# HELP attendance_password_checks_peak The most password checks that ran at once.\n";
  out += "# TYPE attendance_password_checks_peak gauge\n";
  out += fmt::format("attendance_password_checks_peak {}\n", checks_peak_.load());
  return out;
}

}  // namespace att
