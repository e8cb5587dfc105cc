// HttpApi's routes for logins and sessions: logging in (the session's cookie and CSRF token),
// logging out, the caller's session and capabilities, and the admin's users: the list, a new
// user, and changes of a user (role, state, password), each written to the audit trail.
#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "analysis/domain/ledger.h"
#include "analysis/web/api_service.h"
#include "analysis/web/auth.h"
#include "analysis/web/http_util.h"
#include "analysis/web/passwords.h"

namespace att {

using nlohmann::json;

namespace {

// A user as the API shows one: never its hash.
json user_json(const User& u) {
  return {
      {"name", u.name}, {"role", u.role}, {"disabled", u.disabled}, {"created_ms", u.created_ms}};
}

// Auth's refusal of a user change, for the client: its code decides the answer.
void send_user_error(httplib::Response& res, const Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalid:
      return send_error(res, 400, "bad_request", e.message);
    case ErrorCode::kConflict:
      return send_error(res, 409, "user_exists", e.message);
    case ErrorCode::kNotFound:
      return send_error(res, 404, "unknown_user", e.message);
    case ErrorCode::kUnavailable:
      res.set_header("Retry-After", "1");
      return send_error(res, 503, "busy", e.message);
    default:
      log::get("http")->error("users: {}", e.message);
      return send_error(res, 503, "storage_failed", "cannot change the users now; try again");
  }
}

// The role named in a request, or none with a 400 bad_role in `res`.
std::optional<Role> role_of(const json& value, httplib::Response& res) {
  const std::optional<Role> role =
      value.is_string() ? parse_role(value.get<std::string>()) : std::nullopt;
  if (!role) {
    std::string roles;
    for (Role r : kRoles) roles += (roles.empty() ? "" : ", ") + std::string(to_string(r));
    send_error(res, 400, "bad_role", "role must be one of " + roles);
  }
  return role;
}

// Whether `password` may be set, or false with a 400 weak_password in `res`.
bool password_ok(const std::string& password, httplib::Response& res) {
  if (auto ok = check_password(password); !ok) {
    send_error(res, 400, "weak_password", ok.error().message);
    return false;
  }
  return true;
}

}  // namespace

std::string ApiService::session_cookie(const httplib::Request& req, const std::string& token,
                                       bool end) const {
  std::string cookie =
      std::string(kSessionCookie) + "=" + token + "; Path=/; HttpOnly; SameSite=Strict";
  if (end) cookie += "; Max-Age=0";
  if (client(req).https) cookie += "; Secure";
  return cookie;
}

// {"user", "password"} -> the session's cookie and {"user", "role", "capabilities",
// "csrf_token", "expires_ms"}; 401 bad_credentials whatever was wrong; 429 too_many_attempts.
void ApiService::post_login(const httplib::Request& req, httplib::Response& res) {
  std::string type = req.get_header_value("Content-Type");
  type = type.substr(0, type.find(';'));
  std::ranges::transform(type, type.begin(), [](unsigned char c) { return std::tolower(c); });
  while (type.ends_with(' ')) type.pop_back();
  if (type != "application/json") {
    return send_error(res, 415, "unsupported_media_type",
                      "a login is JSON: Content-Type: application/json");
  }
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("user") || !body["user"].is_string() ||
      !body.contains("password") || !body["password"].is_string()) {
    return send_error(res, 400, "bad_request", "expected JSON {\"user\": ..., \"password\": ...}");
  }
  auto login = auth.login(body["user"].get<std::string>(), body["password"].get<std::string>(),
                          client(req).address);
  if (!login) {
    log->error("login: {}", login.error().message);
    return send_error(res, 503, "storage_failed", "cannot log in now; try again");
  }
  switch (login->outcome) {
    case LoginResult::Outcome::kThrottled:
      res.set_header("Retry-After", std::to_string(login->retry_after_s));
      return send_error(res, 429, "too_many_attempts",
                        "too many failed logins for this user from this address; try again in " +
                            std::to_string(login->retry_after_s) + " s");
    case LoginResult::Outcome::kBusy:
      res.set_header("Retry-After", std::to_string(login->retry_after_s));
      return send_error(res, 503, "busy", "too many logins at once; try again in a moment");
    case LoginResult::Outcome::kBadCredentials:
      return send_error(res, 401, "bad_credentials", "wrong user name or password");
    case LoginResult::Outcome::kOk:
      break;
  }
  const Identity& who = login->identity;
  res.set_header("Set-Cookie", session_cookie(req, login->token, /*end=*/false));
  send_json(res, 200,
            {{"user", who.user},
             {"role", to_string(who.role)},
             {"capabilities", routes_->capabilities(who.role)},
             {"csrf_token", who.csrf_token},
             {"expires_ms", who.expires_ms}});
}

void ApiService::post_logout(const httplib::Request& req, httplib::Response& res) {
  if (auto ended = auth.logout(cookie_value(req, kSessionCookie)); !ended) {
    log->error("logout: {}", ended.error().message);
    return send_error(res, 503, "storage_failed", "cannot log out now; try again");
  }
  res.set_header("Set-Cookie", session_cookie(req, "", /*end=*/true));
  send_json(res, 200, {{"status", "logged_out"}});
}

void ApiService::get_session(const httplib::Request& req, httplib::Response& res) {
  const auto who = session_of(auth, req, res);
  if (!who) return;
  send_json(res, 200,
            {{"user", who->user},
             {"role", to_string(who->role)},
             {"capabilities", routes_->capabilities(who->role)},
             {"csrf_token", who->csrf_token},
             {"expires_ms", who->expires_ms}});
}

void ApiService::get_users(const httplib::Request&, httplib::Response& res) {
  auto users = store.users();
  if (!users) {
    log->error("users: {}", users.error().message);
    return send_error(res, 503, "storage_failed", "cannot read the users");
  }
  json list = json::array();
  for (const User& u : *users) list.push_back(user_json(u));
  json roles = json::array();
  for (Role r : kRoles) roles.push_back(to_string(r));
  // What a new user needs, for the admin's page to offer and state (the rules stay here).
  send_json(res, 200,
            {{"users", std::move(list)},
             {"roles", std::move(roles)},
             {"name_max_chars", kUserNameMaxBytes},
             {"password_min_chars", kPasswordMinChars}});
}

bool ApiService::audit_change(const httplib::Request& req, httplib::Response& res,
                              const Identity& who, const std::string& kind,
                              const std::string& subject, const json& body) {
  auto canonical = canonical_body(body);
  LedgerEntry e;
  e.kind = kind;
  e.subject = subject;
  e.at_ms = clock();
  e.actor = who.user + "@" + client(req).address;
  e.body = canonical ? std::move(*canonical) : "{}";
  if (auto a = store.append(Chain::kAudit, std::move(e)); !a) {
    log->error("audit trail: {} of '{}' by {} is made but not written: {}", kind, subject, who.user,
               a.error().message);
    send_error(res, 503, "audit_failed",
               "the change is made, but the audit trail cannot be written: " + a.error().message);
    return false;
  }
  return true;
}

// {"name", "role", "password"} -> 201 {"user"}.
void ApiService::post_user(const httplib::Request& req, httplib::Response& res) {
  const auto who = session_of(auth, req, res);
  if (!who) return;
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("name") || !body["name"].is_string() ||
      !body.contains("role") || !body.contains("password") || !body["password"].is_string()) {
    return send_error(res, 400, "bad_request",
                      "expected JSON {\"name\": ..., \"role\": ..., \"password\": ...}");
  }
  const std::string name = body["name"].get<std::string>();
  const std::string password = body["password"].get<std::string>();
  if (auto ok = check_user_name(name); !ok) {
    return send_error(res, 400, "bad_user_name", ok.error().message);
  }
  const std::optional<Role> role = role_of(body["role"], res);
  if (!role || !password_ok(password, res)) return;
  auto added = auth.add_user(name, *role, password);
  if (!added) return send_user_error(res, added.error());
  log->info("user '{}' ({}) added by {}", name, to_string(*role), who->user);
  if (!audit_change(req, res, *who, "user_added", "user/" + name,
                    {{"user", name}, {"role", added->role}, {"disabled", added->disabled}})) {
    return;
  }
  send_json(res, 201, {{"user", user_json(*added)}});
}

// Any of {"role", "disabled", "password"} -> 200 {"user"}.
void ApiService::post_user_change(const httplib::Request& req, httplib::Response& res) {
  const auto who = session_of(auth, req, res);
  if (!who) return;
  const std::string name = req.matches[1];
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  const auto bad = [&](const std::string& why) {
    send_error(res, 400, "bad_request",
               why +
                   "; expected JSON with any of \"role\", \"disabled\" (true or false), "
                   "\"password\"");
  };
  if (!body.is_object() || body.empty()) return bad("nothing to change");
  for (const auto& field : body.items()) {
    const std::string& key = field.key();
    if (key != "role" && key != "disabled" && key != "password")
      return bad("unknown field '" + printable_name(key) + "'");
  }
  UserChange change;
  if (body.contains("role")) {
    change.role = role_of(body["role"], res);
    if (!change.role) return;
  }
  if (body.contains("disabled")) {
    if (!body["disabled"].is_boolean()) return bad("\"disabled\" is not true or false");
    change.disabled = body["disabled"].get<bool>();
  }
  if (body.contains("password")) {
    if (!body["password"].is_string()) return bad("\"password\" is not a string");
    change.password = body["password"].get<std::string>();
    if (!password_ok(*change.password, res)) return;
  }
  if (!check_user_name(name)) {
    return send_error(res, 404, "unknown_user", "no user '" + printable_name(name) + "'");
  }
  if (auto own = Auth::check_own_change(who->user, name, change); !own) {
    return send_error(res, 400, "cannot_change_self", own.error().message);
  }
  auto changed = auth.change_user(name, change, who->user);
  if (!changed) return send_user_error(res, changed.error());
  // What changed, for the audit trail: never the password, only that it was reset.
  const User &before = changed->before, &after = changed->after;
  json what = json::object();
  if (after.role != before.role) what["role"] = {{"from", before.role}, {"to", after.role}};
  if (after.disabled != before.disabled)
    what["disabled"] = {{"from", before.disabled}, {"to", after.disabled}};
  if (change.password) what["password"] = "reset";
  if (!what.empty()) {
    log->info("user '{}' changed by {}: {}", name, who->user, what.dump());
    what["user"] = name;
    if (!audit_change(req, res, *who, "user_changed", "user/" + name, what)) return;
  }
  send_json(res, 200, {{"user", user_json(after)}});
}

}  // namespace att
