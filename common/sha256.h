// SHA-256 over bytes or a file, as lowercase hex (OpenSSL EVP).
#pragma once

#include <filesystem>
#include <span>
#include <string>

#include "common/error.h"

namespace att {

std::string sha256_hex(std::span<const unsigned char> bytes);
std::string sha256_hex(const std::string& bytes);
Result<std::string> sha256_file_hex(const std::filesystem::path& path);

}  // namespace att
