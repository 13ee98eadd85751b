// Numbers users type for a number field (see catalog.hpp): a strict
// grammar checked before any conversion, so that hostile text ("1e999",
// "NaN", Arabic-Indic digits, 10 kB of digits) is refused, never converted.
#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>

#include "kiebot/catalog/catalog.hpp"

namespace kiebot::catalog {

namespace {

constexpr std::size_t kMaxTyped = 64;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// [+-]digits[(.|,)digits] or [+-](.|,)digits, ASCII only, with '.' as the point.
std::optional<std::string> plain_decimal(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    if (s[i] == '-') out += '-';
    ++i;
  }
  bool digits = false, point = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      digits = true;
      out += c;
    } else if ((c == '.' || c == ',') && !point) {
      point = true;
      out += '.';
    } else {
      return std::nullopt;
    }
  }
  if (!digits) return std::nullopt;
  return out;
}

}  // namespace

std::string number_text(double x) {
  if (x == 0) x = 0;  // -0 reads as 0
  auto s = nlohmann::json(x).dump();
  if (s.size() > 2 && s.ends_with(".0")) s.resize(s.size() - 2);
  return s;
}

std::optional<std::string> typed_number(const Field& field, std::string_view text) {
  if (field.type != Field::Type::number || text.size() > kMaxTyped) return std::nullopt;
  auto plain = plain_decimal(trimmed(text));
  if (!plain) return std::nullopt;
  double x = 0;
  auto [end, ec] = std::from_chars(plain->data(), plain->data() + plain->size(), x, std::chars_format::fixed);
  if (ec != std::errc() || end != plain->data() + plain->size() || !std::isfinite(x)) return std::nullopt;
  if (x < field.min || x > field.max) return std::nullopt;
  if (field.kie == Field::Kie::integer && std::floor(x) != x) return std::nullopt;
  for (const auto& preset : field.options) {
    double p = 0;
    auto [pend, pec] = std::from_chars(preset.data(), preset.data() + preset.size(), p);
    if (pec == std::errc() && pend == preset.data() + preset.size() && p == x) return preset;
  }
  if (field.kie == Field::Kie::integer) return std::to_string(static_cast<std::int64_t>(x));  // within ±2^53 (load check)
  return number_text(x);
}

}  // namespace kiebot::catalog
