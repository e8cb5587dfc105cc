// User names and passwords: which are acceptable, and passwords kept only as salted scrypt
// hashes (made and checked here; stored by AccountStore). Everything here is thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.h"

namespace att {

// The bounds the checks below hold names and passwords to (GET /api/v1/users states them).
inline constexpr size_t kUserNameMaxBytes = 64;
inline constexpr size_t kPasswordMinChars = 10;
inline constexpr size_t kPasswordMaxBytes = 1024;

// A user name: 1 to kUserNameMaxBytes (64) of [a-z0-9._-].
Status check_user_name(std::string_view name);
// A password being set: kPasswordMinChars (10) characters (UTF-8) at least,
// kPasswordMaxBytes (1024) bytes at most.
Status check_password(std::string_view password);

// scrypt with N = 2^15, r = 8, p = 1 and a fresh 16-byte salt, 32 bytes out, written with
// its parameters: scrypt$15$8$1$<salt base64>$<hash base64>. Fails only when the system's
// random source or OpenSSL does.
Result<std::string> hash_password(std::string_view password);
// Whether `stored` was made from `password`, compared in constant time. A stored hash not of
// that form (or one asking for more than 256 MiB of memory) is an error, never a match.
Result<bool> verify_password(std::string_view password, std::string_view stored);

// For messages and the log: a name as given, cut short and with anything unprintable replaced.
std::string printable_name(std::string_view name);

}  // namespace att
