// The JSON answers every HTTP handler of the service gives: a body, or an error with a
// sentence for people ("error") and a stable code for programs ("code"); and the session a
// request comes with.
#pragma once

#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "analysis/web/auth.h"
#include "analysis/web/request_checks.h"
#include "common/log.h"

namespace att {

inline void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  // Answers quote what the request said (a site, a parameter) and a request's bytes need not
  // be UTF-8: invalid sequences become U+FFFD instead of an exception (a 500).
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

inline void send_error(httplib::Response& res, int status, const std::string& code,
                       const std::string& message) {
  send_json(res, status, {{"error", message}, {"code", code}});
}

// Who sent the request (request_checks.h): its address and whether it came over HTTPS
// (`tls`: the service itself serves HTTPS).
inline Client client_of(const httplib::Request& req, const std::vector<std::string>& trusted,
                        bool tls = false) {
  return client_of(req.remote_addr, tls, req.get_header_value("X-Forwarded-For"),
                   req.get_header_value("X-Forwarded-Proto"), trusted);
}

// The value of the cookie `name` among the request's Cookie headers; "" when it has none.
inline std::string cookie_value(const httplib::Request& req, std::string_view name) {
  for (size_t i = 0; i < req.get_header_value_count("Cookie"); ++i) {
    const std::string header = req.get_header_value("Cookie", i);
    std::string_view rest = header;
    while (!rest.empty()) {
      const size_t end = std::min(rest.find(';'), rest.size());
      std::string_view pair = rest.substr(0, end);
      rest.remove_prefix(std::min(end + 1, rest.size()));
      while (pair.starts_with(' ')) pair.remove_prefix(1);
      if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=')
        return std::string(pair.substr(name.size() + 1));
    }
  }
  return "";
}

// The request's session, or none with the answer already in `res`: 401 login_required
// without a live one, 503 when the store cannot tell.
inline std::optional<Identity> session_of(Auth& auth, const httplib::Request& req,
                                          httplib::Response& res) {
  auto who = auth.identify(cookie_value(req, kSessionCookie));
  if (!who) {
    log::get("http")->error("{} {}: cannot read the session: {}", req.method, req.path,
                            who.error().message);
    send_error(res, 503, "storage_failed", "the session cannot be checked now; try again");
    return std::nullopt;
  }
  if (!*who) {
    send_error(res, 401, "login_required", "log in first (POST /api/v1/login)");
    return std::nullopt;
  }
  return std::move(*who);
}

}  // namespace att
