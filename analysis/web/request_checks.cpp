// Where a request comes from: the checks the access check before every route makes.
#include "analysis/web/request_checks.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>

namespace att {

bool changes_state(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

bool is_loopback(std::string_view address) {
  return address.starts_with("127.") || address == "::1" || address.starts_with("::ffff:127.");
}

bool is_ip_address(const std::string& text) {
  unsigned char raw[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), raw) == 1 || inet_pton(AF_INET6, text.c_str(), raw) == 1;
}

namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string plain_address(std::string_view address) {
  if (address.starts_with("::ffff:") && address.find('.') != std::string_view::npos)
    address.remove_prefix(7);
  return std::string(address);
}

}  // namespace

Client client_of(std::string_view peer, bool peer_https, std::string_view forwarded_for,
                 std::string_view forwarded_proto, const std::vector<std::string>& trusted) {
  Client client{plain_address(peer), peer_https};
  if (std::ranges::find(trusted, client.address) == trusted.end()) return client;
  const size_t comma = forwarded_for.rfind(',');
  const std::string last = std::string(
      trimmed(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1)));
  if (is_ip_address(last)) client.address = plain_address(last);
  if (const std::string_view proto = trimmed(forwarded_proto); !proto.empty()) {
    client.https = proto == "https";
  }
  return client;
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

}  // namespace att
