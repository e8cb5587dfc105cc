// Expected failures are values: a Result<T> holds either a T or an Error, whose code says
// what kind of failure it is (callers branch on it, never on the text) and whose message a
// person can act on. Programmer errors are asserts, not Errors.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace att {

enum class ErrorCode {
  kInvalid,      // the input is malformed, out of bounds or not allowed (the default)
  kNotFound,     // what the input names does not exist
  kTooLarge,     // the input is over a size limit (bytes, pixels, rows)
  kConflict,     // the input clashes with what is already stored
  kCorrupt,      // data that should be sound is not (a JPEG, a database, a chain)
  kUnavailable,  // a resource is busy, full or gone; the same call may succeed later
  kIo,           // the file system or the database failed
};

struct Error {
  std::string message;
  ErrorCode code = ErrorCode::kInvalid;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(std::string message) {
  return std::unexpected(Error{std::move(message), ErrorCode::kInvalid});
}
inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
  return std::unexpected(Error{std::move(message), code});
}

}  // namespace att
