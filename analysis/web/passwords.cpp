// User names and passwords: the checks of new ones, and scrypt hashes made and verified with
// OpenSSL.
#include "analysis/web/passwords.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/encoding.h"

namespace att {
namespace {

// scrypt as stored: N = 2^15 (32 MiB with r = 8), the cost OWASP suggests for interactive
// logins; about 0.1 s on one core.
constexpr int kLogN = 15, kBlockSize = 8, kParallel = 1;
constexpr size_t kSaltBytes = 16, kHashBytes = 32;
constexpr std::uint64_t kMaxScryptMemory = 256ull << 20;

Result<std::string> scrypt(std::string_view password, std::string_view salt, std::uint64_t n,
                           std::uint64_t r, std::uint64_t p, size_t length) {
  std::string key(length, '\0');
  if (EVP_PBE_scrypt(password.data(), password.size(),
                     reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), n, r, p,
                     kMaxScryptMemory, reinterpret_cast<unsigned char*>(key.data()),
                     key.size()) != 1) {
    return fail("scrypt failed (N=" + std::to_string(n) + ", r=" + std::to_string(r) +
                ", p=" + std::to_string(p) + ")");
  }
  return key;
}

// A whole number of digits only, within [lo, hi].
std::optional<int> small_number(std::string_view text, int lo, int hi) {
  int v = 0;
  if (text.empty() || text.size() > 3 || text.front() == '+' || text.front() == '-')
    return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi)
    return std::nullopt;
  return v;
}

}  // namespace

std::string printable_name(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

Status check_user_name(std::string_view name) {
  const bool ok =
      !name.empty() && name.size() <= kUserNameMaxBytes &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
      });
  if (!ok) {
    return fail(fmt::format("user name '{}' is not 1 to {} of a-z, 0-9, '.', '_' and '-'",
                            printable_name(name), kUserNameMaxBytes));
  }
  return {};
}

Status check_password(std::string_view password) {
  const auto characters = std::count_if(password.begin(), password.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // not a UTF-8 continuation byte
  });
  if (static_cast<size_t>(characters) < kPasswordMinChars)
    return fail(
        fmt::format("the password is too short: {} characters at least", kPasswordMinChars));
  if (password.size() > kPasswordMaxBytes)
    return fail(fmt::format("the password is too long: {} bytes at most", kPasswordMaxBytes));
  return {};
}

Result<std::string> hash_password(std::string_view password) {
  std::string salt(kSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) !=
      1) {
    return fail("the system's random source failed");
  }
  auto key = scrypt(password, salt, std::uint64_t{1} << kLogN, kBlockSize, kParallel, kHashBytes);
  if (!key) return std::unexpected(key.error());
  return fmt::format("scrypt${}${}${}${}${}", kLogN, kBlockSize, kParallel, base64(salt),
                     base64(*key));
}

Result<bool> verify_password(std::string_view password, std::string_view stored) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t dollar = stored.find('$', start);
    parts.push_back(stored.substr(start, dollar - start));
    if (dollar == std::string_view::npos) break;
    start = dollar + 1;
  }
  const auto malformed = [] {
    return fail("the stored password hash is malformed (expected scrypt$N$r$p$salt$hash)");
  };
  if (parts.size() != 6 || parts[0] != "scrypt") return malformed();
  const auto log_n = small_number(parts[1], 1, 24);
  const auto r = small_number(parts[2], 1, 64);
  const auto p = small_number(parts[3], 1, 16);
  const auto salt = unbase64(parts[4]);
  const auto hash = unbase64(parts[5]);
  if (!log_n || !r || !p || !salt || !hash || salt->size() < 8 || hash->size() < 16 ||
      hash->size() > 64) {
    return malformed();
  }
  auto key = scrypt(password, *salt, std::uint64_t{1} << *log_n, static_cast<std::uint64_t>(*r),
                    static_cast<std::uint64_t>(*p), hash->size());
  if (!key) return std::unexpected(key.error());
  return CRYPTO_memcmp(key->data(), hash->data(), hash->size()) == 0;
}

}  // namespace att
