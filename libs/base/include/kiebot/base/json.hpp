// JSON from outside (Kafka messages, HTTP bodies, upstream answers): parsed
// with its depth and size bounded while parsing, so that a hostile value can
// never build a tree whose copy, dump or destruction recurses off the stack.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string_view>

namespace kiebot {

struct JsonLimits {
  std::size_t max_depth = 64;
  std::size_t max_bytes = 4u << 20;
};

// The value, or a discarded one (is_discarded()) when `text` is not JSON or
// is deeper or larger than `limits`. Never throws.
nlohmann::json parse_untrusted(std::string_view text, JsonLimits limits = {});

// Fields of outside JSON: one of another type (or null, or `j` not an
// object) reads as absent, never as a type_error.
std::string string_field(const nlohmann::json& j, const char* name);
std::int64_t int_field(const nlohmann::json& j, const char* name, std::int64_t fallback = 0);

}  // namespace kiebot
