// parse_untrusted (libs/base json.hpp): any bytes give a value or a
// discarded one, never an exception; a value is at most max_depth deep and
// survives dump and re-parse unchanged; a discarded one is not JSON or is
// too deep or too large. string_field and int_field never throw.
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "kiebot/base/json.hpp"

using nlohmann::json;

namespace {

// Nesting of the raw text (brackets outside strings).
std::size_t text_depth(std::string_view s) {
  std::size_t depth = 0, max = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max = std::max(max, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max;
}

std::size_t tree_depth(const json& j) {
  std::size_t d = 0;
  if (j.is_structured()) {
    for (const auto& v : j) d = std::max(d, tree_depth(v));
    return d + 1;
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  auto text = kiebot::fuzz::as_text(data, size);
  kiebot::JsonLimits limits;
  limits.max_depth = 16;
  limits.max_bytes = 1 << 16;
  auto j = kiebot::parse_untrusted(text, limits);
  if (j.is_discarded()) {
    // Refused: not JSON, or deeper than the limit.
    FUZZ_CHECK(!json::accept(text) || text_depth(text) > limits.max_depth);
    return 0;
  }
  FUZZ_CHECK(tree_depth(j) <= limits.max_depth);
  auto dumped = j.dump();
  auto again = kiebot::parse_untrusted(dumped, limits);
  FUZZ_CHECK(!again.is_discarded());
  FUZZ_CHECK(again == j || j.dump() == again.dump());  // NaN-free: equal; floats: same text
  for (const char* name : {"a", "id", "code", "data", ""}) {
    (void)kiebot::string_field(j, name);
    auto n = kiebot::int_field(j, name, -7);
    if (!j.is_object() || !j.contains(name)) FUZZ_CHECK(n == -7);
  }
  return 0;
}
