// Reading the JSON documents a node sends (protocol/node_report.h, protocol/node_count.h):
// a parse that refuses deep nesting, and a reader that takes each member with its type and
// range and names the first problem by its path ("spool.items must be ..."). Used by the
// protocol's parsers, and by the service for what it keeps as sent (a frame's X-Health).
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace att {

// `text` as JSON nested at most `max_depth` arrays and objects deep, else a discarded value.
// What is stored is later copied and written out recursively, so depth is bounded; the parse
// itself is not recursive, and deeper values are dropped while parsing.
nlohmann::json parse_shallow(std::string_view text, int max_depth);

// A value too long to quote whole in a message, cut.
std::string shown(const nlohmann::json& v);

// Reads the members of one JSON object, each named by its path in messages. The first
// problem is kept (an Error with ErrorCode::kInvalid, its message starting with `document`);
// later reads are skipped.
class JsonReader {
 public:
  JsonReader(const nlohmann::json& object, std::string prefix, std::string document)
      : object_(object), prefix_(std::move(prefix)), document_(std::move(document)) {}

  const std::optional<Error>& error() const { return error_; }

  // The member, or null with the error noted when it is missing and `required`.
  const nlohmann::json* member(const char* key, bool required);
  // Whether the member is there and not null (null means the same as left out).
  bool present(const char* key);

  void whole(const char* key, std::int64_t& out, std::int64_t min = 0,
             std::int64_t max = std::numeric_limits<std::int64_t>::max());
  void whole(const char* key, int& out, int min = 0, int max = std::numeric_limits<int>::max());
  void number(const char* key, double& out, double min = -std::numeric_limits<double>::max(),
              double max = std::numeric_limits<double>::max());
  void text(const char* key, std::string& out, size_t max_size = 4096);
  void boolean(const char* key, bool& out);
  void strings(const char* key, std::vector<std::string>& out);
  // A group: an object member, or nothing when it is missing or null.
  const nlohmann::json* group(const char* key);
  // An array member of at most `max_size` elements; null with the error noted otherwise.
  const nlohmann::json* array(const char* key, size_t max_size);

  std::string path(const char* key) const { return prefix_.empty() ? key : prefix_ + "." + key; }
  void note(std::string message);
  void take(const std::optional<Error>& inner) {
    if (inner && !error_) error_ = inner;
  }

 private:
  const nlohmann::json& object_;
  const std::string prefix_;
  const std::string document_;
  std::optional<Error> error_;
};

}  // namespace att
