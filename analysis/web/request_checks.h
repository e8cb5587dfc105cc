// The checks of where a request comes from that the access check before every route makes
// (analysis/web/http_api.cpp; the routes' roles: route_table.h): whether it changes state
// (and so needs its session's CSRF token), whether it comes from this machine, who
// the client is behind a trusted proxy, whether its
// Origin is the host it was sent to, and a comparison of secrets that leaks no timing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace att {

// POST, PUT, PATCH, DELETE: a request of these made with a session must carry its CSRF token.
bool changes_state(std::string_view method);
bool is_loopback(std::string_view address);
// Whether `text` is an IPv4 or IPv6 address, as written in a config or X-Forwarded-For.
bool is_ip_address(const std::string& text);

// Who a request comes from: the peer's address, or, when the peer is one of the trusted
// proxies, the client address the proxy appended to X-Forwarded-For (its last entry) and the
// scheme of X-Forwarded-Proto. An IPv4 address reached over IPv6 ("::ffff:10.0.0.1") is
// written as IPv4.
struct Client {
  std::string address;
  bool https = false;
};
Client client_of(std::string_view peer, bool peer_https, std::string_view forwarded_for,
                 std::string_view forwarded_proto, const std::vector<std::string>& trusted);
// Whether an Origin header ("https://host:port") names the host a request went to (its Host
// header), as a request from the dashboard's own pages does.
bool origin_matches_host(std::string_view origin, std::string_view host);
// Equality of two secrets (CSRF tokens) in time that does not depend on where they differ.
bool secrets_equal(std::string_view a, std::string_view b);

}  // namespace att
