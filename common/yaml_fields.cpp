#include "common/yaml_fields.h"

#include <cmath>
#include <sstream>

namespace att {

std::string ConfigErrors::summary(const std::string& source) const {
  std::ostringstream out;
  out << source << ": " << items_.size() << (items_.size() == 1 ? " error:" : " errors:");
  for (const auto& item : items_) out << "\n  - " << item;
  return out.str();
}

Result<YAML::Node> load_yaml_file(const std::filesystem::path& path) {
  try {
    return YAML::LoadFile(path.string());
  } catch (const YAML::BadFile&) {
    return fail(path.string() + ": cannot open");
  } catch (const YAML::Exception& e) {
    return fail(path.string() + ": YAML syntax error at line " + std::to_string(e.mark.line + 1) +
                ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

YamlMap::YamlMap(const YAML::Node& node, std::string path, ConfigErrors& errors)
    : node_(node), path_(std::move(path)), errors_(errors) {
  if (node_ && !node_.IsNull() && !node_.IsMap()) {
    errors_.add((path_.empty() ? std::string("top level") : path_) + ": must be a mapping");
    node_ = YAML::Node();
  }
}

std::string YamlMap::where(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

bool YamlMap::has(const std::string& key) const {
  return node_.IsMap() && node_[key] && !node_[key].IsNull();
}

const YAML::Node* YamlMap::lookup(const std::string& key, Need need) {
  read_.insert(key);
  if (!has(key)) {
    if (need == kRequired) errors_.add(where(key) + ": required");
    return nullptr;
  }
  scratch_ = node_[key];
  return &scratch_;
}

std::string YamlMap::string(const std::string& key, const std::string& fallback, Need need) {
  const YAML::Node* n = lookup(key, need);
  if (!n) return fallback;
  if (!n->IsScalar()) {
    errors_.add(where(key) + ": must be a text value");
    return fallback;
  }
  return n->Scalar();
}

std::int64_t YamlMap::integer(const std::string& key, std::int64_t fallback, std::int64_t min,
                              std::int64_t max, Need need) {
  const YAML::Node* n = lookup(key, need);
  if (!n) return fallback;
  std::int64_t value = 0;
  if (!n->IsScalar() || !YAML::convert<std::int64_t>::decode(*n, value)) {
    errors_.add(where(key) + ": must be a whole number (got '" +
                (n->IsScalar() ? n->Scalar() : std::string("a non-scalar")) + "')");
    return fallback;
  }
  if (value < min || value > max) {
    errors_.add(where(key) + ": must be between " + std::to_string(min) + " and " +
                std::to_string(max) + " (got " + std::to_string(value) + ")");
    return fallback;
  }
  return value;
}

double YamlMap::number(const std::string& key, double fallback, double min, double max, Need need) {
  const YAML::Node* n = lookup(key, need);
  if (!n) return fallback;
  double value = 0;
  if (!n->IsScalar() || !YAML::convert<double>::decode(*n, value) || !std::isfinite(value)) {
    errors_.add(where(key) + ": must be a number (got '" +
                (n->IsScalar() ? n->Scalar() : std::string("a non-scalar")) + "')");
    return fallback;
  }
  if (value < min || value > max) {
    std::ostringstream msg;
    msg << where(key) << ": must be between " << min << " and " << max << " (got " << value << ")";
    errors_.add(msg.str());
    return fallback;
  }
  return value;
}

bool YamlMap::boolean(const std::string& key, bool fallback) {
  const YAML::Node* n = lookup(key, kOptional);
  if (!n) return fallback;
  bool value = false;
  if (!n->IsScalar() || !YAML::convert<bool>::decode(*n, value)) {
    errors_.add(where(key) + ": must be true or false");
    return fallback;
  }
  return value;
}

std::vector<std::string> YamlMap::keys() const {
  std::vector<std::string> out;
  if (!node_.IsMap()) return out;
  for (const auto& kv : node_) out.push_back(kv.first.Scalar());
  return out;
}

YAML::Node YamlMap::node(const std::string& key) {
  const YAML::Node* n = lookup(key, kOptional);
  return n ? *n : YAML::Node();
}

YamlMap YamlMap::map(const std::string& key, Need need) {
  const YAML::Node* n = lookup(key, need);
  return YamlMap(n ? *n : YAML::Node(), where(key), errors_);
}

std::vector<YAML::Node> YamlMap::sequence(const std::string& key, Need need) {
  const YAML::Node* n = lookup(key, need);
  std::vector<YAML::Node> items;
  if (!n) return items;
  if (!n->IsSequence()) {
    errors_.add(where(key) + ": must be a list");
    return items;
  }
  for (const auto& item : *n) items.push_back(item);
  return items;
}

void YamlMap::finish() {
  if (!node_.IsMap()) return;
  for (const auto& kv : node_) {
    if (!kv.first.IsScalar()) {
      errors_.add((path_.empty() ? std::string("top level") : path_) +
                  ": a key that is not plain text");
    } else if (!read_.contains(kv.first.Scalar())) {
      errors_.add(where(kv.first.Scalar()) + ": unknown setting");
    }
  }
}

}  // namespace att
