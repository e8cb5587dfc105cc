// Expected failures are values: a Result<T> holds either a T or an Error with a message a
// person can act on. Programmer errors are asserts, not Errors.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace att {

struct Error {
  std::string message;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(std::string message) {
  return std::unexpected(Error{std::move(message)});
}

}  // namespace att
