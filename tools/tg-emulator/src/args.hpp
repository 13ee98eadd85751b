// Reading Bot API parameters, with Telegram's "Bad Request" wording.
#pragma once

#include <string>

#include "api.hpp"
#include "params.hpp"

namespace kiebot::tg {

[[noreturn]] inline void bad(std::string description) { throw BotError{400, "Bad Request: " + std::move(description)}; }

inline std::string required(const Params& p, const char* name) {
  auto v = p.get(name);
  if (!v || v->empty()) bad(std::string(name) + " is empty");
  return *v;
}

inline std::int64_t integer(const std::string& text, const char* name) {
  try {
    std::size_t used = 0;
    auto v = std::stoll(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  bad(std::string("invalid ") + name + " specified");
}

inline json json_param(const Params& p, const char* name) {
  auto v = p.get(name);
  if (!v) return nullptr;
  auto parsed = json::parse(*v, nullptr, false);
  if (parsed.is_discarded()) bad(std::string("can't parse ") + name + " JSON object");
  return parsed;
}

inline bool flag(const Params& p, const char* name) {
  auto v = p.get(name);
  return v && (*v == "true" || *v == "1" || *v == "True");
}

}  // namespace kiebot::tg
