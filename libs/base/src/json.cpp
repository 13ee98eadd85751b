// Bounded JSON parsing (see json.hpp).
#include "kiebot/base/json.hpp"

#include <cstdint>

namespace kiebot {

namespace {

struct TooDeep {};

}  // namespace

nlohmann::json parse_untrusted(std::string_view text, JsonLimits limits) {
  nlohmann::json discarded(nlohmann::json::value_t::discarded);
  if (text.size() > limits.max_bytes) return discarded;
  // nlohmann's parser keeps its own stack on the heap, so only the tree is
  // recursive: refusing a container deeper than the limit as it opens, in
  // the one pass that builds the tree, keeps every later copy, dump and
  // destruction shallow.
  auto max_depth = static_cast<int>(limits.max_depth);
  auto bounded = [max_depth](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    bool opens =
        event == nlohmann::json::parse_event_t::object_start || event == nlohmann::json::parse_event_t::array_start;
    if (opens && depth >= max_depth) throw TooDeep{};
    return true;
  };
  try {
    return nlohmann::json::parse(text, bounded, false);
  } catch (const TooDeep&) {
    return discarded;
  }
}

std::string string_field(const nlohmann::json& j, const char* name) {
  if (!j.is_object()) return {};
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t int_field(const nlohmann::json& j, const char* name, std::int64_t fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) return fallback;
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) return fallback;
  return it->get<std::int64_t>();
}

}  // namespace kiebot
