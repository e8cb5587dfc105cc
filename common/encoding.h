// Bytes as text: lowercase hex (hashes, signatures, keys) and standard base64 with padding
// (password hashes, data: URIs). Pure functions, thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace att {

std::string hex(std::span<const unsigned char> bytes);  // "00ff..."
std::string hex(std::string_view bytes);

std::string base64(std::string_view bytes);  // RFC 4648 alphabet, '=' padding
// Strict standard base64 with padding; none for anything else (a stray character, a wrong
// length, padding in the middle).
std::optional<std::string> unbase64(std::string_view text);

}  // namespace att
