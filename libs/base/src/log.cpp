// Structured JSON logging to stderr.
#include "kiebot/base/log.hpp"

#include "kiebot/base/errors.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "kiebot/base/redact.hpp"

namespace kiebot::log {

namespace {

struct State {
  std::mutex mutex;
  Options options;
  std::atomic<int> level{static_cast<int>(Level::info)};
};

State& state() {
  static State s;
  return s;
}

const char* level_name(Level level) {
  switch (level) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "info";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

void init(Options options) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.level = static_cast<int>(options.level);
  s.options = std::move(options);
}

Level parse_level(std::string_view name) {
  if (name == "debug") return Level::debug;
  if (name == "warn") return Level::warn;
  if (name == "error") return Level::error;
  return Level::info;
}

bool enabled(Level level) {
  return static_cast<int>(level) >= state().level.load();
}

std::string format(Level level, std::string_view event, const nlohmann::json& fields) {
  auto& s = state();
  nlohmann::json line = nlohmann::json::object();
  line["ts"] = timestamp();
  line["level"] = level_name(level);
  std::vector<std::string> secrets;
  {
    std::lock_guard lock(s.mutex);
    if (!s.options.service.empty()) line["service"] = s.options.service;
    if (!s.options.instance.empty()) line["instance"] = s.options.instance;
    secrets = s.options.secrets;
  }
  line["event"] = event;
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) line[key] = value;
  }
  return redact(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), secrets);
}

void write(Level level, std::string_view event, const nlohmann::json& fields) {
  if (!enabled(level)) return;
  auto text = format(level, event, fields);
  text += '\n';
  // One fwrite per line keeps lines whole when several threads log.
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

std::function<void(std::exception_ptr)> on_failure(std::string event) {
  return [event = std::move(event)](std::exception_ptr e) {
    if (e) report_error(event, e);
  };
}

void debug(std::string_view event, const nlohmann::json& fields) {
  write(Level::debug, event, fields);
}
void info(std::string_view event, const nlohmann::json& fields) {
  write(Level::info, event, fields);
}
void warn(std::string_view event, const nlohmann::json& fields) {
  write(Level::warn, event, fields);
}
void error(std::string_view event, const nlohmann::json& fields) {
  write(Level::error, event, fields);
}
void debug(std::string_view event) {
  write(Level::debug, event, nullptr);
}
void info(std::string_view event) {
  write(Level::info, event, nullptr);
}
void warn(std::string_view event) {
  write(Level::warn, event, nullptr);
}
void error(std::string_view event) {
  write(Level::error, event, nullptr);
}

}  // namespace kiebot::log
