// User text on its way to Telegram: cleaned and cut to Telegram's limits.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kiebot/base/text.hpp"

using namespace kiebot;

TEST(Text, CleanDropsWhatChangesHowTextReads) {
  EXPECT_EQ(text::clean("plain text, 日本語, ёж"), "plain text, 日本語, ёж");
  EXPECT_EQ(text::clean("two\nlines\tand a tab"), "two\nlines\tand a tab");
  EXPECT_EQ(text::clean(std::string("a\0b\x01\x1b[31mc\x7f", 11)), "ab[31mc");
  EXPECT_EQ(text::clean("\xc2\x85next\xc2\x9f"), "next");                            // C1 controls
  EXPECT_EQ(text::clean("\u202Egnp.exe"), "gnp.exe");                                // right-to-left override
  EXPECT_EQ(text::clean("a\u202Ab\u202Cc\u2066d\u2069e\u200Ff\u061Cg"), "abcdefg");  // embeddings, isolates, marks
  EXPECT_EQ(text::clean("zero\u200Bwidth\u2060joiner\uFEFF"), "zerowidthjoiner");
  EXPECT_EQ(text::clean("a\u200Db"), "ab");                      // a joiner outside an emoji
  EXPECT_EQ(text::clean("👨\u200D👩\u200D👧"), "👨\u200D👩\u200D👧");  // an emoji family stays one
  EXPECT_EQ(text::clean("❤\uFE0F\u200D🔥"), "❤\uFE0F\u200D🔥");
}

TEST(Text, CleanRepairsInvalidUtf8) {
  EXPECT_EQ(text::clean("a\xff"
                        "b"),
            "a\uFFFD"
            "b");
  EXPECT_EQ(text::clean("\xc0\xaf"), "\uFFFD\uFFFD");            // overlong '/'
  EXPECT_EQ(text::clean("\xed\xa0\x80"), "\uFFFD\uFFFD\uFFFD");  // a surrogate
  EXPECT_EQ(text::clean("\xe2\x82"), "\uFFFD\uFFFD");            // cut short
  // Whatever comes in, what goes out can be put in JSON.
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  EXPECT_NO_THROW(nlohmann::json(text::clean(all)).dump());
}

TEST(Text, LengthCountsUtf16Units) {
  EXPECT_EQ(text::utf16_length(""), 0u);
  EXPECT_EQ(text::utf16_length("abc"), 3u);
  EXPECT_EQ(text::utf16_length("ёж"), 2u);
  EXPECT_EQ(text::utf16_length("日本"), 2u);
  EXPECT_EQ(text::utf16_length("🦊"), 2u);  // outside the BMP: a surrogate pair
}

TEST(Text, FitCutsBetweenCodePointsWithAnEllipsis) {
  EXPECT_EQ(text::fit("short", 10), "short");
  EXPECT_EQ(text::fit("exactly10!", 10), "exactly10!");
  EXPECT_EQ(text::fit("eleven char", 10), "eleven ch…");
  auto foxes = std::string();
  for (int i = 0; i < 600; ++i) foxes += "🦊";  // 1,200 units
  auto cut = text::fit(foxes, text::kMaxCaption);
  EXPECT_LE(text::utf16_length(cut), text::kMaxCaption);
  EXPECT_EQ(text::utf16_length(cut), 1023u);  // 511 foxes and the ellipsis: never half a pair
  EXPECT_TRUE(cut.ends_with("🦊…"));
  EXPECT_NO_THROW(nlohmann::json(cut).dump());
  std::string cyrillic;
  for (int i = 0; i < 5000; ++i) cyrillic += "ж";
  auto message = text::fit(cyrillic, text::kMaxMessage);
  EXPECT_EQ(text::utf16_length(message), text::kMaxMessage);
  EXPECT_NO_THROW(nlohmann::json(message).dump());
}
