// Amounts people type ("150", "150.5", "150,50", "1 500") read into Kopecks,
// and Kopecks written back as such text. Integers only: no floating point.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kiebot/base/money.hpp"

namespace kiebot {

// Why a text is not an amount.
enum class AmountError {
  empty,                // nothing but spaces
  too_long,             // longer than kMaxAmountText bytes
  negative,             // a leading minus
  not_a_number,         // a letter, a sign, a symbol, or no digit at all
  too_many_decimals,    // more than two digits after the separator
  misplaced_separator,  // a second decimal separator ("1.500,50", "1..5")
  bad_grouping,         // thousands groups not of three digits ("1 5 0", "1 50", "15 00")
  too_large,            // beyond the largest Kopecks
};

std::string_view to_string(AmountError error);

// Longer than any amount could be written ("92 233 720 368 547 758,07" is 26).
inline constexpr std::size_t kMaxAmountText = 64;

// The amount, or why there is none. Like std::expected<Kopecks, AmountError>.
class ParsedAmount {
 public:
  ParsedAmount(Kopecks value) : value_(value) {}      // NOLINT(google-explicit-constructor): the success case
  ParsedAmount(AmountError error) : error_(error) {}  // NOLINT(google-explicit-constructor): the failure case

  bool has_value() const { return value_.has_value(); }
  explicit operator bool() const { return has_value(); }
  // Precondition: has_value().
  Kopecks value() const { return *value_; }
  Kopecks operator*() const { return *value_; }
  const Kopecks* operator->() const { return &*value_; }
  // Precondition: !has_value().
  AmountError error() const { return error_; }
  std::optional<Kopecks> optional() const { return value_; }

 private:
  std::optional<Kopecks> value_;
  AmountError error_ = AmountError::empty;
};

// Roubles with up to two decimals into kopecks: "150" 15000, "150.5" 15050,
// "150,50" 15050, ".5" 50, "5." 500, "0,01" 1. The decimal separator is '.'
// or ','; thousands may be grouped by threes with a space, a no-break space
// (U+00A0), a narrow no-break space (U+202F) or a thin space (U+2009):
// "1 500", "1 500 000,5". Spaces around the amount are ignored. Zero is an
// amount: callers check their own bounds.
ParsedAmount parse_amount(std::string_view text);

struct AmountFormat {
  char decimal = '.';
  std::string_view group = {};  // between thousands; empty: none
  bool always_kopecks = false;  // "150.00" rather than "150"
};

// Roubles as text, e.g. {',', " "}: 150000 -> "1 500", 15050 -> "150,50".
// Whatever it writes for a non-negative amount, parse_amount reads back.
std::string format_amount(Kopecks amount, AmountFormat format = {});

}  // namespace kiebot
