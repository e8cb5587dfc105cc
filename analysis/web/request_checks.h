// The checks of where a request comes from that the access check before every route makes
// (analysis/web/http_api.cpp; the routes' roles: route_table.h): whether it changes state
// (and so needs its session's CSRF token), whether it comes from this machine, whether its
// Origin is the host it was sent to, and a comparison of secrets that leaks no timing.
#pragma once

#include <string_view>

namespace att {

// POST, PUT, PATCH, DELETE: a request of these made with a session must carry its CSRF token.
bool changes_state(std::string_view method);
bool is_loopback(std::string_view address);
// Whether an Origin header ("https://host:port") names the host a request went to (its Host
// header), as a request from the dashboard's own pages does.
bool origin_matches_host(std::string_view origin, std::string_view host);
// Equality of two secrets (CSRF tokens) in time that does not depend on where they differ.
bool secrets_equal(std::string_view a, std::string_view b);

}  // namespace att
