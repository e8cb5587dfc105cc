// The service's routes as one table: each row says its method, its path, who may call it, the
// capability the dashboard knows it by, and its handler. Both the HTTP server's matcher and
// the access check that runs before any route are built from these rows, and GET
// /api/v1/session lists a caller's capabilities from them: a route's roles are written once,
// in the table (HttpApi builds it, analysis/web/http_api.cpp).
#pragma once

#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/web/auth.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace att {

// Whom a route lets in: roles (one bit each), or anyone, or callers on a loopback address.
inline constexpr unsigned role_bit(Role r) {
  return 1u << static_cast<unsigned>(r);
}
inline constexpr unsigned kOrganizers = role_bit(Role::kOrganizer);
inline constexpr unsigned kAuditors = role_bit(Role::kAuditor);
inline constexpr unsigned kTechnicians = role_bit(Role::kTechnician);
inline constexpr unsigned kAdmins = role_bit(Role::kAdmin);
inline constexpr unsigned kEveryRole = kOrganizers | kAuditors | kTechnicians | kAdmins;
// Those who read the attendance record. The admin may do all the others may, except correct
// a roll call: that is the auditor's act.
inline constexpr unsigned kRecordReaders = kOrganizers | kAuditors | kAdmins;
inline constexpr unsigned kAnyone = 1u << 8;    // no login: the route needs none, or signs
inline constexpr unsigned kLoopback = 1u << 9;  // also without login from 127.0.0.0/8 or ::1

using RouteHandler = std::function<void(const httplib::Request&, httplib::Response&)>;

struct Route {
  std::string method;  // GET (which also answers HEAD) or POST
  // The whole path: literal text with parameters, each a group of the handler's
  // req.matches in order: {site} a site id ([a-z0-9_-]{1,32}), {table} an export
  // (roll-calls, alerts, summaries, rollups), {file} a relative file path without its
  // extension (1 to 5 non-empty '/'-separated names of [A-Za-z0-9_.-]{1,100}), {user} a
  // user's name as given (1 to 64 bytes without '/'; the handler checks it).
  std::string path;
  unsigned who = 0;        // role bits, kAnyone, kLoopback
  std::string capability;  // what the dashboard calls being allowed this route; "" if nothing
  RouteHandler handler;
};

class RouteTable {
 public:
  // Throws std::invalid_argument on a path with an unknown parameter, a method other than GET
  // or POST, or two rows for one method and path: the table is the program's, not input.
  explicit RouteTable(std::vector<Route> routes);

  // Who may make a request: the matching row's `who`; for a path outside /api/ other than
  // /metrics (the dashboard's files) anyone; for any other path none: it is refused before it
  // reaches a route (default deny).
  std::optional<unsigned> access(std::string_view method, std::string_view path) const;
  // The row a request is for, or none.
  const Route* find(std::string_view method, std::string_view path) const;
  // The capabilities of a role, each once, in table order.
  std::vector<std::string> capabilities(Role role) const;
  // Registers every row with the server, matched by the regular expression of its path.
  void install(httplib::Server& server) const;

  // The regular expression a path stands for (anchored by the matcher).
  static std::string pattern_of(std::string_view path);

 private:
  struct Entry {
    Route route;
    std::regex regex;
  };
  std::vector<Entry> entries_;
};

}  // namespace att
