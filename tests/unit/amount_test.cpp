// parse_amount and format_amount: what people type, at the edges.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "kiebot/base/amount.hpp"

using namespace kiebot;

namespace {

std::int64_t kopecks(std::string_view text) {
  auto parsed = parse_amount(text);
  EXPECT_TRUE(parsed) << "'" << text << "': " << (parsed ? "" : to_string(parsed.error()));
  return parsed ? parsed->count() : -1;
}

AmountError refused(std::string_view text) {
  auto parsed = parse_amount(text);
  EXPECT_FALSE(parsed) << "'" << text << "' read as " << (parsed ? parsed->count() : 0);
  return parsed ? AmountError::empty : parsed.error();
}

const std::string kNbsp = "\xC2\xA0";
const std::string kNarrowNbsp = "\xE2\x80\xAF";
const std::string kThin = "\xE2\x80\x89";

}  // namespace

TEST(Amount, WhatPeopleType) {
  EXPECT_EQ(kopecks("150"), 15'000);
  EXPECT_EQ(kopecks("150.5"), 15'050);
  EXPECT_EQ(kopecks("150,5"), 15'050);
  EXPECT_EQ(kopecks("150,50"), 15'050);
  EXPECT_EQ(kopecks("150.05"), 15'005);
  EXPECT_EQ(kopecks("0.29"), 29);
  EXPECT_EQ(kopecks("0"), 0);
  EXPECT_EQ(kopecks("0,01"), 1);
  EXPECT_EQ(kopecks("0.00"), 0);
  EXPECT_EQ(kopecks(".5"), 50);
  EXPECT_EQ(kopecks(",05"), 5);
  EXPECT_EQ(kopecks("5."), 500);
  EXPECT_EQ(kopecks("007"), 700);
  EXPECT_EQ(kopecks(" 150 "), 15'000);
  EXPECT_EQ(kopecks("\t150\n"), 15'000);
  EXPECT_EQ(kopecks(kNbsp + "150" + kNarrowNbsp), 15'000);
}

TEST(Amount, ThousandsGroupedByThrees) {
  EXPECT_EQ(kopecks("1 500"), 150'000);
  EXPECT_EQ(kopecks("1 500,50"), 150'050);
  EXPECT_EQ(kopecks("12 345 678.9"), 1'234'567'890);
  EXPECT_EQ(kopecks("1" + kNbsp + "500"), 150'000);
  EXPECT_EQ(kopecks("1" + kNarrowNbsp + "500" + kNarrowNbsp + "000"), 150'000'000);
  EXPECT_EQ(kopecks("1" + kThin + "000"), 100'000);
  EXPECT_EQ(kopecks("100 000"), 10'000'000);
  EXPECT_EQ(refused("1 5 0"), AmountError::bad_grouping);
  EXPECT_EQ(refused("1 50"), AmountError::bad_grouping);
  EXPECT_EQ(refused("15 00"), AmountError::bad_grouping);
  EXPECT_EQ(refused("1500 000"), AmountError::bad_grouping);
  EXPECT_EQ(refused("1  500"), AmountError::bad_grouping);
  EXPECT_EQ(refused("1 500 ,5"), AmountError::bad_grouping);
  EXPECT_EQ(refused("1 500,5 0"), AmountError::bad_grouping);
  EXPECT_EQ(refused("1 5000"), AmountError::bad_grouping);
  EXPECT_EQ(refused("150 р"), AmountError::bad_grouping);
}

TEST(Amount, Refusals) {
  EXPECT_EQ(refused(""), AmountError::empty);
  EXPECT_EQ(refused("   "), AmountError::empty);
  EXPECT_EQ(refused(kNbsp), AmountError::empty);
  EXPECT_EQ(refused("-1"), AmountError::negative);
  EXPECT_EQ(refused("-0"), AmountError::negative);
  EXPECT_EQ(refused(" -150"), AmountError::negative);
  EXPECT_EQ(refused("\xE2\x88\x92"
                    "5"),
            AmountError::negative);
  EXPECT_EQ(refused("+5"), AmountError::not_a_number);
  EXPECT_EQ(refused("150.555"), AmountError::too_many_decimals);
  EXPECT_EQ(refused("1,500"), AmountError::too_many_decimals);  // ambiguous: 1.5 or 1500
  EXPECT_EQ(refused("0.001"), AmountError::too_many_decimals);
  EXPECT_EQ(refused("1.500,50"), AmountError::misplaced_separator);
  EXPECT_EQ(refused("1..5"), AmountError::misplaced_separator);
  EXPECT_EQ(refused("1,5,"), AmountError::misplaced_separator);
  EXPECT_EQ(refused("."), AmountError::not_a_number);
  EXPECT_EQ(refused(","), AmountError::not_a_number);
  EXPECT_EQ(refused("abc"), AmountError::not_a_number);
  EXPECT_EQ(refused("150abc"), AmountError::not_a_number);
  EXPECT_EQ(refused("1.5x"), AmountError::not_a_number);
  EXPECT_EQ(refused("nan"), AmountError::not_a_number);
  EXPECT_EQ(refused("inf"), AmountError::not_a_number);
  EXPECT_EQ(refused("1e3"), AmountError::not_a_number);
  EXPECT_EQ(refused("0x10"), AmountError::not_a_number);
  EXPECT_EQ(refused("150₽"), AmountError::not_a_number);
  EXPECT_EQ(refused(std::string("15\0"
                                "0",
                                4)),
            AmountError::not_a_number);
  EXPECT_EQ(refused("١٥٠"), AmountError::not_a_number);  // Arabic-Indic digits
  EXPECT_EQ(refused(std::string(65, '1')), AmountError::too_long);
  EXPECT_EQ(refused(std::string(100, ' ') + "1"), AmountError::too_long);
}

TEST(Amount, Int64Limits) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();  // 92233720368547758.07 roubles
  EXPECT_EQ(kopecks("92233720368547758.07"), kMax);
  EXPECT_EQ(kopecks("92 233 720 368 547 758,07"), kMax);
  EXPECT_EQ(kopecks("92233720368547758"), kMax - 7);
  EXPECT_EQ(refused("92233720368547758.08"), AmountError::too_large);
  EXPECT_EQ(refused("92233720368547759"), AmountError::too_large);
  EXPECT_EQ(refused("9223372036854775807"), AmountError::too_large);
  EXPECT_EQ(refused("99999999999999999999999999999999"), AmountError::too_large);
  EXPECT_EQ(kopecks("000000000000000000000000000000000000000001"), 100);
}

TEST(Amount, Format) {
  EXPECT_EQ(format_amount(Kopecks(15'000)), "150");
  EXPECT_EQ(format_amount(Kopecks(15'050)), "150.50");
  EXPECT_EQ(format_amount(Kopecks(5)), "0.05");
  EXPECT_EQ(format_amount(Kopecks(0)), "0");
  EXPECT_EQ(format_amount(Kopecks(0), {.always_kopecks = true}), "0.00");
  EXPECT_EQ(format_amount(Kopecks(150'000), {.decimal = ',', .group = " "}), "1 500");
  EXPECT_EQ(format_amount(Kopecks(123'456'789), {.decimal = ',', .group = " "}), "1 234 567,89");
  EXPECT_EQ(format_amount(Kopecks(-15'050)), "-150.50");
  EXPECT_EQ(format_amount(Kopecks(std::numeric_limits<std::int64_t>::min())), "-92233720368547758.08");
  EXPECT_EQ(format_amount(Kopecks::max(), {.group = kNarrowNbsp}), "92" + kNarrowNbsp + "233" + kNarrowNbsp + "720" +
                                                                       kNarrowNbsp + "368" + kNarrowNbsp + "547" +
                                                                       kNarrowNbsp + "758.07");
}

TEST(Amount, FormatThenParseIsTheSameAmount) {
  const AmountFormat formats[] = {{},
                                  {.decimal = ','},
                                  {.decimal = ',', .group = " "},
                                  {.group = kNbsp, .always_kopecks = true},
                                  {.decimal = ',', .group = kNarrowNbsp}};
  for (std::int64_t k : {std::int64_t{0}, std::int64_t{1}, std::int64_t{10}, std::int64_t{99}, std::int64_t{100},
                         std::int64_t{15'050}, std::int64_t{99'999'999}, std::int64_t{100'000'000},
                         std::numeric_limits<std::int64_t>::max() - 1, std::numeric_limits<std::int64_t>::max()}) {
    for (const auto& f : formats) {
      auto text = format_amount(Kopecks(k), f);
      auto back = parse_amount(text);
      ASSERT_TRUE(back) << text;
      EXPECT_EQ(back->count(), k) << text;
    }
  }
}
