// The JSON answers every HTTP handler of the service gives: a body, or an error with a
// sentence for people ("error") and a stable code for programs ("code").
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

namespace att {

inline void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

inline void send_error(httplib::Response& res, int status, const std::string& code,
                       const std::string& message) {
  send_json(res, status, {{"error", message}, {"code", code}});
}

}  // namespace att
