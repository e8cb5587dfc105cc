#include "analysis/web/auth.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <vector>

#include "common/encoding.h"
#include "common/log.h"
#include "common/sha256.h"

namespace att {

// ------------------------------------------------------------------------------------------
// What the access check before every route uses (the routes' roles: route_table.h)

bool changes_state(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

bool is_loopback(std::string_view address) {
  return address.starts_with("127.") || address == "::1" || address.starts_with("::ffff:127.");
}

bool origin_matches_host(std::string_view origin, std::string_view host) {
  const size_t scheme = origin.find("://");
  if (scheme == std::string_view::npos || host.empty()) return false;  // also "null"
  const std::string_view authority = origin.substr(scheme + 3);
  return authority.size() == host.size() &&
         std::equal(authority.begin(), authority.end(), host.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

bool secrets_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// ------------------------------------------------------------------------------------------
// Roles, names, passwords

namespace {

constexpr std::array<std::string_view, 4> kRoleNames = {"organizer", "auditor", "technician",
                                                        "admin"};

// scrypt as stored: N = 2^15 (32 MiB with r = 8), the cost OWASP suggests for interactive
// logins; about 0.1 s on one core.
constexpr int kLogN = 15, kBlockSize = 8, kParallel = 1;
constexpr size_t kSaltBytes = 16, kHashBytes = 32;
constexpr std::uint64_t kMaxScryptMemory = 256ull << 20;

// A hash of a random password no one knows, checked for unknown user names so that they take
// as long as a wrong password.
constexpr char kDummyHash[] =
    "scrypt$15$8$1$zSMa1b4qlN9Ff4mvNRFAig==$yyis0XRIXKD0D9O3gO1imuRjPci3gMIczeEtGazeEXg=";

Result<std::string> scrypt(std::string_view password, std::string_view salt, std::uint64_t n,
                           std::uint64_t r, std::uint64_t p, size_t length) {
  std::string key(length, '\0');
  if (EVP_PBE_scrypt(password.data(), password.size(),
                     reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), n, r, p,
                     kMaxScryptMemory, reinterpret_cast<unsigned char*>(key.data()),
                     key.size()) != 1) {
    return fail("scrypt failed (N=" + std::to_string(n) + ", r=" + std::to_string(r) +
                ", p=" + std::to_string(p) + ")");
  }
  return key;
}

// A whole number of digits only, within [lo, hi].
std::optional<int> small_number(std::string_view text, int lo, int hi) {
  int v = 0;
  if (text.empty() || text.size() > 3 || text.front() == '+' || text.front() == '-')
    return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi)
    return std::nullopt;
  return v;
}

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

// For the log: a name as given, cut short and with anything unprintable replaced.
std::string printable(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

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

Status check_user_name(std::string_view name) {
  const bool ok =
      !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
      });
  if (!ok) {
    return fail("user name '" + printable(name) + "' is not 1 to 64 of a-z, 0-9, '.', '_' and '-'");
  }
  return {};
}

Status check_password(std::string_view password) {
  const auto characters = std::count_if(password.begin(), password.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // not a UTF-8 continuation byte
  });
  if (characters < 10) return fail("the password is too short: 10 characters at least");
  if (password.size() > 1024) return fail("the password is too long: 1024 bytes at most");
  return {};
}

Result<std::string> hash_password(std::string_view password) {
  std::string salt(kSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) !=
      1) {
    return fail("the system's random source failed");
  }
  auto key = scrypt(password, salt, std::uint64_t{1} << kLogN, kBlockSize, kParallel, kHashBytes);
  if (!key) return std::unexpected(key.error());
  return fmt::format("scrypt${}${}${}${}${}", kLogN, kBlockSize, kParallel, base64(salt),
                     base64(*key));
}

Result<bool> verify_password(std::string_view password, std::string_view stored) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t dollar = stored.find('$', start);
    parts.push_back(stored.substr(start, dollar - start));
    if (dollar == std::string_view::npos) break;
    start = dollar + 1;
  }
  const auto malformed = [] {
    return fail("the stored password hash is malformed (expected scrypt$N$r$p$salt$hash)");
  };
  if (parts.size() != 6 || parts[0] != "scrypt") return malformed();
  const auto log_n = small_number(parts[1], 1, 24);
  const auto r = small_number(parts[2], 1, 64);
  const auto p = small_number(parts[3], 1, 16);
  const auto salt = unbase64(parts[4]);
  const auto hash = unbase64(parts[5]);
  if (!log_n || !r || !p || !salt || !hash || salt->size() < 8 || hash->size() < 16 ||
      hash->size() > 64) {
    return malformed();
  }
  auto key = scrypt(password, *salt, std::uint64_t{1} << *log_n, static_cast<std::uint64_t>(*r),
                    static_cast<std::uint64_t>(*p), hash->size());
  if (!key) return std::unexpected(key.error());
  return CRYPTO_memcmp(key->data(), hash->data(), hash->size()) == 0;
}

// ------------------------------------------------------------------------------------------
// Users and sessions

namespace {
constexpr std::int64_t kTouchEveryMs = 60'000;  // last_seen_ms is written at most this often
}

Auth::Auth(AccountStore& store, AuthConfig config, WallClock clock)
    : store_(store), config_(config), clock_(std::move(clock)) {}

Status Auth::add_user(const std::string& name, Role role, const std::string& password) {
  if (auto s = check_user_name(name); !s) return s;
  if (auto s = check_password(password); !s) return s;
  auto hash = hash_password(password);
  if (!hash) return std::unexpected(hash.error());
  return store_.add_user(User{name, std::string(to_string(role)), *hash, clock_(), false});
}

Status Auth::set_password(const std::string& name, const std::string& password) {
  if (auto s = check_password(password); !s) return s;
  auto user = store_.find_user(name);
  if (!user) return std::unexpected(user.error());
  if (!*user) return fail("no user '" + printable(name) + "'");
  auto hash = hash_password(password);
  if (!hash) return std::unexpected(hash.error());
  User changed = **user;
  changed.password_hash = *hash;
  return store_.update_user(changed);
}

Status Auth::disable_user(const std::string& name) {
  auto user = store_.find_user(name);
  if (!user) return std::unexpected(user.error());
  if (!*user) return fail("no user '" + printable(name) + "'");
  User changed = **user;
  changed.disabled = true;
  return store_.update_user(changed);
}

void Auth::forget_old_attempts(std::int64_t now) {
  const auto window = static_cast<std::int64_t>(config_.login_window_minutes * 60'000);
  for (auto it = attempts_.begin(); it != attempts_.end();) {
    auto& times = it->second;
    while (!times.empty() && times.front() <= now - window) times.pop_front();
    it = times.empty() ? attempts_.erase(it) : std::next(it);
  }
}

int Auth::throttled_for(const std::string& key, std::int64_t now) {
  const auto window = static_cast<std::int64_t>(config_.login_window_minutes * 60'000);
  auto it = attempts_.find(key);
  if (it == attempts_.end()) return 0;
  auto& times = it->second;
  while (!times.empty() && times.front() <= now - window) times.pop_front();
  if (static_cast<int>(times.size()) < config_.login_attempts) return 0;
  const std::int64_t wait_ms = times.front() + window - now;
  return static_cast<int>(std::max<std::int64_t>(1, (wait_ms + 999) / 1000));
}

Result<LoginResult> Auth::login(const std::string& name, const std::string& password,
                                const std::string& address) {
  auto log = log::get("http");
  const std::int64_t now = clock_();
  const std::string by_name = "user:" + name.substr(0, 64);
  const std::string by_address = "address:" + address;
  LoginResult result;
  {
    std::lock_guard lock(mu_);
    if (attempts_.size() > 10000) forget_old_attempts(now);
    const int wait = std::max(throttled_for(by_name, now), throttled_for(by_address, now));
    if (wait > 0) {
      ++logins_throttled_;
      if (long long held = 0; refusal_log_.allow(held)) {
        log->warn(
            "login of '{}' from {} throttled for {} s ({} more failed or throttled "
            "logins not logged)",
            printable(name), address, wait, held);
      }
      result.outcome = LoginResult::Outcome::kThrottled;
      result.retry_after_s = wait;
      return result;
    }
    // Counted before the password is checked, so that attempts in flight count too.
    attempts_[by_name].push_back(now);
    attempts_[by_address].push_back(now);
  }

  std::optional<User> user;
  if (check_user_name(name)) {
    auto found = store_.find_user(name);
    if (!found) return std::unexpected(found.error());
    user = std::move(*found);
  }
  auto match = verify_password(password, user ? user->password_hash : kDummyHash);
  if (!match) log->error("user '{}': {}", printable(name), match.error().message);
  const std::optional<Role> role = user ? parse_role(user->role) : std::nullopt;
  if (!match || !*match || !user || user->disabled || !role) {
    ++logins_bad_;
    if (long long held = 0; refusal_log_.allow(held)) {
      log->warn("failed login of '{}' from {} ({} more failed or throttled logins not logged)",
                printable(name), address, held);
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
  {
    std::lock_guard lock(mu_);
    attempts_.erase(by_name);
    auto& from = attempts_[by_address];
    if (auto it = std::find(from.begin(), from.end(), now); it != from.end()) from.erase(it);
  }
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
  out += "# HELP attendance_logins_total Dashboard logins by result (throttled: 429).\n";
  out += "# TYPE attendance_logins_total counter\n";
  out += fmt::format("attendance_logins_total{{result=\"ok\"}} {}\n", logins_ok_.load());
  out +=
      fmt::format("attendance_logins_total{{result=\"bad_credentials\"}} {}\n", logins_bad_.load());
  out +=
      fmt::format("attendance_logins_total{{result=\"throttled\"}} {}\n", logins_throttled_.load());
  return out;
}

}  // namespace att
