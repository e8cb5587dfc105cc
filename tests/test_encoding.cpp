// Hex and base64 (common/encoding.h) against the RFC 4648 test vectors, and base64 decoding
// refusing everything that is not strict padded standard base64.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/encoding.h"

namespace att {
namespace {

TEST(Hex, LowercaseTwoDigitsPerByte) {
  EXPECT_EQ(hex(std::string_view("")), "");
  EXPECT_EQ(hex(std::string_view("\x00\x01\x7f\x80\xff", 5)), "00017f80ff");
  const std::vector<unsigned char> bytes = {0xde, 0xad, 0xbe, 0xef};
  EXPECT_EQ(hex(bytes), "deadbeef");
}

TEST(Base64, Rfc4648Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {{"", ""},
                                                                    {"f", "Zg=="},
                                                                    {"fo", "Zm8="},
                                                                    {"foo", "Zm9v"},
                                                                    {"foob", "Zm9vYg=="},
                                                                    {"fooba", "Zm9vYmE="},
                                                                    {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64(plain), encoded) << plain;
    if (!plain.empty()) {
      EXPECT_EQ(unbase64(encoded), plain) << encoded;
    }
  }
  const std::string binary("\x00\xff\xfe\x80\x7f", 5);
  EXPECT_EQ(unbase64(base64(binary)), binary);
}

TEST(Base64, DecodingRefusesAnythingButStrictPaddedBase64) {
  for (const std::string bad :
       {"", "Zg", "Zg=", "Zm9", "Zm9v!", "Zm9v Yg==", "Z=9v", "Zm9-", "Zm9_", "Zg==Zg==", "===="}) {
    EXPECT_EQ(unbase64(bad), std::nullopt) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace att
