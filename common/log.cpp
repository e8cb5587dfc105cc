#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace att::log {
namespace {
std::mutex g_mu;
spdlog::level::level_enum g_level = spdlog::level::info;
}  // namespace

void setup(const std::string& level) {
  std::lock_guard lock(g_mu);
  g_level = spdlog::level::from_str(level);
  if (g_level == spdlog::level::off && level != "off") g_level = spdlog::level::info;
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ [%n] %v");
  spdlog::set_level(g_level);
}

bool valid_level(const std::string& level) {
  return level == "trace" || level == "debug" || level == "info" || level == "warn" ||
         level == "error";
}

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  std::lock_guard lock(g_mu);
  if (auto existing = spdlog::get(component)) return existing;
  auto logger = spdlog::stderr_color_mt(component);
  logger->set_level(g_level);
  return logger;
}

bool RateLimit::allow(long long& suppressed) {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (first_ || now - last_ >= period_) {
    first_ = false;
    last_ = now;
    suppressed = held_;
    held_ = 0;
    return true;
  }
  ++held_;
  return false;
}

}  // namespace att::log
