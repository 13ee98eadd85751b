// Bounded JSON parsing (see json.hpp).
#include "kiebot/common/json.hpp"

#include <cstdint>

namespace kiebot {

namespace {

// A first pass that builds nothing: nlohmann's SAX parser keeps its own
// stack on the heap, so only the tree is recursive, and it is built only
// once this pass has seen the depth stay within bounds.
class DepthCheck : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit DepthCheck(std::size_t max_depth) : max_depth_(max_depth) {}
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return ++depth_ <= max_depth_; }
  bool key(string_t&) override { return true; }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override { return ++depth_ <= max_depth_; }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  std::size_t max_depth_;
  std::size_t depth_ = 0;
};

}  // namespace

nlohmann::json parse_untrusted(std::string_view text, JsonLimits limits) {
  nlohmann::json discarded(nlohmann::json::value_t::discarded);
  if (text.size() > limits.max_bytes) return discarded;
  DepthCheck check(limits.max_depth);
  if (!nlohmann::json::sax_parse(text, &check, nlohmann::json::input_format_t::json, false)) return discarded;
  return nlohmann::json::parse(text, nullptr, false);
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
