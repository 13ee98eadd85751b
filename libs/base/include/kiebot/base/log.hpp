// Structured logging: one JSON object per line on stderr, secrets redacted.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace kiebot::log {

enum class Level { debug, info, warn, error };

struct Options {
  std::string service;
  std::string instance;
  Level level = Level::info;
  std::vector<std::string> secrets;  // exact values to redact wherever they appear
};

void init(Options options);
Level parse_level(std::string_view name);
bool enabled(Level level);

// `event` is a stable snake_case name; `fields` is a JSON object (or null).
void write(Level level, std::string_view event, const nlohmann::json& fields);
void debug(std::string_view event, const nlohmann::json& fields);
void info(std::string_view event, const nlohmann::json& fields);
void warn(std::string_view event, const nlohmann::json& fields);
void error(std::string_view event, const nlohmann::json& fields);
void debug(std::string_view event);
void info(std::string_view event);
void warn(std::string_view event);
void error(std::string_view event);

// A co_spawn completion handler that reports the coroutine's exception (if
// any) as `event` with its kind (errors.hpp); cancellation is not an error.
std::function<void(std::exception_ptr)> on_failure(std::string event);

// Formats one line without writing it (for tests).
std::string format(Level level, std::string_view event, const nlohmann::json& fields);

}  // namespace kiebot::log
