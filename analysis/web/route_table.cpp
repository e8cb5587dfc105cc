#include "analysis/web/route_table.h"

#include <httplib.h>

#include <algorithm>
#include <stdexcept>

namespace att {
namespace {

struct Parameter {
  std::string_view name, pattern;
};
constexpr Parameter kParameters[] = {
    {"site", "([a-z0-9_-]{1,32})"},
    {"table", "(roll-calls|alerts|summaries|rollups)"},
    {"file", "((?:[A-Za-z0-9_.-]{1,100}/){0,4}[A-Za-z0-9_.-]{1,100})"},
    {"user", "([^/]{1,64})"},  // the handler checks it is a user name (passwords.h)
};

}  // namespace

std::string RouteTable::pattern_of(std::string_view path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '{') {
      const size_t end = path.find('}', i);
      const std::string_view name =
          end == std::string_view::npos ? "" : path.substr(i + 1, end - i - 1);
      const Parameter* p = nullptr;
      for (const Parameter& q : kParameters) {
        if (q.name == name) p = &q;
      }
      if (!p)
        throw std::invalid_argument("route " + std::string(path) + ": unknown parameter '" +
                                    std::string(name) + "'");
      out += p->pattern;
      i = end;
    } else if (std::string_view(".^$|()[]*+?\\}").find(c) != std::string_view::npos) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

RouteTable::RouteTable(std::vector<Route> routes) {
  for (Route& r : routes) {
    if (r.method != "GET" && r.method != "POST")
      throw std::invalid_argument("route " + r.path + ": method " + r.method);
    for (const Entry& e : entries_) {
      if (e.route.method == r.method && e.route.path == r.path)
        throw std::invalid_argument("route " + r.method + " " + r.path + " is in the table twice");
    }
    std::regex regex(pattern_of(r.path));
    entries_.push_back({std::move(r), std::move(regex)});
  }
}

const Route* RouteTable::find(std::string_view method, std::string_view path) const {
  const std::string_view as = method == "HEAD" ? "GET" : method;
  for (const Entry& e : entries_) {
    if (e.route.method == as && std::regex_match(path.begin(), path.end(), e.regex))
      return &e.route;
  }
  return nullptr;
}

std::optional<unsigned> RouteTable::access(std::string_view method, std::string_view path) const {
  if (const Route* r = find(method, path)) return r->who;
  if (!path.starts_with("/api/") && path != "/metrics") return kAnyone;  // the dashboard's files
  return std::nullopt;
}

std::vector<std::string> RouteTable::capabilities(Role role) const {
  std::vector<std::string> out;
  for (const Entry& e : entries_) {
    const std::string& c = e.route.capability;
    if (!c.empty() && (e.route.who & role_bit(role)) && std::ranges::find(out, c) == out.end())
      out.push_back(c);
  }
  return out;
}

void RouteTable::install(httplib::Server& server) const {
  for (const Entry& e : entries_) {
    const std::string pattern = pattern_of(e.route.path);
    if (e.route.method == "GET") {
      server.Get(pattern, e.route.handler);
    } else {
      server.Post(pattern, e.route.handler);
    }
  }
}

}  // namespace att
