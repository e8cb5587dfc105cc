#include "common/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstddef>
#include <iterator>
#include <vector>

namespace att::log {
namespace {

constexpr char kTextPattern[] = "%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ [%n] %v";
// %W, %K and %j are the flags below (letters spdlog 1.10 leaves free); %z is "+07:00".
constexpr char kJsonPattern[] =
    R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%W","component":"%K","msg":"%j","thread":%t})";

std::mutex g_mu;
spdlog::level::level_enum g_level = spdlog::level::info;  // guarded by g_mu
spdlog::sink_ptr g_sink;  // guarded by g_mu; every component writes here; null until first use

spdlog::sink_ptr stderr_sink() {
  static const spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  return sink;
}

void append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

// Length of the well-formed UTF-8 sequence at text[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when the bytes there are not one.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  std::size_t length = 0;
  char32_t code = 0, least = 0;
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code = lead & 0x1F, least = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code = lead & 0x0F, least = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code = lead & 0x07, least = 0x10000;
  } else {
    return 0;
  }
  if (text.size() - i < length) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xC0) != 0x80) return 0;
    code = (code << 6) | (next & 0x3F);
  }
  if (code < least || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

// Appends `text` as the inside of a JSON string: quotes, backslashes and control characters
// escaped, UTF-8 copied as is, each byte that is not part of valid UTF-8 replaced by U+FFFD.
void append_json_escaped(spdlog::memory_buf_t& dest, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) {
      if (const std::size_t n = utf8_length(text, i); n > 0) {
        append(dest, text.substr(i, n));
        i += n;
      } else {
        append(dest, "\xEF\xBF\xBD");
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        append(dest, "\\\"");
        break;
      case '\\':
        append(dest, "\\\\");
        break;
      case '\n':
        append(dest, "\\n");
        break;
      case '\r':
        append(dest, "\\r");
        break;
      case '\t':
        append(dest, "\\t");
        break;
      case '\b':
        append(dest, "\\b");
        break;
      case '\f':
        append(dest, "\\f");
        break;
      default:
        if (byte < 0x20) {
          const char escaped[] = {'\\', 'u', '0', '0', kHex[byte >> 4], kHex[byte & 0xF]};
          append(dest, std::string_view(escaped, sizeof escaped));
        } else {
          dest.push_back(c);
        }
    }
    ++i;
  }
}

// %j: the message, JSON-escaped.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    append_json_escaped(dest, std::string_view(msg.payload.data(), msg.payload.size()));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

// %K: the component (logger name), JSON-escaped.
class JsonComponentFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    append_json_escaped(dest, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonComponentFlag>();
  }
};

// %W: the level as log_level names it ("warn", where spdlog 1.10 says "warning").
class JsonLevelFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    // In spdlog::level::level_enum order.
    static constexpr std::string_view kNames[] = {"trace", "debug",    "info", "warn",
                                                  "error", "critical", "off"};
    const auto index = static_cast<std::size_t>(msg.level);
    append(dest, index < std::size(kNames) ? kNames[index] : "off");
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonLevelFlag>();
  }
};

std::unique_ptr<spdlog::formatter> make_formatter(Format format) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (format == Format::kJson) {
    formatter->add_flag<JsonMessageFlag>('j')
        .add_flag<JsonComponentFlag>('K')
        .add_flag<JsonLevelFlag>('W');
    formatter->set_pattern(kJsonPattern);
  } else {
    formatter->set_pattern(kTextPattern);
  }
  return formatter;
}

}  // namespace

std::optional<Format> parse_format(std::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return std::nullopt;
}

void setup(const std::string& level, Format format, spdlog::sink_ptr sink) {
  std::lock_guard lock(g_mu);
  g_level = spdlog::level::from_str(level);
  if (g_level == spdlog::level::off && level != "off") g_level = spdlog::level::info;
  g_sink = sink ? std::move(sink) : stderr_sink();
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& logger) {
    logger->sinks() = std::vector<spdlog::sink_ptr>{g_sink};
  });
  // Sets the formatter of every logger's sinks, and of loggers created later.
  spdlog::set_formatter(make_formatter(format));
  spdlog::set_level(g_level);
}

bool valid_level(const std::string& level) {
  return level == "trace" || level == "debug" || level == "info" || level == "warn" ||
         level == "error";
}

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  std::lock_guard lock(g_mu);
  if (auto existing = spdlog::get(component)) return existing;
  if (!g_sink) g_sink = stderr_sink();
  auto logger = std::make_shared<spdlog::logger>(component, g_sink);
  spdlog::initialize_logger(logger);  // registers it, with the formatter setup() chose
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
