// Amounts people type (libs/base amount.hpp): parse_amount never throws
// and gives kopecks in [0, INT64_MAX] or a reason; what it accepts, written
// back by format_amount in any style, reads back the same; and any kopecks
// (taken from the input's bytes) written in any style read back the same.
#include <cstdint>
#include <cstring>
#include <string>

#include "check.hpp"
#include "kiebot/base/amount.hpp"

namespace {

using kiebot::AmountFormat;
using kiebot::Kopecks;

const AmountFormat kStyles[] = {
    {},
    {.decimal = ','},
    {.decimal = ',', .group = " "},
    {.decimal = '.', .group = "\xC2\xA0", .always_kopecks = true},
    {.decimal = ',', .group = "\xE2\x80\xAF"},
    {.decimal = '.', .group = "\xE2\x80\x89", .always_kopecks = true},
};

void round_trip(Kopecks k) {
  for (const auto& style : kStyles) {
    auto text = kiebot::format_amount(k, style);
    auto back = kiebot::parse_amount(text);
    FUZZ_CHECK(back && *back == k);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  auto text = kiebot::fuzz::as_text(data, size);
  auto parsed = kiebot::parse_amount(text);
  if (parsed) {
    FUZZ_CHECK(parsed->count() >= 0);
    FUZZ_CHECK(text.size() <= kiebot::kMaxAmountText);
    round_trip(*parsed);
  } else {
    FUZZ_CHECK(!kiebot::to_string(parsed.error()).empty());
  }
  // The first 8 bytes as a non-negative count of kopecks.
  if (size >= 8) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, data, 8);
    auto k = static_cast<std::int64_t>(bits & 0x7FFF'FFFF'FFFF'FFFFULL);
    round_trip(Kopecks(k));
    round_trip(Kopecks(k % 1'000'000'000));  // amounts of everyday size too
  }
  return 0;
}
