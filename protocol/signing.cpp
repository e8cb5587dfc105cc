#include "protocol/signing.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "common/encoding.h"
#include "common/files.h"
#include "common/sha256.h"

namespace att {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string canonical_request(const SignedFields& f) {
  std::string text = "attendance-v2\n";
  for (std::string_view part :
       {f.path, f.content_type, f.site_id, f.sequence, f.capture_time, f.extra}) {
    text.append(part);
    text.push_back('\n');
  }
  text += sha256_hex(std::string(f.body));
  return text;
}

std::string hmac_sha256_hex(std::string_view secret, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &length);
  return hex(std::span<const unsigned char>(mac, length));
}

std::string sign_request(std::string_view secret, const SignedFields& fields) {
  return hmac_sha256_hex(secret, canonical_request(fields));
}

bool signature_matches(std::string_view secret, const SignedFields& fields,
                       std::string_view signature) {
  return same_signature(sign_request(secret, fields), signature);
}

bool same_signature(std::string_view expected, std::string_view given) {
  const std::string lowered = lower(given);
  return lowered.size() == expected.size() &&
         CRYPTO_memcmp(lowered.data(), expected.data(), expected.size()) == 0;
}

Result<std::string> new_site_secret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return fail("the system's random source failed");
  return hex(std::span<const unsigned char>(bytes, sizeof bytes));
}

Status check_site_secret(std::string_view secret) {
  if (secret.size() < 32) {
    return fail("a site secret must be at least 32 hex digits (got " +
                std::to_string(secret.size()) + " characters)");
  }
  for (char c : secret) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return fail("a site secret must be hex digits only (0-9, a-f)");
    }
  }
  return {};
}

Result<std::string> load_site_secret(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return fail("cannot read the site secret " + path.string() + ": " + std::strerror(errno));
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    return fail("the site secret " + path.string() +
                " may be read by other users; make it private: chmod 600 " + path.string());
  }
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  std::string secret = *text;
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
    secret.pop_back();
  }
  size_t start = 0;
  while (start < secret.size() && std::isspace(static_cast<unsigned char>(secret[start]))) ++start;
  secret.erase(0, start);
  if (auto ok = check_site_secret(secret); !ok) {
    return fail(path.string() + ": " + ok.error().message);
  }
  return lower(secret);
}

}  // namespace att
