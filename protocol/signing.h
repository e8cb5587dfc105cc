// Request signing between a capture node and the service. Each site has its own secret
// (32 random bytes, written as 64 hex digits). A request is signed with HMAC-SHA256 over a
// canonical text that names the endpoint, the body's media type, the site, the sequence, the
// capture time, the other signed headers and the SHA-256 of the body, so that no part of it
// can be changed or moved to another endpoint or site without the signature failing:
//
//   attendance-v2\n<path>\n<Content-Type>\n<site>\n<sequence>\n<capture time>\n<extra>\n
//   <sha256(body) hex>
//
// <extra> is the request's signed metadata (the health header, the spool drop count), in a
// fixed order the caller chooses; empty when there is none.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/error.h"

namespace att {

struct SignedFields {
  std::string_view path;
  std::string_view site_id;
  std::string_view sequence;
  std::string_view capture_time;
  std::string_view extra;
  std::string_view body;
  std::string_view content_type;  // the Content-Type header, as sent
};

std::string canonical_request(const SignedFields& fields);

// HMAC-SHA256 of `message` under `secret`, as lowercase hex.
std::string hmac_sha256_hex(std::string_view secret, std::string_view message);

// The X-Signature value for a request.
std::string sign_request(std::string_view secret, const SignedFields& fields);

// True when `signature` (hex, any case) is the request's signature. Constant time in the
// signature's content.
bool signature_matches(std::string_view secret, const SignedFields& fields,
                       std::string_view signature);

// True when `given` (hex, any case) is `expected` (lowercase hex). Constant time in content.
bool same_signature(std::string_view expected, std::string_view given);

// A fresh secret from the system's random source: 64 hex digits.
Result<std::string> new_site_secret();

// Checks a secret's form: at least 32 hex digits (128 bits).
Status check_site_secret(std::string_view secret);

// Reads a secret from a file (surrounding whitespace ignored). A file that others may read
// is refused: the secret is what lets a node speak for its site.
Result<std::string> load_site_secret(const std::filesystem::path& path);

}  // namespace att
