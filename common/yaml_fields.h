// Typed, bounded reading of YAML config that collects every error instead of stopping at the
// first, so that a person fixing a config file sees all of its problems in one run.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"

namespace att {

class ConfigErrors {
 public:
  void add(std::string message) { items_.push_back(std::move(message)); }
  bool empty() const { return items_.empty(); }
  const std::vector<std::string>& items() const { return items_; }
  // "config/server.yaml: 2 errors:\n  - ...\n  - ..."
  std::string summary(const std::string& source) const;

 private:
  std::vector<std::string> items_;
};

// Parses a YAML file; a syntax error names the line and column.
Result<YAML::Node> load_yaml_file(const std::filesystem::path& path);

// One YAML mapping. Each getter checks presence, type and bounds; a failure adds an error
// naming the full key path ("upload.timeout_s: ...") and returns the default, so reading goes
// on. finish() reports keys that were never read: a misspelt key is an error, not a silence.
class YamlMap {
 public:
  enum Need { kOptional, kRequired };

  YamlMap(const YAML::Node& node, std::string path, ConfigErrors& errors);

  bool has(const std::string& key) const;
  std::string string(const std::string& key, const std::string& fallback, Need need = kOptional);
  std::int64_t integer(const std::string& key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max, Need need = kOptional);
  double number(const std::string& key, double fallback, double min, double max,
                Need need = kOptional);
  bool boolean(const std::string& key, bool fallback);
  // A nested mapping (an empty one when absent).
  YamlMap map(const std::string& key, Need need = kOptional);
  // A sequence's items (empty when absent or not a sequence, which is reported).
  std::vector<YAML::Node> sequence(const std::string& key, Need need = kOptional);

  // The keys present, in file order (for maps keyed by name, e.g. site ids).
  std::vector<std::string> keys() const;
  // The raw node at `key` (marked as read; a null node when absent).
  YAML::Node node(const std::string& key);

  // The dotted path of `key` in this map, for messages.
  std::string where(const std::string& key) const;
  ConfigErrors& errors() { return errors_; }
  void finish();

 private:
  const YAML::Node* lookup(const std::string& key, Need need);

  YAML::Node node_;
  std::string path_;
  ConfigErrors& errors_;
  std::set<std::string> read_;
  YAML::Node scratch_;
};

}  // namespace att
