// Logins, roles, sessions and CSRF at the service, over real HTTP on loopback with real SQLite
// files: password hashing, login and logout, the session cookie, throttling, expiry by an
// injected clock, CSRF, the access table called endpoint by endpoint as every role, disabled
// users, sessions across a restart, the timeline, the admin's changes of users (added,
// disabled, enabled, a new password, a new role, all in the audit trail), and the
// `attendance-server users` command run as a process.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "analysis/app/server_config.h"
#include "analysis/app/service.h"
#include "analysis/store/sqlite_store.h"
#include "analysis/web/auth.h"
#include "analysis/web/passwords.h"
#include "analysis/web/request_checks.h"
#include "analysis/web/route_table.h"
#include "common/sha256.h"
#include "protocol/wire.h"
#include "tests/support/test_support.h"

namespace att {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kT0 = 1'783'830'000'000;  // 2026-07-12, the fixtures' day
constexpr const char* kPassword = testing::kTestPassword;

json body_of(const httplib::Result& res) {
  return res ? json::parse(res->body, nullptr, /*allow_exceptions=*/false) : json();
}

// ----------------------------------------------------------------------------------------
// Passwords, names, the access table's matching

TEST(PasswordHash, RoundTripsWithAFreshSaltAndTheStatedParameters) {
  auto a = hash_password("correct horse battery");
  auto b = hash_password("correct horse battery");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(std::regex_match(*a, std::regex(R"(scrypt\$15\$8\$1\$[A-Za-z0-9+/]{22}==\$)"
                                              R"([A-Za-z0-9+/]{43}=)")))
      << *a;
  EXPECT_NE(*a, *b) << "each hash has its own salt";
  EXPECT_EQ(verify_password("correct horse battery", *a), true);
  EXPECT_EQ(verify_password("correct horse battery", *b), true);
}

TEST(PasswordHash, AWrongPasswordDoesNotMatch) {
  auto stored = hash_password("correct horse battery");
  ASSERT_TRUE(stored);
  EXPECT_EQ(verify_password("correct horse batterY", *stored), false);
  EXPECT_EQ(verify_password("", *stored), false);
  EXPECT_EQ(verify_password("correct horse batter", *stored), false);
}

TEST(PasswordHash, AMalformedStoredHashIsAnErrorNeverAMatch) {
  auto good = hash_password("correct horse battery");
  ASSERT_TRUE(good);
  const std::string salt = "zSMa1b4qlN9Ff4mvNRFAig==";
  const std::string hash = "yyis0XRIXKD0D9O3gO1imuRjPci3gMIczeEtGazeEXg=";
  const std::vector<std::string> malformed = {
      "",
      "correct horse battery",  // a password stored as itself
      "scrypt$15$8$1$" + salt,
      "scrypt$15$8$1$" + salt + "$" + hash + "$",
      "bcrypt$15$8$1$" + salt + "$" + hash,
      "scrypt$x$8$1$" + salt + "$" + hash,
      "scrypt$-15$8$1$" + salt + "$" + hash,
      "scrypt$+15$8$1$" + salt + "$" + hash,
      "scrypt$99$8$1$" + salt + "$" + hash,
      "scrypt$15$0$1$" + salt + "$" + hash,
      "scrypt$15$8$1$" + salt + "$" + "not base64!",
      "scrypt$15$8$1$" + salt + "$" + hash.substr(0, 20),  // too short to be a hash
      "scrypt$15$8$1$$" + hash,
      "scrypt$15$8$1$" + salt + "$" + hash + " ",
  };
  for (const std::string& stored : malformed) {
    auto r = verify_password("correct horse battery", stored);
    ASSERT_FALSE(r) << "'" << stored << "' gave " << *r;
    EXPECT_THAT(r.error().message, HasSubstr("malformed")) << stored;
  }
  // Well formed but asking for 2 GiB: refused by the memory bound, not a match either.
  auto greedy = verify_password("correct horse battery", "scrypt$20$16$1$" + salt + "$" + hash);
  ASSERT_FALSE(greedy);
  EXPECT_THAT(greedy.error().message, HasSubstr("scrypt failed"));
}

TEST(UserNames, OneToSixtyFourOfLowercaseDigitsDotUnderscoreDash) {
  for (const std::string& ok :
       std::vector<std::string>{"an", "nguyen.van-an_2", "a", std::string(64, 'x')})
    EXPECT_TRUE(check_user_name(ok)) << ok;
  for (const std::string& bad :
       std::vector<std::string>{"", "An", "an b", "an/b", "ân", "an@site", std::string(65, 'x')}) {
    auto r = check_user_name(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_THAT(r.error().message, HasSubstr("is not 1 to 64 of a-z, 0-9"));
  }
}

TEST(Passwords, TenCharactersAtLeastCountedAsCharactersNotBytes) {
  EXPECT_TRUE(check_password("0123456789"));
  EXPECT_TRUE(check_password("mậtkhẩu123"));  // 10 characters, 14 bytes
  auto nine = check_password("mậtkhẩu12");    // 9 characters, 13 bytes
  ASSERT_FALSE(nine);
  EXPECT_EQ(nine.error().message, "the password is too short: 10 characters at least");
  EXPECT_FALSE(check_password("012345678"));
  EXPECT_FALSE(check_password(std::string(1025, 'x')));
}

// The route table's matcher on a table of the service's shape (the service's own rows are
// checked over HTTP, every route as every caller, by AccessTable below).
RouteTable sample_routes() {
  const auto none = [](const httplib::Request&, httplib::Response&) {};
  return RouteTable({
      {"GET", "/healthz", kAnyone, "", none},
      {"POST", "/api/v1/frames", kAnyone, "", none},
      {"GET", "/metrics", kTechnicians | kAdmins | kLoopback, "metrics", none},
      {"GET", "/api/v1/sites/{site}/latest", kEveryRole, "sites", none},
      {"GET", "/api/v1/sites/{site}/latest.jpg", kEveryRole, "sites", none},
      {"GET", "/api/v1/evidence/{site}/{file}.jpg", kRecordReaders, "records", none},
      {"GET", "/api/v1/ledger", kAuditors | kAdmins, "ledger", none},
      {"GET", "/api/v1/exports/{table}.csv", kAuditors | kAdmins, "exports", none},
      {"POST", "/api/v1/roll-calls/corrections", kAuditors, "correct", none},
  });
}

TEST(RouteTable, MatchesWholePathsWithTheirParametersAndDeniesWhatNoRowNames) {
  const RouteTable table = sample_routes();
  const auto who = [&](const char* method, const char* path) { return table.access(method, path); };
  EXPECT_EQ(who("GET", "/api/v1/ledger"), kAuditors | kAdmins);
  EXPECT_EQ(who("HEAD", "/api/v1/ledger"), kAuditors | kAdmins) << "HEAD is a GET";
  EXPECT_EQ(who("GET", "/api/v1/sites/td-01/latest.jpg"), kEveryRole);
  EXPECT_EQ(who("GET", "/api/v1/exports/roll-calls.csv"), kAuditors | kAdmins);
  EXPECT_EQ(who("GET", "/api/v1/evidence/td-01/2027-07-12/0745.jpg"),
            kOrganizers | kAuditors | kAdmins);
  EXPECT_EQ(who("GET", "/metrics"), kTechnicians | kAdmins | kLoopback);
  EXPECT_EQ(who("GET", "/"), kAnyone) << "the dashboard's files";
  EXPECT_EQ(who("GET", "/js/app.js"), kAnyone);
  EXPECT_EQ(who("POST", "/api/v1/frames"), kAnyone);
  for (const auto& [method, path] : std::vector<std::pair<const char*, const char*>>{
           {"GET", "/api/v1/nothing"},
           {"POST", "/api/v1/ledger"},
           {"DELETE", "/api/v1/sites"},
           {"GET", "/api/v1/sites//latest"},
           {"GET", "/api/v1/sites/td-01/latest/more"},
           {"GET", "/api/v1/sites/TD-01/latest"},
           {"GET", "/api/v1/sites/td-01/latestXjpg"},
           {"GET", "/api/v1/exports/.csv"},
           {"GET", "/api/v1/exports/users.csv"},
           {"GET", "/api/v1/evidence"},
           {"GET", "/api/v1/ledger/"},
           {"GET", "/api/"},
           {"POST", "/metrics"},
       }) {
    EXPECT_EQ(who(method, path), std::nullopt) << method << " " << path;
  }
  const Route* latest = table.find("GET", "/api/v1/sites/td-01/latest.jpg");
  ASSERT_NE(latest, nullptr);
  EXPECT_EQ(latest->path, "/api/v1/sites/{site}/latest.jpg");
  EXPECT_EQ(RouteTable::pattern_of("/api/v1/sites/{site}/latest.jpg"),
            R"(/api/v1/sites/([a-z0-9_-]{1,32})/latest\.jpg)");
}

TEST(RouteTable, CapabilitiesAreTheRowsARoleMayCallEachOnce) {
  const RouteTable table = sample_routes();
  using V = std::vector<std::string>;
  EXPECT_EQ(table.capabilities(Role::kOrganizer), (V{"sites", "records"}));
  EXPECT_EQ(table.capabilities(Role::kAuditor),
            (V{"sites", "records", "ledger", "exports", "correct"}));
  EXPECT_EQ(table.capabilities(Role::kTechnician), (V{"metrics", "sites"}));
  EXPECT_EQ(table.capabilities(Role::kAdmin),
            (V{"metrics", "sites", "records", "ledger", "exports"}));
}

TEST(RouteTable, AMistakeInTheTableStopsTheProgramAtOnce) {
  const auto none = [](const httplib::Request&, httplib::Response&) {};
  EXPECT_THROW(RouteTable({{"GET", "/api/v1/sites/{id}", kEveryRole, "", none}}),
               std::invalid_argument);
  EXPECT_THROW(RouteTable({{"GET", "/api/v1/sites/{site", kEveryRole, "", none}}),
               std::invalid_argument);
  EXPECT_THROW(RouteTable({{"PUT", "/api/v1/sites", kEveryRole, "", none}}), std::invalid_argument);
  EXPECT_THROW(RouteTable({{"GET", "/api/v1/sites", kEveryRole, "", none},
                           {"GET", "/api/v1/sites", kAdmins, "", none}}),
               std::invalid_argument);
}

TEST(AccessRules, LoopbackOriginsAndSecrets) {
  EXPECT_TRUE(is_loopback("127.0.0.1"));
  EXPECT_TRUE(is_loopback("127.1.2.3"));
  EXPECT_TRUE(is_loopback("::1"));
  EXPECT_TRUE(is_loopback("::ffff:127.0.0.1"));
  EXPECT_FALSE(is_loopback("192.0.2.7"));
  EXPECT_FALSE(is_loopback("1127.0.0.1"));
  EXPECT_FALSE(is_loopback("::ffff:10.0.0.1"));
  EXPECT_TRUE(origin_matches_host("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(origin_matches_host("https://Diemdanh.Example", "diemdanh.example"));
  EXPECT_FALSE(origin_matches_host("https://evil.example", "diemdanh.example"));
  EXPECT_FALSE(origin_matches_host("http://127.0.0.1:8081", "127.0.0.1:8080"));
  EXPECT_FALSE(origin_matches_host("null", "127.0.0.1:8080"));
  EXPECT_FALSE(origin_matches_host("http://127.0.0.1:8080", ""));
  EXPECT_TRUE(secrets_equal("abc", "abc"));
  EXPECT_FALSE(secrets_equal("abc", "abd"));
  EXPECT_FALSE(secrets_equal("abc", "abcd"));
  EXPECT_FALSE(secrets_equal("", "abc"));
}

// ----------------------------------------------------------------------------------------
// Auth on a real database, without HTTP: throttling by name and by address, user changes

class AuthOnStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::open(dir_ / "attendance.db");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    auth_ = std::make_unique<Auth>(*store_, AuthConfig{}, [this] { return now_.load(); });
    ASSERT_TRUE(auth_->add_user("an", Role::kAuditor, kPassword));
    ASSERT_TRUE(auth_->add_user("binh", Role::kOrganizer, kPassword));
  }
  LoginResult::Outcome login(const std::string& name, const std::string& password,
                             const std::string& address) {
    auto r = auth_->login(name, password, address);
    EXPECT_TRUE(r) << r.error().message;
    return r ? r->outcome : LoginResult::Outcome::kBadCredentials;
  }

  testing::TempDir dir_;
  std::atomic<std::int64_t> now_{kT0};
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Auth> auth_;
};

TEST_F(AuthOnStore, FailuresOfANameFromAnAddressWaitLongerEachTimeAndLockNobodyElseOut) {
  using O = LoginResult::Outcome;
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(login("an", "wrong-password", "10.0.0.1"), O::kBadCredentials);
  // The sixth from there waits a second after the fifth, even with the right password.
  auto held = auth_->login("an", kPassword, "10.0.0.1");
  ASSERT_TRUE(held);
  EXPECT_EQ(held->outcome, O::kThrottled);
  EXPECT_EQ(held->retry_after_s, 1);
  // The real user elsewhere, and another name from the same address, are not held up.
  EXPECT_EQ(login("an", kPassword, "10.0.0.2"), O::kOk);
  EXPECT_EQ(login("binh", kPassword, "10.0.0.1"), O::kOk);
  // Each further failure doubles the wait: 2 s, 4 s, ... 512 s, then the window (15 min).
  for (int k = 0; k < 10; ++k) {
    now_ += 1000LL << k;
    EXPECT_EQ(login("an", "wrong-password", "10.0.0.1"), O::kBadCredentials) << k;
    auto next = auth_->login("an", kPassword, "10.0.0.1");
    ASSERT_TRUE(next);
    EXPECT_EQ(next->outcome, O::kThrottled) << k;
    EXPECT_EQ(next->retry_after_s, std::min<std::int64_t>(2LL << k, 15 * 60)) << k;
  }
  // A window without failures forgets them all.
  now_ += 15 * kMinute;
  EXPECT_EQ(login("an", kPassword, "10.0.0.1"), O::kOk);
  EXPECT_THAT(auth_->render_metrics(),
              HasSubstr("attendance_logins_total{result=\"throttled\"} 11\n"));
  EXPECT_THAT(auth_->render_metrics(),
              HasSubstr("attendance_logins_total{result=\"bad_credentials\"} 15\n"));
  EXPECT_THAT(auth_->render_metrics(), HasSubstr("attendance_logins_total{result=\"ok\"} 3\n"));
}

TEST_F(AuthOnStore, AnAddressGuessingManyNamesWaitsAfterFiftyFailures) {
  using O = LoginResult::Outcome;
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(login("guess-" + std::to_string(i), "wrong-password", "10.0.0.9"),
              O::kBadCredentials);
  }
  EXPECT_EQ(login("an", kPassword, "10.0.0.9"), O::kThrottled);
  EXPECT_EQ(login("an", kPassword, "10.0.0.8"), O::kOk);
  now_ += 1000;
  EXPECT_EQ(login("an", kPassword, "10.0.0.9"), O::kOk);
}

TEST_F(AuthOnStore, AtMostTwoPasswordChecksRunAtOnceAndAFloodIsRefusedBusy) {
  using O = LoginResult::Outcome;
  std::vector<std::thread> logins;
  std::atomic<int> ok = 0, bad = 0, busy = 0;
  for (int i = 0; i < 40; ++i) {
    logins.emplace_back([&, i] {
      const O o = login(i % 2 ? "an" : "binh", i % 4 < 2 ? kPassword : "wrong-password",
                        "10.1.0." + std::to_string(i));
      ++(o == O::kOk ? ok : o == O::kBusy ? busy : bad);
    });
  }
  for (auto& t : logins) t.join();
  EXPECT_EQ(ok + bad + busy, 40);
  EXPECT_GT(busy, 0) << "40 at once: 2 running, 16 waiting, the rest refused";
  EXPECT_GT(ok, 0);
  EXPECT_THAT(auth_->render_metrics(), HasSubstr("attendance_password_checks_peak 2\n"));
  EXPECT_THAT(auth_->render_metrics(), HasSubstr("attendance_logins_total{result=\"busy\"} " +
                                                 std::to_string(busy.load()) + "\n"));
}

TEST_F(AuthOnStore, ASuccessfulLoginDoesNotCountAgainstItsAddress) {
  using O = LoginResult::Outcome;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(login("an", kPassword, "10.0.0.1"), O::kOk);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(login("an", "wrong-password", "10.0.0.1"), O::kBadCredentials);
  EXPECT_EQ(login("an", kPassword, "10.0.0.1"), O::kOk);
}

TEST_F(AuthOnStore, UserChangesAreCheckedAndChangeNothingWhenRefused) {
  const std::string hash_before = store_->find_user("an").value()->password_hash;
  auto duplicate = auth_->add_user("an", Role::kAdmin, "another-password");
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().message, "user 'an' already exists");
  auto short_password = auth_->set_password("an", "short");
  ASSERT_FALSE(short_password);
  EXPECT_THAT(short_password.error().message, HasSubstr("too short"));
  auto bad_name = auth_->add_user("An", Role::kAdmin, "another-password");
  ASSERT_FALSE(bad_name);
  auto unknown = auth_->disable_user("chi");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "no user 'chi'");
  const User after = store_->find_user("an").value().value();
  EXPECT_EQ(after.password_hash, hash_before);
  EXPECT_EQ(after.role, "auditor");
  EXPECT_FALSE(after.disabled);
  EXPECT_EQ(store_->users().value().size(), 2u);
  EXPECT_FALSE(store_->find_user("An").value());
}

TEST_F(AuthOnStore, ANewPasswordEndsTheSessionsAndOnlyItLogsIn) {
  auto first = auth_->login("an", kPassword, "10.0.0.1");
  ASSERT_TRUE(first && first->outcome == LoginResult::Outcome::kOk);
  ASSERT_TRUE(auth_->identify(first->token).value());
  ASSERT_TRUE(auth_->set_password("an", "a-new-password"));
  EXPECT_FALSE(auth_->identify(first->token).value()) << "the session ended";
  EXPECT_EQ(login("an", kPassword, "10.0.0.1"), LoginResult::Outcome::kBadCredentials);
  EXPECT_EQ(login("an", "a-new-password", "10.0.0.1"), LoginResult::Outcome::kOk);
}

TEST_F(AuthOnStore, AMalformedStoredHashRefusesTheLogin) {
  {
    testing::RawDb raw(dir_ / "attendance.db");
    raw.exec("UPDATE users SET password_hash = 'scrypt$15$8$1$broken' WHERE name = 'an'");
  }
  EXPECT_EQ(login("an", kPassword, "10.0.0.1"), LoginResult::Outcome::kBadCredentials);
  EXPECT_EQ(login("an", "scrypt$15$8$1$broken", "10.0.0.1"), LoginResult::Outcome::kBadCredentials);
}

TEST_F(AuthOnStore, UserChangesSayWhyTheyAreRefusedByTheirCode) {
  auto duplicate = auth_->add_user("an", Role::kAdmin, "another-password");
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, ErrorCode::kConflict);
  auto bad_name = auth_->add_user("An", Role::kAdmin, "another-password");
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().code, ErrorCode::kInvalid);
  UserChange disable;
  disable.disabled = true;
  auto unknown = auth_->change_user("chi", disable);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  // An admin may not disable or demote themself; another admin may.
  ASSERT_TRUE(auth_->add_user("quan", Role::kAdmin, kPassword));
  UserChange demote;
  demote.role = Role::kAuditor;
  for (const UserChange& own : {disable, demote}) {
    auto refused = auth_->change_user("quan", own, "quan");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalid);
    EXPECT_THAT(refused.error().message, HasSubstr("an admin cannot"));
  }
  EXPECT_TRUE(Auth::check_own_change("binh", "quan", disable));
  EXPECT_TRUE(Auth::check_own_change("", "quan", demote)) << "the command line";
  const User quan = store_->find_user("quan").value().value();
  EXPECT_EQ(quan.role, "admin");
  EXPECT_FALSE(quan.disabled);
}

TEST_F(AuthOnStore, AChangeOfRoleAndStateIsOneWriteAndNoChangeWritesNothing) {
  auto first = auth_->login("an", kPassword, "10.0.0.1");
  ASSERT_TRUE(first && first->outcome == LoginResult::Outcome::kOk);
  UserChange same;
  same.role = Role::kAuditor;
  same.disabled = false;
  auto unchanged = auth_->change_user("an", same);
  ASSERT_TRUE(unchanged) << unchanged.error().message;
  EXPECT_EQ(unchanged->after.role, "auditor");
  EXPECT_TRUE(auth_->identify(first->token).value()) << "nothing written: the session goes on";
  UserChange both;
  both.role = Role::kTechnician;
  both.disabled = true;
  auto changed = auth_->change_user("an", both);
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(changed->before.role, "auditor");
  EXPECT_FALSE(changed->before.disabled);
  EXPECT_EQ(changed->after.role, "technician");
  EXPECT_TRUE(changed->after.disabled);
  EXPECT_EQ(changed->after.password_hash, changed->before.password_hash);
  EXPECT_FALSE(auth_->identify(first->token).value()) << "the session ended";
  const User stored = store_->find_user("an").value().value();
  EXPECT_EQ(stored.role, "technician");
  EXPECT_TRUE(stored.disabled);
}

// ----------------------------------------------------------------------------------------
// The service over HTTP, with its clock in the test's hand

class AuthService : public ::testing::Test {
 protected:
  void SetUp() override { start(config()); }

  ServerConfig config() {
    ServerConfig c = testing::test_server_config(dir_.path());
    c.live.keepalive_s = 1;  // a streaming client that went away is found within a second
    return c;
  }

  void start(ServerConfig config) {
    ServiceHooks hooks;
    hooks.clock = [this] { return now_.load(); };
    auto service = Service::create(std::move(config), std::move(hooks));
    ASSERT_TRUE(service) << service.error().message;
    service_ = std::move(*service);
    auto port = service_->start();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  }

  void stop() {
    client_.reset();
    service_.reset();
  }

  httplib::Result login(const std::string& user, const std::string& password) {
    return client_->Post("/api/v1/login", json{{"user", user}, {"password", password}}.dump(),
                         "application/json");
  }

  // The cookie a browser sends back ("att_session=<token>") from a login's answer.
  static std::string cookie_of(const httplib::Result& res) {
    const std::string set = res->get_header_value("Set-Cookie");
    return set.substr(0, set.find(';'));
  }

  int status(const std::string& path, const httplib::Headers& headers) {
    auto res = client_->Get(path, headers);
    return res ? res->status : -1;
  }

  std::int64_t sessions_in_database() {
    testing::RawDb raw(dir_ / "data" / "attendance.db");
    return raw.integer("SELECT COUNT(*) FROM sessions");
  }

  testing::TempDir dir_;
  std::atomic<std::int64_t> now_{kT0};
  std::unique_ptr<Service> service_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(AuthService, LoginSetsAStrictHttpOnlyCookieAndLogoutEndsTheSession) {
  testing::add_user(service_->store(), "an", Role::kAuditor);
  auto none = client_->Get("/api/v1/session");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(body_of(none)["code"], "login_required");

  auto res = login("an", kPassword);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const std::string set_cookie = res->get_header_value("Set-Cookie");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      set_cookie, m, std::regex("att_session=([0-9a-f]{64}); Path=/; HttpOnly; SameSite=Strict")))
      << set_cookie;
  const std::string token = m[1];
  const json body = body_of(res);
  EXPECT_EQ(body["user"], "an");
  EXPECT_EQ(body["role"], "auditor");
  EXPECT_TRUE(std::regex_match(body["csrf_token"].get<std::string>(), std::regex("[0-9a-f]{64}")));
  EXPECT_NE(body["csrf_token"], token);
  EXPECT_EQ(body["expires_ms"], kT0 + 168 * 60 * kMinute);

  // Only the token's SHA-256 is in the database, and no password.
  {
    testing::RawDb raw(dir_ / "data" / "attendance.db");
    EXPECT_EQ(raw.integer("SELECT COUNT(*) FROM sessions WHERE token_sha256 = '" +
                          sha256_hex(token) + "' AND user = 'an'"),
              1);
    EXPECT_EQ(raw.integer("SELECT COUNT(*) FROM sessions WHERE token_sha256 = '" + token +
                          "' OR csrf_token = '" + token + "'"),
              0);
    EXPECT_THAT(raw.scalar("SELECT password_hash FROM users WHERE name = 'an'"),
                Not(HasSubstr(kPassword)));
  }

  const httplib::Headers session = {{"Cookie", "theme=dark; " + cookie_of(res) + "; lang=vi"},
                                    {kCsrfHeader, body["csrf_token"].get<std::string>()}};
  auto who = client_->Get("/api/v1/session", session);
  ASSERT_TRUE(who);
  ASSERT_EQ(who->status, 200) << who->body;
  EXPECT_EQ(body_of(who)["user"], "an");
  EXPECT_EQ(body_of(who)["role"], "auditor");
  EXPECT_EQ(body_of(who)["csrf_token"], body["csrf_token"]);

  auto out = client_->Post("/api/v1/logout", session, "", "application/json");
  ASSERT_TRUE(out);
  ASSERT_EQ(out->status, 200) << out->body;
  EXPECT_EQ(out->get_header_value("Set-Cookie"),
            "att_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  EXPECT_EQ(status("/api/v1/session", session), 401);
  EXPECT_EQ(status("/api/v1/status", session), 401);
  EXPECT_EQ(sessions_in_database(), 0);
}

TEST_F(AuthService, AnUnknownUserAndAWrongPasswordGetTheSameAnswer) {
  testing::add_user(service_->store(), "an", Role::kAuditor);
  testing::add_user(service_->store(), "cu", Role::kAuditor);
  ASSERT_TRUE(Auth(service_->store(), AuthConfig{}).disable_user("cu"));
  std::vector<httplib::Result> answers;
  const auto started = std::chrono::steady_clock::now();
  answers.push_back(login("nobody", kPassword));
  const auto unknown_took = std::chrono::steady_clock::now() - started;
  answers.push_back(login("an", "wrong-password"));
  answers.push_back(login("cu", kPassword));  // disabled
  answers.push_back(login("AN", kPassword));  // not even a valid name
  for (const auto& res : answers) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401);
    EXPECT_EQ(res->body, answers[0]->body);
    EXPECT_FALSE(res->has_header("Set-Cookie"));
  }
  EXPECT_EQ(body_of(answers[0])["code"], "bad_credentials");
  // The unknown name cost a hash too (scrypt takes tens of ms at the least).
  EXPECT_GE(std::chrono::duration_cast<std::chrono::milliseconds>(unknown_took).count(), 20);
  EXPECT_EQ(sessions_in_database(), 0);

  // Not JSON, or not a login's JSON: refused before any check, nothing counted.
  auto form =
      client_->Post("/api/v1/login", "user=an&password=x", "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 415);
  EXPECT_EQ(body_of(form)["code"], "unsupported_media_type");
  for (const std::string bad :
       {"{", "[]", R"({"user": "an"})", R"({"user": 1, "password": "x"})"}) {
    auto res = client_->Post("/api/v1/login", bad, "application/json; charset=utf-8");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << bad;
    EXPECT_EQ(body_of(res)["code"], "bad_request");
  }
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr("attendance_logins_total{result=\"bad_credentials\"} 4\n"));
}

TEST_F(AuthService, FailedLoginsPastFiveGet429WithRetryAfterAndAreCounted) {
  testing::add_user(service_->store(), "an", Role::kAuditor);
  for (int i = 0; i < 5; ++i) {
    auto res = login("an", "wrong-password-" + std::to_string(i));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401);
  }
  auto held = login("an", kPassword);
  ASSERT_TRUE(held);
  EXPECT_EQ(held->status, 429);
  EXPECT_EQ(body_of(held)["code"], "too_many_attempts");
  EXPECT_EQ(held->get_header_value("Retry-After"), "1");
  EXPECT_FALSE(held->has_header("Set-Cookie"));
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr("attendance_logins_total{result=\"throttled\"} 1\n"));
  EXPECT_THAT(metrics->body, HasSubstr("attendance_logins_total{result=\"bad_credentials\"} 5\n"));
  now_ += 1000;
  auto again = login("an", kPassword);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << again->body;
}

TEST_F(AuthService, AnIdleSessionEndsAndAnActiveOneLastsToItsEnd) {
  stop();
  ServerConfig c = config();
  c.auth.session_idle_minutes = 30;
  c.auth.session_max_hours = 2;
  start(c);
  testing::add_user(service_->store(), "an", Role::kAuditor);
  const httplib::Headers active = testing::log_in(*client_, "an");
  const httplib::Headers idle = testing::log_in(*client_, "an");
  const httplib::Headers edge = testing::log_in(*client_, "an");
  ASSERT_FALSE(active.empty() || idle.empty() || edge.empty());
  // Unused for 30 minutes a session ends; used, it goes on.
  now_ = kT0 + 25 * kMinute;
  EXPECT_EQ(status("/api/v1/status", active), 200);
  now_ = kT0 + 30 * kMinute - 1;
  EXPECT_EQ(status("/api/v1/status", edge), 200) << "1 ms short of 30 minutes";
  now_ = kT0 + 30 * kMinute;
  EXPECT_EQ(status("/api/v1/status", idle), 401);
  EXPECT_EQ(status("/api/v1/status", active), 200);
  now_ = kT0 + 50 * kMinute;
  EXPECT_EQ(status("/api/v1/status", active), 200);
  now_ = kT0 + 80 * kMinute;
  EXPECT_EQ(status("/api/v1/status", active), 401) << "30 minutes since its last use";
  EXPECT_EQ(status("/api/v1/session", idle), 401) << "and it stays ended";
  EXPECT_EQ(sessions_in_database(), 1) << "those found ended are deleted; edge is not asked";

  // A session in use ends at its absolute end (2 h) all the same. A login deletes the
  // sessions that have ended meanwhile (edge).
  const std::int64_t login_at = now_;
  const httplib::Headers busy = testing::log_in(*client_, "an");
  EXPECT_EQ(sessions_in_database(), 1);
  for (int i = 1; i <= 7; ++i) {
    now_ = login_at + i * 17 * kMinute;  // up to 1 h 59 min
    EXPECT_EQ(status("/api/v1/status", busy), 200) << i;
  }
  now_ = login_at + 120 * kMinute;
  EXPECT_EQ(status("/api/v1/status", busy), 401);
}

TEST_F(AuthService, AChangeWithoutTheCsrfTokenOrFromAnotherOriginIsRefused) {
  testing::add_user(service_->store(), "an", Role::kAuditor);
  const httplib::Headers session = testing::log_in(*client_, "an");
  ASSERT_EQ(session.size(), 2u);
  const std::string cookie = session.find("Cookie")->second;
  const std::string csrf = session.find(kCsrfHeader)->second;
  const std::string correction = json{
      {"subject", "roll_call/td-01/2026-07-12/morning/0745"},
      {"counted", 3},
      {"reason", "r"}}.dump();
  const auto post = [&](const httplib::Headers& h) {
    auto res = client_->Post("/api/v1/roll-calls/corrections", h, correction, "application/json");
    return std::pair(res ? res->status : -1, body_of(res).value("code", ""));
  };
  EXPECT_EQ(post({{"Cookie", cookie}}), std::pair(403, std::string("csrf")));
  EXPECT_EQ(post({{"Cookie", cookie}, {kCsrfHeader, std::string(64, '0')}}),
            std::pair(403, std::string("csrf")));
  EXPECT_EQ(post({{"Cookie", cookie}, {kCsrfHeader, csrf}, {"Origin", "https://evil.example"}}),
            std::pair(403, std::string("csrf")));
  EXPECT_EQ(post({{"Cookie", cookie}, {kCsrfHeader, csrf}, {"Origin", "null"}}),
            std::pair(403, std::string("csrf")));
  // The right token from the service's own origin reaches the route (no such roll call).
  const std::string own = "http://127.0.0.1:" + std::to_string(port_);
  EXPECT_EQ(post({{"Cookie", cookie}, {kCsrfHeader, csrf}, {"Origin", own}}),
            std::pair(404, std::string("unknown_roll_call")));
  EXPECT_EQ(post({{"Cookie", cookie}, {kCsrfHeader, csrf}}),
            std::pair(404, std::string("unknown_roll_call")));
  // Logging out is a change too: without the token the session stays.
  auto out = client_->Post("/api/v1/logout", {{"Cookie", cookie}}, "", "application/json");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 403);
  EXPECT_EQ(status("/api/v1/session", session), 200);
  LedgerQuery q;
  q.limit = 0;
  EXPECT_TRUE(service_->store().entries(Chain::kLedger, q).value().empty());
}

TEST_F(AuthService, AKeptAliveConnectionGoesOnAfterARefusedRequestWithABody) {
  testing::add_user(service_->store(), "an", Role::kAuditor);
  client_->set_keep_alive(true);
  const httplib::Headers session = testing::log_in(*client_, "an");
  httplib::Headers without_csrf = session;
  without_csrf.erase(kCsrfHeader);
  for (int i = 0; i < 3; ++i) {
    auto refused = client_->Post("/api/v1/roll-calls/corrections", without_csrf,
                                 std::string(2000, 'x'), "application/json");
    ASSERT_TRUE(refused) << httplib::to_string(refused.error());
    EXPECT_EQ(refused->status, 403);
    auto next = client_->Get("/api/v1/session", session);
    ASSERT_TRUE(next) << httplib::to_string(next.error());
    EXPECT_EQ(next->status, 200) << next->body;
  }
}

TEST_F(AuthService, ADisabledUserIsOutAtOnceAndCannotLogInAgain) {
  testing::add_user(service_->store(), "an", Role::kAuditor);
  const httplib::Headers session = testing::log_in(*client_, "an");
  ASSERT_EQ(status("/api/v1/ledger", session), 200);
  ASSERT_TRUE(Auth(service_->store(), AuthConfig{}).disable_user("an"));
  EXPECT_EQ(status("/api/v1/ledger", session), 401);
  auto again = login("an", kPassword);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 401);
  EXPECT_EQ(body_of(again)["code"], "bad_credentials");
}

TEST_F(AuthService, SessionsSurviveARestart) {
  testing::add_user(service_->store(), "an", Role::kAuditor);
  const httplib::Headers session = testing::log_in(*client_, "an");
  ASSERT_EQ(status("/api/v1/session", session), 200);
  stop();
  start(config());
  auto who = client_->Get("/api/v1/session", session);
  ASSERT_TRUE(who);
  ASSERT_EQ(who->status, 200) << who->body;
  EXPECT_EQ(body_of(who)["user"], "an");
  EXPECT_EQ(body_of(who)["csrf_token"], session.find(kCsrfHeader)->second);
}

TEST_F(AuthService, RecordReadsAreAuditedUnderTheSessionsUser) {
  testing::add_user(service_->store(), "an", Role::kAuditor);
  const httplib::Headers session = testing::log_in(*client_, "an");
  ASSERT_EQ(status("/api/v1/ledger?limit=5", session), 200);
  ASSERT_EQ(status("/api/v1/alerts", session), 200);
  LedgerQuery q;
  q.limit = 0;
  const auto audit = service_->store().entries(Chain::kAudit, q).value();
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].actor, "an@127.0.0.1");
  EXPECT_EQ(audit[0].subject, "/api/v1/ledger?limit=5");
  EXPECT_EQ(audit[1].actor, "an@127.0.0.1");
}

TEST_F(AuthService, TheAdminListsUsersWithoutTheirHashes) {
  testing::add_user(service_->store(), "an", Role::kAuditor);
  const httplib::Headers admin = testing::log_in_as(*client_, service_->store(), Role::kAdmin);
  auto res = client_->Get("/api/v1/users", admin);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_THAT(res->body, Not(HasSubstr("scrypt")));
  const json users = body_of(res)["users"];
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0]["name"], "admin");
  EXPECT_EQ(users[0]["role"], "admin");
  EXPECT_EQ(users[0]["disabled"], false);
  EXPECT_GT(users[0]["created_ms"].get<std::int64_t>(), 0);
  EXPECT_EQ(users[0].size(), 4u) << users[0].dump();
  EXPECT_EQ(users[1]["name"], "an");
  EXPECT_EQ(users[1]["role"], "auditor");
}

TEST_F(AuthService, TheTimelineGivesEachStoredFrameInTheSpan) {
  Store& store = service_->store();
  for (int i = 0; i < 4; ++i) {
    Observation o;
    o.site_id = "td-01";
    o.sequence = i + 1;
    o.captured_at_ms = kT0 + i * 5000;
    o.received_at_ms = o.captured_at_ms + 300;
    o.count = 10 + i;
    o.boxes = std::vector<Box>(static_cast<size_t>(i), Box{10, 10, 20, 20, 0.9f});
    o.frame_count = i;
    o.detector = "yunet";
    o.width = 640;
    o.height = 360;
    o.frame_path = "frames/td-01/" + std::to_string(i + 1) + ".jpg";
    o.frame_sha256 = std::to_string(i);
    o.health = i == 2 ? R"({"brightness":0.1,"flags":["dark","blurred"]})" : "";
    ASSERT_EQ(store.insert_observation(o), InsertOutcome::kInserted);
  }
  testing::log_in_as(*client_, store, Role::kOrganizer);
  auto res = client_->Get("/api/v1/sites/td-01/timeline?from=" + std::to_string(kT0 + 1) +
                          "&to=" + std::to_string(kT0 + 15000));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json t = body_of(res);
  EXPECT_EQ(t["site_id"], "td-01");
  EXPECT_EQ(t["truncated"], false);
  ASSERT_EQ(t["points"].size(), 2u) << "from is inclusive, to exclusive";
  EXPECT_EQ(t["points"][0],
            (json{{"t", kT0 + 5000}, {"count", 11}, {"detections", 1}, {"flags", json::array()}}));
  EXPECT_EQ(
      t["points"][1],
      (json{{"t", kT0 + 10000}, {"count", 12}, {"detections", 2}, {"flags", {"dark", "blurred"}}}));

  const auto refused = [&](const std::string& query, int status, const std::string& message) {
    auto r = client_->Get("/api/v1/sites/" + query);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << query;
    EXPECT_THAT(body_of(r)["error"].get<std::string>(), HasSubstr(message)) << query;
  };
  const std::string t0 = std::to_string(kT0);
  refused("td-01/timeline", 400, "from must be a time in ms since the epoch (UTC) (got '')");
  refused("td-01/timeline?from=" + t0, 400, "to must be a time in ms");
  refused("td-01/timeline?from=abc&to=" + t0, 400, "from must be a time in ms");
  refused("td-01/timeline?from=" + t0 + "&to=1e9", 400, "to must be a time in ms");
  refused("td-01/timeline?from=" + t0 + "&to=" + t0, 400, "to must be after from");
  refused("td-01/timeline?from=" + t0 + "&to=" + std::to_string(kT0 + 86'400'001), 400,
          "at most 24 h");
  refused("zz-99/timeline?from=" + t0 + "&to=" + std::to_string(kT0 + 1000), 404, "no site");
  // Exactly 24 h is allowed.
  EXPECT_EQ(
      status("/api/v1/sites/td-02/timeline?from=" + t0 + "&to=" + std::to_string(kT0 + 86'400'000),
             {}),
      200);
}

// The non-loopback IPv4 address of this machine, if it has one.
std::optional<std::string> outside_address() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> found;
  for (ifaddrs* a = list; a && !found; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text);
    if (!std::string(text).starts_with("127.")) found = text;
  }
  freeifaddrs(list);
  return found;
}

TEST_F(AuthService, MetricsNeedATechnicianOrAdminExceptFromLoopback) {
  const auto address = outside_address();
  if (!address) GTEST_SKIP() << "skipped: this machine has no address but loopback";
  stop();
  ServerConfig c = config();
  c.listen_host = "0.0.0.0";
  start(c);
  httplib::Client outside(*address, port_);
  auto anonymous = outside.Get("/metrics");
  ASSERT_TRUE(anonymous) << httplib::to_string(anonymous.error());
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(body_of(anonymous)["code"], "login_required");
  testing::log_in_as(outside, service_->store(), Role::kOrganizer);
  auto organizer = outside.Get("/metrics");
  ASSERT_TRUE(organizer);
  EXPECT_EQ(organizer->status, 403);
  testing::log_in_as(outside, service_->store(), Role::kTechnician);
  auto technician = outside.Get("/metrics");
  ASSERT_TRUE(technician);
  EXPECT_EQ(technician->status, 200);
  EXPECT_THAT(technician->body, HasSubstr("attendance_logins_total{result=\"ok\"} 2\n"));
  auto loopback = client_->Get("/metrics");  // Prometheus on the same host
  ASSERT_TRUE(loopback);
  EXPECT_EQ(loopback->status, 200);
}

// ----------------------------------------------------------------------------------------
// The admin manages users over HTTP: POST /api/v1/users, POST /api/v1/users/{name}

class AdminUsers : public AuthService {
 protected:
  void SetUp() override {
    AuthService::SetUp();
    testing::add_user(service_->store(), "admin", Role::kAdmin);
    testing::add_user(service_->store(), "an", Role::kAuditor);
    admin_ = testing::log_in(*client_, "admin");
    ASSERT_EQ(admin_.size(), 2u);
  }

  struct Answer {
    int status = -1;
    std::string code;  // "" without one
    json body;
  };
  Answer post(const std::string& path, const json& body, const httplib::Headers& headers) {
    auto res = client_->Post(path, headers, body.dump(), "application/json");
    Answer a;
    if (!res) return a;
    a.status = res->status;
    a.body = body_of(res);
    a.code = a.body.is_object() ? a.body.value("code", "") : "";
    return a;
  }
  Answer as_admin(const std::string& path, const json& body) { return post(path, body, admin_); }

  User user(const std::string& name) {
    auto u = service_->store().find_user(name);
    EXPECT_TRUE(u && *u) << name;
    return u && *u ? **u : User{};
  }
  // The audit trail's entries about users (reads of records are there too).
  std::vector<LedgerEntry> audit_trail() {
    LedgerQuery q;
    q.limit = 0;
    std::vector<LedgerEntry> all = service_->store().entries(Chain::kAudit, q).value(), out;
    for (LedgerEntry& e : all) {
      if (e.subject.starts_with("user/")) out.push_back(std::move(e));
    }
    return out;
  }
  int login_status(const std::string& name, const std::string& password) {
    auto res = login(name, password);
    return res ? res->status : -1;
  }

  httplib::Headers admin_;
};

TEST_F(AdminUsers, AddsAUserWhoLogsInWithTheRoleGiven) {
  const Answer added = as_admin(
      "/api/v1/users", {{"name", "chi"}, {"role", "technician"}, {"password", "chi-password-1"}});
  ASSERT_EQ(added.status, 201) << added.body.dump();
  EXPECT_EQ(
      added.body["user"],
      (json{{"name", "chi"}, {"role", "technician"}, {"disabled", false}, {"created_ms", kT0}}));
  EXPECT_THAT(added.body.dump(), Not(HasSubstr("scrypt")));
  EXPECT_THAT(added.body.dump(), Not(HasSubstr("chi-password-1")));
  auto in = login("chi", "chi-password-1");
  ASSERT_TRUE(in);
  ASSERT_EQ(in->status, 200) << in->body;
  EXPECT_EQ(body_of(in)["role"], "technician");
  // The list has it, with the roles and the password rule a new user needs.
  auto list = client_->Get("/api/v1/users", admin_);
  ASSERT_TRUE(list && list->status == 200);
  const json listed = body_of(list);
  ASSERT_EQ(listed["users"].size(), 3u);
  EXPECT_EQ(listed["users"][2]["name"], "chi");
  EXPECT_EQ(listed["roles"], (json{"organizer", "auditor", "technician", "admin"}));
  EXPECT_EQ(listed["name_max_chars"], 64);
  EXPECT_EQ(listed["password_min_chars"], 10);
}

TEST_F(AdminUsers, ABadNameRoleOrPasswordOrATakenNameIsRefusedAndChangesNothing) {
  const std::string hash_before = user("an").password_hash;
  const auto add = [&](const json& name, const json& role, const json& password) {
    const Answer a =
        as_admin("/api/v1/users", {{"name", name}, {"role", role}, {"password", password}});
    return std::pair(a.status, a.code);
  };
  using P = std::pair<int, std::string>;
  EXPECT_EQ(add("an", "admin", "another-password"), (P{409, "user_exists"}));
  EXPECT_EQ(add("Chi", "auditor", "chi-password-1"), (P{400, "bad_user_name"}));
  EXPECT_EQ(add("", "auditor", "chi-password-1"), (P{400, "bad_user_name"}));
  EXPECT_EQ(add(std::string(65, 'c'), "auditor", "chi-password-1"), (P{400, "bad_user_name"}));
  EXPECT_EQ(add("chi", "boss", "chi-password-1"), (P{400, "bad_role"}));
  EXPECT_EQ(add("chi", 3, "chi-password-1"), (P{400, "bad_role"}));
  EXPECT_EQ(add("chi", "auditor", "short-pw1"), (P{400, "weak_password"}));
  EXPECT_EQ(add("chi", "auditor", 1234567890), (P{400, "bad_request"}));
  const Answer weak =
      as_admin("/api/v1/users", {{"name", "chi"}, {"role", "auditor"}, {"password", "mậtkhẩu12"}});
  EXPECT_EQ(weak.body["error"], "the password is too short: 10 characters at least");
  for (const std::string bad : {"", "{", "[]", R"({"name": "chi", "role": "auditor"})"}) {
    auto res = client_->Post("/api/v1/users", admin_, bad, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << bad;
    EXPECT_EQ(body_of(res)["code"], "bad_request") << bad;
  }
  EXPECT_EQ(service_->store().users().value().size(), 2u);
  EXPECT_EQ(user("an").password_hash, hash_before);
  EXPECT_EQ(user("an").role, "auditor");
  EXPECT_TRUE(audit_trail().empty());
}

TEST_F(AdminUsers, OnlyAnAdminWithTheSessionsCsrfTokenManagesUsers) {
  const httplib::Headers auditor = testing::log_in(*client_, "an");
  const json new_user = {{"name", "chi"}, {"role", "admin"}, {"password", "chi-password-1"}};
  const json disable = {{"disabled", true}};
  using P = std::pair<int, std::string>;
  const auto answer = [&](const std::string& path, const json& body, const httplib::Headers& h) {
    const Answer a = post(path, body, h);
    return P{a.status, a.code};
  };
  // Another role: 403 forbidden, whatever it sends.
  EXPECT_EQ(answer("/api/v1/users", new_user, auditor), (P{403, "forbidden"}));
  EXPECT_EQ(answer("/api/v1/users/an", {{"role", "admin"}}, auditor), (P{403, "forbidden"}));
  EXPECT_EQ(answer("/api/v1/users/admin", disable, auditor), (P{403, "forbidden"}));
  // The admin's cookie without the CSRF token, or from another origin: 403 csrf.
  const httplib::Headers cookie_only = {{"Cookie", admin_.find("Cookie")->second}};
  EXPECT_EQ(answer("/api/v1/users", new_user, cookie_only), (P{403, "csrf"}));
  EXPECT_EQ(answer("/api/v1/users/an", disable, cookie_only), (P{403, "csrf"}));
  httplib::Headers elsewhere = admin_;
  elsewhere.emplace("Origin", "https://evil.example");
  EXPECT_EQ(answer("/api/v1/users/an", disable, elsewhere), (P{403, "csrf"}));
  // Without a session: 401.
  EXPECT_EQ(answer("/api/v1/users", new_user, {}), (P{401, "login_required"}));
  EXPECT_EQ(answer("/api/v1/users/an", disable, {}), (P{401, "login_required"}));
  EXPECT_EQ(service_->store().users().value().size(), 2u);
  EXPECT_FALSE(user("an").disabled);
  EXPECT_EQ(user("an").role, "auditor");
  EXPECT_EQ(status("/api/v1/session", auditor), 200) << "its session goes on";
  EXPECT_TRUE(audit_trail().empty());
}

TEST_F(AdminUsers, DisablingEndsTheUsersSessionsAndLoginsAndEnablingLetsItBackIn) {
  const httplib::Headers auditor = testing::log_in(*client_, "an");
  ASSERT_EQ(status("/api/v1/ledger", auditor), 200);
  const Answer off = as_admin("/api/v1/users/an", {{"disabled", true}});
  ASSERT_EQ(off.status, 200) << off.body.dump();
  EXPECT_EQ(off.body["user"]["disabled"], true);
  EXPECT_EQ(off.body["user"]["role"], "auditor");
  EXPECT_EQ(status("/api/v1/ledger", auditor), 401) << "its session ended";
  EXPECT_EQ(status("/api/v1/session", admin_), 200) << "the admin's goes on";
  auto refused = login("an", kPassword);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(body_of(refused)["code"], "bad_credentials");

  const Answer on = as_admin("/api/v1/users/an", {{"disabled", false}});
  ASSERT_EQ(on.status, 200) << on.body.dump();
  EXPECT_EQ(on.body["user"]["disabled"], false);
  EXPECT_EQ(login_status("an", kPassword), 200);
  const auto trail = audit_trail();
  ASSERT_EQ(trail.size(), 2u);
  EXPECT_EQ(trail[0].body, R"({"disabled":{"from":false,"to":true},"user":"an"})");
  EXPECT_EQ(trail[1].body, R"({"disabled":{"from":true,"to":false},"user":"an"})");
}

TEST_F(AdminUsers, AResetPasswordEndsTheSessionsTheOldOneFailsAndTheNewOneWorks) {
  const httplib::Headers auditor = testing::log_in(*client_, "an");
  const std::string hash_before = user("an").password_hash;
  const Answer weak = as_admin("/api/v1/users/an", {{"password", "short"}});
  EXPECT_EQ(std::pair(weak.status, weak.code), std::pair(400, std::string("weak_password")));
  EXPECT_EQ(user("an").password_hash, hash_before);
  EXPECT_EQ(status("/api/v1/session", auditor), 200) << "a refused change ends nothing";

  const Answer reset = as_admin("/api/v1/users/an", {{"password", "a-new-password-1"}});
  ASSERT_EQ(reset.status, 200) << reset.body.dump();
  EXPECT_EQ(reset.body["user"]["name"], "an");
  EXPECT_THAT(reset.body.dump(), Not(HasSubstr("a-new-password-1")));
  EXPECT_EQ(status("/api/v1/session", auditor), 401) << "its session ended";
  EXPECT_EQ(login_status("an", kPassword), 401) << "the old password";
  EXPECT_EQ(login_status("an", "a-new-password-1"), 200) << "the new password";
  const auto trail = audit_trail();
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0].body, R"({"password":"reset","user":"an"})");
}

TEST_F(AdminUsers, ARoleChangeEndsTheSessionsAndTheNextLoginHasTheNewRole) {
  const httplib::Headers auditor = testing::log_in(*client_, "an");
  // The role it has already: nothing is written, its session goes on.
  const Answer same = as_admin("/api/v1/users/an", {{"role", "auditor"}, {"disabled", false}});
  ASSERT_EQ(same.status, 200) << same.body.dump();
  EXPECT_EQ(status("/api/v1/session", auditor), 200);
  EXPECT_TRUE(audit_trail().empty());

  const Answer changed = as_admin("/api/v1/users/an", {{"role", "organizer"}});
  ASSERT_EQ(changed.status, 200) << changed.body.dump();
  EXPECT_EQ(changed.body["user"]["role"], "organizer");
  EXPECT_EQ(status("/api/v1/session", auditor), 401) << "its session ended";
  const httplib::Headers organizer = testing::log_in(*client_, "an");
  auto who = client_->Get("/api/v1/session", organizer);
  ASSERT_TRUE(who && who->status == 200);
  EXPECT_EQ(body_of(who)["role"], "organizer");
  EXPECT_EQ(status("/api/v1/ledger", organizer), 403) << "no longer an auditor";
  EXPECT_EQ(status("/api/v1/roll-calls", organizer), 200);

  // Role and state in one change: one entry naming both.
  const Answer both = as_admin("/api/v1/users/an", {{"role", "technician"}, {"disabled", true}});
  ASSERT_EQ(both.status, 200) << both.body.dump();
  const auto trail = audit_trail();
  ASSERT_EQ(trail.size(), 2u);
  EXPECT_EQ(trail[0].kind, "user_changed");
  EXPECT_EQ(trail[0].body, R"({"role":{"from":"auditor","to":"organizer"},"user":"an"})");
  EXPECT_EQ(trail[1].body,
            R"({"disabled":{"from":false,"to":true},"role":{"from":"organizer","to":"technician"},)"
            R"("user":"an"})");
}

TEST_F(AdminUsers, AnAdminCannotDisableOrDemoteThemself) {
  using P = std::pair<int, std::string>;
  const auto change = [&](const json& body) {
    const Answer a = as_admin("/api/v1/users/admin", body);
    return P{a.status, a.code};
  };
  EXPECT_EQ(change({{"disabled", true}}), (P{400, "cannot_change_self"}));
  EXPECT_EQ(change({{"role", "auditor"}}), (P{400, "cannot_change_self"}));
  EXPECT_EQ(change({{"role", "organizer"}, {"password", "a-new-password-1"}}),
            (P{400, "cannot_change_self"}));
  EXPECT_EQ(change({{"role", "admin"}, {"disabled", false}}), (P{200, ""})) << "no change";
  EXPECT_EQ(user("admin").role, "admin");
  EXPECT_FALSE(user("admin").disabled);
  EXPECT_EQ(login_status("admin", kPassword), 200) << "the old password still";
  EXPECT_EQ(status("/api/v1/session", admin_), 200);
  EXPECT_TRUE(audit_trail().empty());
  // Another admin may.
  testing::add_user(service_->store(), "binh", Role::kAdmin);
  const Answer by_other =
      post("/api/v1/users/admin", {{"role", "auditor"}}, testing::log_in(*client_, "binh"));
  EXPECT_EQ(by_other.status, 200) << by_other.body.dump();
  EXPECT_EQ(user("admin").role, "auditor");
  EXPECT_EQ(status("/api/v1/session", admin_), 401);
}

TEST_F(AdminUsers, AnUnknownUserIs404AndAMalformedChange400) {
  using P = std::pair<int, std::string>;
  const auto change = [&](const std::string& name, const json& body) {
    const Answer a = as_admin("/api/v1/users/" + name, body);
    return P{a.status, a.code};
  };
  EXPECT_EQ(change("nobody", {{"disabled", true}}), (P{404, "unknown_user"}));
  EXPECT_EQ(change("NoBody", {{"disabled", true}}), (P{404, "unknown_user"}));
  EXPECT_EQ(change("an", json::object()), (P{400, "bad_request"}));
  EXPECT_EQ(change("an", {{"disable", true}}), (P{400, "bad_request"})) << "a misspelt field";
  EXPECT_EQ(change("an", {{"disabled", "yes"}}), (P{400, "bad_request"}));
  EXPECT_EQ(change("an", {{"password", 1234567890}}), (P{400, "bad_request"}));
  EXPECT_EQ(change("an", {{"role", "boss"}}), (P{400, "bad_role"}));
  EXPECT_EQ(change("an", {{"role", "admin"}, {"password", "short"}}), (P{400, "weak_password"}));
  auto not_json = client_->Post("/api/v1/users/an", admin_, "disabled=1", "application/json");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);
  auto too_deep = client_->Post("/api/v1/users/an/more", admin_, "{}", "application/json");
  ASSERT_TRUE(too_deep);
  EXPECT_EQ(too_deep->status, 404);
  EXPECT_EQ(user("an").role, "auditor");
  EXPECT_FALSE(user("an").disabled);
  EXPECT_TRUE(audit_trail().empty());
}

TEST_F(AdminUsers, EveryChangeIsInTheAuditTrailWithWhoWhomAndWhatButNoPassword) {
  ASSERT_EQ(as_admin("/api/v1/users",
                     {{"name", "chi"}, {"role", "auditor"}, {"password", "chi-password-1"}})
                .status,
            201);
  ASSERT_EQ(as_admin("/api/v1/users/chi", {{"disabled", true}}).status, 200);
  ASSERT_EQ(as_admin("/api/v1/users/chi", {{"disabled", false}}).status, 200);
  ASSERT_EQ(as_admin("/api/v1/users/chi", {{"password", "chi-password-2"}}).status, 200);
  ASSERT_EQ(as_admin("/api/v1/users/chi", {{"role", "organizer"}}).status, 200);
  const auto trail = audit_trail();
  ASSERT_EQ(trail.size(), 5u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"user_added", R"({"disabled":false,"role":"auditor","user":"chi"})"},
      {"user_changed", R"({"disabled":{"from":false,"to":true},"user":"chi"})"},
      {"user_changed", R"({"disabled":{"from":true,"to":false},"user":"chi"})"},
      {"user_changed", R"({"password":"reset","user":"chi"})"},
      {"user_changed", R"({"role":{"from":"auditor","to":"organizer"},"user":"chi"})"},
  };
  for (size_t i = 0; i < trail.size(); ++i) {
    EXPECT_EQ(trail[i].kind, expected[i].first) << i;
    EXPECT_EQ(trail[i].body, expected[i].second) << i;
    EXPECT_EQ(trail[i].subject, "user/chi") << i;
    EXPECT_EQ(trail[i].actor, "admin@127.0.0.1") << i;
    EXPECT_EQ(trail[i].site_id, "") << i;
    EXPECT_EQ(trail[i].at_ms, kT0) << i;
  }
  // Nowhere in the database is a password as typed.
  testing::RawDb raw(dir_ / "data" / "attendance.db");
  for (const std::string password : {"chi-password-1", "chi-password-2"}) {
    EXPECT_EQ(raw.integer("SELECT COUNT(*) FROM audit_trail WHERE body LIKE '%" + password +
                          "%' OR subject LIKE '%" + password + "%'"),
              0);
    EXPECT_EQ(
        raw.integer("SELECT COUNT(*) FROM users WHERE password_hash LIKE '%" + password + "%'"), 0);
  }
  // The chain holds them.
  auto verify = client_->Get("/api/v1/ledger/verify", admin_);
  ASSERT_TRUE(verify && verify->status == 200);
  EXPECT_EQ(body_of(verify)["intact"], true);
  EXPECT_EQ(body_of(verify)["audit_entries"], 6) << "the five changes and this verification";
}

// ----------------------------------------------------------------------------------------
// The access table, endpoint by endpoint, as every role and without a login. Each row says
// what each caller gets: 401 and 403 from the access check (login_required, forbidden), any
// other status from the route itself. Rows run in order; logout is last.

enum class Send { kNothing, kJson, kLogin, kSignedFrame, kSignedHeartbeat };

struct Call {
  const char* method;
  const char* path;
  int nobody, organizer, auditor, technician, admin;
  Send send = Send::kNothing;
};

// clang-format off
const Call kCalls[] = {
  // method  path                                          nobody org  aud  tech admin
  {"GET",  "/healthz",                                     200,   200, 200, 200, 200},
  {"GET",  "/",                                            200,   200, 200, 200, 200},
  {"POST", "/api/v1/frames",                               201,   201, 201, 201, 201, Send::kSignedFrame},
  {"POST", "/api/v1/health",                               201,   201, 201, 201, 201, Send::kSignedHeartbeat},
  {"POST", "/api/v1/login",                                200,   200, 200, 200, 200, Send::kLogin},
  {"GET",  "/api/v1/session",                              401,   200, 200, 200, 200},
  {"GET",  "/metrics",                                     200,   200, 200, 200, 200},  // loopback
  {"GET",  "/api/v1/status",                               401,   200, 200, 200, 200},
  {"GET",  "/api/v1/sites",                                401,   200, 200, 200, 200},
  {"GET",  "/api/v1/sites/td-01/latest",                   401,   200, 200, 200, 200},
  {"GET",  "/api/v1/sites/td-01/latest.jpg",               401,   200, 200, 200, 200},
  {"GET",  "/api/v1/sites/td-01/timeline?from=0&to=1",     401,   200, 200, 200, 200},
  {"GET",  "/api/v1/events",                               401,   200, 200, 200, 200},
  {"GET",  "/api/v1/alerts",                               401,   200, 200, 200, 200},
  {"GET",  "/api/v1/sites/td-01/live.mjpeg",               401,   403, 403, 200, 200},
  {"POST", "/api/v1/sites/td-01/live",                     401,   403, 403, 200, 200},
  {"GET",  "/api/v1/roll-calls",                           401,   200, 200, 403, 200},
  {"GET",  "/api/v1/summaries",                            401,   200, 200, 403, 200},
  {"GET",  "/api/v1/rollup",                               401,   200, 200, 403, 200},
  {"GET",  "/api/v1/evidence/td-01/table.jpg",             401,   200, 200, 403, 200},
  {"GET",  "/api/v1/reports/sites/td-01.html",             401,   200, 200, 403, 200},
  {"GET",  "/api/v1/reports/district.html?name=M%C6%B0%E1%BB%9Dng%20T%C3%A8",
                                                           401,   200, 200, 403, 200},
  {"GET",  "/api/v1/ledger",                               401,   403, 200, 403, 200},
  {"GET",  "/api/v1/ledger/verify",                        401,   403, 200, 403, 200},
  {"GET",  "/api/v1/exports/roll-calls.csv",               401,   403, 200, 403, 200},
  {"GET",  "/api/v1/exports/alerts.csv",                   401,   403, 200, 403, 200},
  {"GET",  "/api/v1/exports/summaries.csv",                401,   403, 200, 403, 200},
  {"GET",  "/api/v1/exports/rollups.csv",                  401,   403, 200, 403, 200},
  {"POST", "/api/v1/roll-calls/corrections",               401,   403, 404, 403, 403, Send::kJson},
  {"GET",  "/api/v1/users",                                401,   403, 403, 403, 200},
  {"POST", "/api/v1/users",                                401,   403, 403, 403, 400, Send::kJson},  // not a user
  {"POST", "/api/v1/users/organizer",                      401,   403, 403, 403, 400, Send::kJson},  // not a change
  // Named by no rule: refused before any route (default deny).
  {"GET",  "/api/v1/nothing",                              404,   404, 404, 404, 404},
  {"DELETE", "/api/v1/sites",                              404,   404, 404, 404, 404},
  {"GET",  "/api/v2/status",                               404,   404, 404, 404, 404},
  {"POST", "/api/v1/logout",                               401,   200, 200, 200, 200},
};
// clang-format on

class AccessTable : public AuthService {};

TEST_F(AccessTable, EveryEndpointAnswersEveryCallerAsTheTableSays) {
  Store& store = service_->store();
  // Something to read: a frame of td-01 (latest, latest.jpg, live view) and an evidence file.
  auto frame =
      testing::post_signed(*client_, wire::kFramesPath, "td-01", "1", std::to_string(kT0 - 60'000),
                           testing::synthetic_jpeg(320, 240), wire::kJpegContentType);
  ASSERT_TRUE(frame && frame->status == 201);
  testing::write_file(dir_ / "data" / "evidence" / "td-01" / "table.jpg",
                      testing::synthetic_jpeg(64, 48));

  struct Caller {
    std::string name;
    httplib::Headers headers;  // its cookie and CSRF token; none without a login
  };
  std::vector<Caller> callers = {{"nobody", {}}};
  for (Role role : {Role::kOrganizer, Role::kAuditor, Role::kTechnician, Role::kAdmin}) {
    httplib::Client login_client("127.0.0.1", port_);
    callers.push_back(
        {std::string(to_string(role)), testing::log_in_as(login_client, store, role)});
    ASSERT_FALSE(callers.back().headers.empty());
  }

  // The session's capabilities say what the same table lets each role call: a capability is
  // listed exactly when its route lets the role through (anything but 401 and 403 below).
  const std::map<std::string, std::string> route_of = {
      {"metrics", "/metrics"},
      {"sites", "/api/v1/sites"},
      {"live", "/api/v1/sites/td-01/live"},
      {"records", "/api/v1/roll-calls"},
      {"reports", "/api/v1/reports/sites/td-01.html"},
      {"ledger", "/api/v1/ledger"},
      {"exports", "/api/v1/exports/alerts.csv"},
      {"correct", "/api/v1/roll-calls/corrections"},
      {"users", "/api/v1/users"}};
  for (size_t i = 1; i < callers.size(); ++i) {
    httplib::Client client("127.0.0.1", port_);
    auto session = client.Get("/api/v1/session", callers[i].headers);
    ASSERT_TRUE(session && session->status == 200) << callers[i].name;
    const json capabilities = json::parse(session->body)["capabilities"];
    for (const auto& [capability, path] : route_of) {
      const Call* call = nullptr;
      for (const Call& c : kCalls) {
        if (std::string(c.path) == path) call = &c;
      }
      ASSERT_NE(call, nullptr) << path;
      const int expected[] = {call->nobody, call->organizer, call->auditor, call->technician,
                              call->admin};
      const bool allowed = path == std::string("/metrics")
                               ? i == 3 || i == 4  // loopback lets everyone in; the roles: these
                               : expected[i] != 401 && expected[i] != 403;
      const bool listed = std::ranges::find(capabilities, json(capability)) != capabilities.end();
      EXPECT_EQ(listed, allowed) << callers[i].name << ": " << capability;
    }
  }

  int sequence = 100;
  for (const Call& call : kCalls) {
    const int expected[] = {call.nobody, call.organizer, call.auditor, call.technician, call.admin};
    for (size_t i = 0; i < callers.size(); ++i) {
      const Caller& caller = callers[i];
      httplib::Client client("127.0.0.1", port_);
      client.set_read_timeout(10);
      int status = -1;
      std::string body;
      const std::string method = call.method;
      if (method == "GET") {
        // Streams (events, MJPEG) are left after their first bytes.
        bool stream = false;
        client.Get(
            call.path, caller.headers,
            [&](const httplib::Response& r) {
              status = r.status;
              const std::string type = r.get_header_value("Content-Type");
              stream = type.starts_with("text/event-stream") || type.starts_with("multipart/");
              return true;
            },
            [&](const char* data, size_t n) {
              body.append(data, n);
              return !stream;
            });
      } else if (method == "POST" && call.send == Send::kSignedFrame) {
        auto r = testing::post_signed(client, wire::kFramesPath, "td-02",
                                      std::to_string(++sequence), std::to_string(kT0),
                                      testing::synthetic_jpeg(160, 120), wire::kJpegContentType);
        if (r) status = r->status, body = r->body;
      } else if (method == "POST" && call.send == Send::kSignedHeartbeat) {
        auto r =
            testing::post_signed(client, wire::kHealthPath, "mt-01", std::to_string(++sequence),
                                 std::to_string(kT0), "{}", wire::kJsonContentType);
        if (r) status = r->status, body = r->body;
      } else if (method == "POST") {
        const std::string json_body =
            call.send == Send::kLogin ? json{{"user", "organizer"}, {"password", kPassword}}.dump()
            : call.send == Send::kJson
                ? json{{"subject", "roll_call/td-01/2026-07-12/morning/0745"},
                       {"counted", 3},
                       {"reason", "recount"}}
                      .dump()
                : "";
        auto r = client.Post(call.path, caller.headers, json_body, "application/json");
        if (r) status = r->status, body = r->body;
      } else {
        httplib::Request req;
        req.method = method;
        req.path = call.path;
        req.headers = caller.headers;
        auto r = client.send(req);
        if (r) status = r->status, body = r->body;
      }
      EXPECT_EQ(status, expected[i]) << caller.name << ": " << call.method << " " << call.path
                                     << " -> " << body.substr(0, 200);
      const json answer = json::parse(body, nullptr, /*allow_exceptions=*/false);
      const std::string code = answer.is_object() ? answer.value("code", "") : "";
      if (status == 401 && expected[i] == 401) {
        EXPECT_EQ(code, "login_required") << call.path;
      }
      if (status == 403 && expected[i] == 403) {
        EXPECT_EQ(code, "forbidden") << call.path;
      }
    }
  }
}

// ----------------------------------------------------------------------------------------
// `attendance-server users`, run as a process

// A minimal valid server.yaml (the three sites of small_province()) and runs of the command
// with a given stdin.
struct UsersCli {
  testing::TempDir dir;
  fs::path yaml = testing::write_small_server_yaml(dir.path(), "log_level: warn\n");

  testing::CommandRun run(const std::vector<std::string>& args, const std::string& input = "") {
    std::vector<std::string> all{ATTENDANCE_SERVER_BIN, "--config", yaml.string()};
    all.insert(all.end(), args.begin(), args.end());
    return testing::run_command(all, dir.path(), input);
  }

  fs::path database() const { return dir / "data" / "attendance.db"; }
  std::string hash_of(const std::string& name) {
    testing::RawDb raw(database());
    return raw.scalar("SELECT password_hash FROM users WHERE name = '" + name + "'");
  }
};

TEST(UsersCommand, AddsListsAndRefusesBadInputChangingNothing) {
  UsersCli cli;
  const testing::CommandRun added =
      cli.run({"users", "add", "an", "--role", "auditor"}, "secret-pass1\n");
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_THAT(added.err, HasSubstr("user an (auditor) added"));
  const std::string hash = cli.hash_of("an");
  EXPECT_TRUE(hash.starts_with("scrypt$15$8$1$")) << hash;
  EXPECT_EQ(verify_password("secret-pass1", hash), true) << "the line, without its newline";

  const testing::CommandRun second =
      cli.run({"users", "add", "binh.tran", "--role", "admin"}, "another-pass\r\n");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(verify_password("another-pass", cli.hash_of("binh.tran")), true) << "CRLF too";

  const auto refused = [&](const std::vector<std::string>& args, const std::string& input,
                           const std::string& message) {
    const testing::CommandRun run = cli.run(args, input);
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_THAT(run.err, HasSubstr(message));
  };
  refused({"users", "add", "an", "--role", "admin"}, "a-third-password\n",
          "user 'an' already exists");
  refused({"users", "add", "chi", "--role", "organizer"}, "short\n",
          "the password is too short: 10 characters at least");
  refused({"users", "add", "chi", "--role", "organizer"}, "", "no password on stdin");
  refused({"users", "add", "chi", "--role", "boss"}, "long-enough-pw\n",
          "--role must be organizer, auditor, technician or admin (got 'boss')");
  refused({"users", "add", "Chi", "--role", "organizer"}, "long-enough-pw\n",
          "user name 'Chi' is not 1 to 64 of a-z, 0-9");
  refused({"users", "passwd", "nobody"}, "long-enough-pw\n", "no user 'nobody'");
  refused({"users", "disable", "nobody"}, "", "no user 'nobody'");
  EXPECT_EQ(cli.hash_of("an"), hash) << "the refused add changed nothing";

  const testing::CommandRun list = cli.run({"users", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(std::regex_search(list.out, std::regex(R"(^NAME +ROLE +STATE +CREATED\n)")))
      << list.out;
  EXPECT_TRUE(std::regex_search(list.out, std::regex(R"(\nan +auditor +active +20\d\d-)")))
      << list.out;
  EXPECT_TRUE(std::regex_search(list.out, std::regex(R"(\nbinh\.tran +admin +active +20\d\d-)")))
      << list.out;
  EXPECT_THAT(list.out, Not(HasSubstr("chi")));
  EXPECT_THAT(list.out, Not(HasSubstr("scrypt")));
  testing::RawDb raw(cli.database());
  EXPECT_EQ(raw.integer("SELECT COUNT(*) FROM users"), 2);
}

TEST(UsersCommand, WorksBesideTheRunningServiceWhichSeesEachChangeAtOnce) {
  UsersCli cli;
  auto config = load_server_config(cli.yaml);
  ASSERT_TRUE(config) << config.error().message;
  config->listen_port = 0;
  config->detector.name = "haar";  // cheap: no frame is sent here
  auto service = Service::create(std::move(*config));
  ASSERT_TRUE(service) << service.error().message;
  auto port = (*service)->start();
  ASSERT_TRUE(port) << port.error().message;
  httplib::Client client("127.0.0.1", *port);

  ASSERT_EQ(cli.run({"users", "add", "an", "--role", "technician"}, "secret-pass1\n").exit_code, 0);
  const httplib::Headers session = testing::log_in(client, "an", "secret-pass1");
  ASSERT_FALSE(session.empty());
  auto live = client.Post("/api/v1/sites/td-01/live", session, "", "application/json");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200) << live->body;

  const testing::CommandRun passwd = cli.run({"users", "passwd", "an"}, "secret-pass2\n");
  ASSERT_EQ(passwd.exit_code, 0) << passwd.err;
  EXPECT_THAT(passwd.err, HasSubstr("its sessions ended"));
  auto after = client.Get("/api/v1/status", session);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 401) << "a new password ends the sessions";
  const httplib::Headers again = testing::log_in(client, "an", "secret-pass2");
  ASSERT_FALSE(again.empty());

  const testing::CommandRun disabled = cli.run({"users", "disable", "an"});
  ASSERT_EQ(disabled.exit_code, 0) << disabled.err;
  auto out = client.Get("/api/v1/status", again);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 401);
  auto login =
      client.Post("/api/v1/login", json{{"user", "an"}, {"password", "secret-pass2"}}.dump(),
                  "application/json");
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, 401);
  const testing::CommandRun list = cli.run({"users", "list"});
  EXPECT_TRUE(std::regex_search(list.out, std::regex(R"(\nan +technician +disabled )")))
      << list.out;
}

}  // namespace
}  // namespace att
