// HttpApi's routes for logins and sessions: logging in (the session's cookie and CSRF token),
// logging out, the caller's session and capabilities, and the list of users.
#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/web/api_service.h"
#include "analysis/web/auth.h"
#include "analysis/web/http_util.h"

namespace att {

using nlohmann::json;

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
  for (const User& u : *users) {  // never the hash
    list.push_back({{"name", u.name},
                    {"role", u.role},
                    {"disabled", u.disabled},
                    {"created_ms", u.created_ms}});
  }
  send_json(res, 200, {{"users", std::move(list)}});
}

}  // namespace att
