// Typed configuration from environment variables.
#include "kiebot/base/config.hpp"

#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <iostream>

extern char** environ;

namespace kiebot {

namespace {

std::optional<std::string> real_getenv(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::string default_instance_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] != '\0' ? host : "localhost") + "-" + std::to_string(getpid());
}

}  // namespace

Config::Config(std::string binary, std::string description, int argc, char** argv)
    : Config(std::move(binary), std::move(description),
             std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc), real_getenv) {}

Config::Config(std::string binary, std::string description, std::vector<std::string> args, Getenv getenv)
    : binary_(std::move(binary)), description_(std::move(description)), getenv_(std::move(getenv)) {
  for (const auto& arg : args) {
    if (arg == "--help" || arg == "-h") help_ = true;
  }
}

std::optional<std::string> Config::lookup(std::string_view name, std::string fallback, std::string_view help,
                                          bool required, bool secret) {
  entries_.push_back(Entry{std::string(name), fallback, std::string(help), required});
  auto value = getenv_(name);
  if (value && value->empty() && required) value.reset();
  if (value && secret) secrets_.push_back(*value);
  if (!value && required && !help_) fail(std::string(name) + " is required (" + std::string(help) + ")");
  return value;
}

void Config::fail(std::string message) {
  errors_.push_back(std::move(message));
}

std::string Config::str(std::string_view name, std::string_view fallback, std::string_view help) {
  return lookup(name, std::string(fallback), help, false, false).value_or(std::string(fallback));
}

std::string Config::required(std::string_view name, std::string_view help, bool secret) {
  return lookup(name, "", help, true, secret).value_or("");
}

std::optional<std::string> Config::optional(std::string_view name, std::string_view help, bool secret) {
  auto value = lookup(name, "", help, false, secret);
  if (value && value->empty()) return std::nullopt;
  return value;
}

std::int64_t Config::integer(std::string_view name, std::int64_t fallback, std::string_view help, std::int64_t min,
                             std::int64_t max) {
  auto value = lookup(name, std::to_string(fallback), help, false, false);
  if (!value) return fallback;
  std::int64_t parsed = 0;
  const char* end = value->data() + value->size();
  auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
  if (ec != std::errc{} || ptr != end || parsed < min || parsed > max) {
    fail(std::string(name) + " must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
         "], got '" + *value + "'");
    return fallback;
  }
  return parsed;
}

std::uint16_t Config::port(std::string_view name, std::uint16_t fallback, std::string_view help) {
  return static_cast<std::uint16_t>(integer(name, fallback, help, 0, 65535));
}

bool Config::flag(std::string_view name, bool fallback, std::string_view help) {
  auto value = lookup(name, fallback ? "1" : "0", help, false, false);
  if (!value) return fallback;
  if (*value == "1" || *value == "true" || *value == "yes") return true;
  if (*value == "0" || *value == "false" || *value == "no" || value->empty()) return false;
  fail(std::string(name) + " must be 0 or 1, got '" + *value + "'");
  return fallback;
}

std::vector<std::string> Config::list(std::string_view name, std::string_view fallback, std::string_view help) {
  return split_list(str(name, fallback, help));
}

std::vector<std::int64_t> Config::id_list(std::string_view name, std::string_view help) {
  std::vector<std::int64_t> out;
  auto value = lookup(name, "", help, false, false);
  if (!value) return out;
  for (const auto& item : split_list(*value)) {
    std::int64_t id = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), id);
    if (ec != std::errc{} || ptr != item.data() + item.size() || id <= 0) {
      fail(std::string(name) + " must be comma-separated positive integers, got '" + *value + "'");
      return {};
    }
    out.push_back(id);
  }
  return out;
}

std::string Config::instance_id() {
  return str("INSTANCE_ID", default_instance_id(), "name of this replica in logs and leases");
}

std::string Config::log_level() {
  auto level = str("LOG_LEVEL", "info", "debug, info, warn or error");
  if (level != "debug" && level != "info" && level != "warn" && level != "error") {
    fail("LOG_LEVEL must be one of debug, info, warn, error, got '" + level + "'");
  }
  return level;
}

void Config::describe(std::string_view pattern, std::string_view help) {
  entries_.push_back(Entry{std::string(pattern), "", std::string(help), false});
}

std::optional<int> Config::finish() {
  if (help_) {
    std::cerr << binary_ << ": " << description_ << "\n\nEnvironment variables:\n";
    for (const auto& e : entries_) {
      std::cerr << "  " << e.name;
      if (e.required) {
        std::cerr << " (required)";
      } else if (!e.fallback.empty()) {
        std::cerr << " (default " << e.fallback << ")";
      }
      std::cerr << "\n      " << e.help << "\n";
    }
    return 0;
  }
  if (!errors_.empty()) {
    std::cerr << binary_ << ": config error: " << errors_.front() << "\n";
    return 2;
  }
  return std::nullopt;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return out;
}

std::map<std::string, std::string> environment_with_prefix(std::string_view prefix) {
  std::map<std::string, std::string> out;
  for (char** env = environ; env != nullptr && *env != nullptr; ++env) {
    std::string_view entry(*env);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    auto name = entry.substr(0, eq);
    if (name.starts_with(prefix)) out.emplace(name, entry.substr(eq + 1));
  }
  return out;
}

}  // namespace kiebot
