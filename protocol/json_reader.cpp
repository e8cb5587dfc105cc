#include "protocol/json_reader.h"

namespace att {

using nlohmann::json;

json parse_shallow(std::string_view text, int max_depth) {
  bool too_deep = false;
  json j = json::parse(
      text,
      [&too_deep, max_depth](int depth, json::parse_event_t event, json&) {
        // `depth`: the objects and arrays around this value; one opened here is one more.
        if ((event == json::parse_event_t::object_start ||
             event == json::parse_event_t::array_start) &&
            depth >= max_depth) {
          too_deep = true;
        }
        return !too_deep;
      },
      /*allow_exceptions=*/false);
  return too_deep ? json(json::value_t::discarded) : j;
}

std::string shown(const json& v) {
  std::string text = v.dump();
  if (text.size() > 40) text = text.substr(0, 40) + "...";
  return text;
}

const json* JsonReader::member(const char* key, bool required) {
  if (error_) return nullptr;
  const auto it = object_.find(key);
  if (it == object_.end()) {
    if (required) note(path(key) + " is missing");
    return nullptr;
  }
  return &*it;
}

bool JsonReader::present(const char* key) {
  const json* v = member(key, false);
  return v && !v->is_null();
}

void JsonReader::whole(const char* key, std::int64_t& out, std::int64_t min, std::int64_t max) {
  const json* v = member(key, true);
  if (!v) return;
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  const bool fits =
      v->is_number_integer() && !(v->is_number_unsigned() && v->get<std::uint64_t>() > kMax);
  if (fits && v->get<std::int64_t>() >= min && v->get<std::int64_t>() <= max) {
    out = v->get<std::int64_t>();
    return;
  }
  note(path(key) + " must be a whole number " +
       (max < std::numeric_limits<std::int64_t>::max()
            ? "from " + std::to_string(min) + " to " + std::to_string(max)
            : ">= " + std::to_string(min)) +
       " (got " + shown(*v) + ")");
}

void JsonReader::whole(const char* key, int& out, int min, int max) {
  std::int64_t wide = out;
  whole(key, wide, min, max);
  if (!error_) out = static_cast<int>(wide);
}

void JsonReader::number(const char* key, double& out, double min, double max) {
  const json* v = member(key, true);
  if (!v) return;
  if (v->is_number()) {
    const double d = v->get<double>();
    if (d >= min && d <= max) {
      out = d;
      return;
    }
  }
  std::string range;
  if (min > -std::numeric_limits<double>::max() && max < std::numeric_limits<double>::max()) {
    range = " from " + json(min).dump() + " to " + json(max).dump();
  } else if (min > -std::numeric_limits<double>::max()) {
    range = " >= " + json(min).dump();
  }
  note(path(key) + " must be a number" + range + " (got " + shown(*v) + ")");
}

void JsonReader::text(const char* key, std::string& out, size_t max_size) {
  const json* v = member(key, true);
  if (!v) return;
  if (v->is_string() && v->get_ref<const std::string&>().size() <= max_size) {
    out = v->get<std::string>();
    return;
  }
  note(path(key) + " must be a string of at most " + std::to_string(max_size) + " bytes (got " +
       shown(*v) + ")");
}

void JsonReader::boolean(const char* key, bool& out) {
  const json* v = member(key, true);
  if (!v) return;
  if (v->is_boolean()) {
    out = v->get<bool>();
    return;
  }
  note(path(key) + " must be true or false (got " + shown(*v) + ")");
}

void JsonReader::strings(const char* key, std::vector<std::string>& out) {
  const json* v = member(key, true);
  if (!v) return;
  if (v->is_array()) {
    for (const json& s : *v) {
      if (!s.is_string()) break;
      out.push_back(s.get<std::string>());
    }
    if (out.size() == v->size()) return;
  }
  note(path(key) + " must be an array of strings (got " + shown(*v) + ")");
}

const json* JsonReader::group(const char* key) {
  const json* v = member(key, false);
  if (!v || v->is_null()) return nullptr;
  if (v->is_object()) return v;
  note(path(key) + " must be an object or null (got " + shown(*v) + ")");
  return nullptr;
}

const json* JsonReader::array(const char* key, size_t max_size) {
  const json* v = member(key, true);
  if (!v) return nullptr;
  if (v->is_array() && v->size() <= max_size) return v;
  note(path(key) + " must be an array of at most " + std::to_string(max_size) + " elements (got " +
       shown(*v) + ")");
  return nullptr;
}

void JsonReader::note(std::string message) {
  if (!error_) error_ = Error{document_ + ": " + std::move(message), ErrorCode::kInvalid};
}

}  // namespace att
