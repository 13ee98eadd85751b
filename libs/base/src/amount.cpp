// Amounts people type, read into kopecks and written back (see amount.hpp).
#include "kiebot/base/amount.hpp"

#include <array>
#include <cstdint>
#include <limits>

namespace kiebot {

namespace {

// Spaces that may group thousands or surround the amount.
constexpr std::array<std::string_view, 4> kSpaces = {" ", "\xC2\xA0", "\xE2\x80\xAF", "\xE2\x80\x89"};
constexpr std::string_view kMinusSign = "\xE2\x88\x92";  // U+2212, what some keyboards type

// The length of the space that `text` starts with, or 0.
std::size_t space_at(std::string_view text) {
  for (auto s : kSpaces) {
    if (text.starts_with(s)) return s.size();
  }
  return 0;
}

std::string_view trim(std::string_view text) {
  while (true) {
    if (!text.empty() && (text.front() == '\t' || text.front() == '\n' || text.front() == '\r')) {
      text.remove_prefix(1);
    } else if (auto n = space_at(text)) {
      text.remove_prefix(n);
    } else {
      break;
    }
  }
  while (true) {
    if (!text.empty() && (text.back() == '\t' || text.back() == '\n' || text.back() == '\r')) {
      text.remove_suffix(1);
      continue;
    }
    bool cut = false;
    for (auto s : kSpaces) {
      if (text.ends_with(s)) {
        text.remove_suffix(s.size());
        cut = true;
        break;
      }
    }
    if (!cut) break;
  }
  return text;
}

bool digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::string_view to_string(AmountError error) {
  switch (error) {
    case AmountError::empty:
      return "empty";
    case AmountError::too_long:
      return "too_long";
    case AmountError::negative:
      return "negative";
    case AmountError::not_a_number:
      return "not_a_number";
    case AmountError::too_many_decimals:
      return "too_many_decimals";
    case AmountError::misplaced_separator:
      return "misplaced_separator";
    case AmountError::bad_grouping:
      return "bad_grouping";
    case AmountError::too_large:
      return "too_large";
  }
  return "unknown";
}

ParsedAmount parse_amount(std::string_view text) {
  if (text.size() > kMaxAmountText) return AmountError::too_long;
  text = trim(text);
  if (text.empty()) return AmountError::empty;
  if (text.front() == '-' || text.starts_with(kMinusSign)) return AmountError::negative;

  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t roubles = 0;
  bool too_large = false;
  std::size_t whole_digits = 0;
  std::size_t group_digits = 0;  // digits since the last group space
  bool grouped = false;
  std::size_t i = 0;
  // The roubles: digits, perhaps grouped by threes.
  while (i < text.size()) {
    char c = text[i];
    if (digit(c)) {
      if (roubles > (kMax - (c - '0')) / 10) too_large = true;
      if (!too_large) roubles = roubles * 10 + (c - '0');
      ++whole_digits;
      ++group_digits;
      ++i;
    } else if (auto n = space_at(text.substr(i))) {
      // A group ends here: the first one has 1-3 digits, the others 3, and
      // a digit follows.
      if (group_digits == 0 || group_digits > 3 || (grouped && group_digits != 3)) return AmountError::bad_grouping;
      if (i + n >= text.size() || !digit(text[i + n])) return AmountError::bad_grouping;
      grouped = true;
      group_digits = 0;
      i += n;
    } else {
      break;
    }
  }
  if (grouped && group_digits != 3) return AmountError::bad_grouping;
  // The kopecks: a separator and at most two digits.
  std::int64_t kopecks = 0;
  std::size_t decimals = 0;
  if (i < text.size()) {
    if (text[i] != '.' && text[i] != ',') return AmountError::not_a_number;
    ++i;
    for (; i < text.size(); ++i) {
      char c = text[i];
      if (digit(c)) {
        if (++decimals <= 2) kopecks = kopecks * 10 + (c - '0');
      } else if (c == '.' || c == ',') {
        return AmountError::misplaced_separator;
      } else if (space_at(text.substr(i)) != 0) {
        return AmountError::bad_grouping;
      } else {
        return AmountError::not_a_number;
      }
    }
    if (decimals > 2) return AmountError::too_many_decimals;
    if (decimals == 1) kopecks *= 10;
  }
  if (whole_digits == 0 && decimals == 0) return AmountError::not_a_number;
  if (too_large || roubles > (kMax - kopecks) / 100) return AmountError::too_large;
  return Kopecks(roubles * 100 + kopecks);
}

std::string format_amount(Kopecks amount, AmountFormat format) {
  // The magnitude as unsigned, so that the most negative amount has one too.
  auto count = amount.count();
  auto magnitude = count < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(count) : static_cast<std::uint64_t>(count);
  auto digits = std::to_string(magnitude / 100);
  std::string out = count < 0 ? "-" : "";
  for (std::size_t k = 0; k < digits.size(); ++k) {
    if (k > 0 && !format.group.empty() && (digits.size() - k) % 3 == 0) out += format.group;
    out += digits[k];
  }
  auto cents = magnitude % 100;
  if (cents != 0 || format.always_kopecks) {
    out += format.decimal;
    out += static_cast<char>('0' + cents / 10);
    out += static_cast<char>('0' + cents % 10);
  }
  return out;
}

}  // namespace kiebot
