// Numbers users type for a catalog number field, and the catalog's load
// checks that keep typed numbers safe to price and convert.
#include <gtest/gtest.h>

#include <stdexcept>

#include "kiebot/catalog/catalog.hpp"

using namespace kiebot::catalog;

namespace {

Field number(Field::Kie kie, double min, double max, std::vector<std::string> presets = {}) {
  Field f;
  f.name = "x";
  f.type = Field::Type::number;
  f.kie = kie;
  f.min = min;
  f.max = max;
  f.options = std::move(presets);
  return f;
}

std::string model_with(const std::string& field, const std::string& prices) {
  return R"({"version": 2, "categories": ["a"], "models": [{"id": "t/m", "code": "t", "category": "a",
    "name": {"ru": "x", "en": "x"}, "about": {"ru": "x", "en": "x"}, "doc": "https://docs.kie.ai/market/t",
    "checked": "2026-12-05", "fields": [)" + field + R"(], "prices": )" + prices + "}]}";
}

}  // namespace

TEST(CatalogTypedNumber, TakesPlainDecimalsInTheRangeAndRefusesTheRest) {
  auto strength = number(Field::Kie::number, 0.01, 1, {"0.3", "0.8"});
  EXPECT_EQ(typed_number(strength, "0.5"), "0.5");
  EXPECT_EQ(typed_number(strength, "0,5"), "0.5");
  EXPECT_EQ(typed_number(strength, " .80\n"), "0.8") << "a preset's own spelling";
  EXPECT_EQ(typed_number(strength, "1"), "1");
  EXPECT_EQ(typed_number(strength, "+0.010"), "0.01");
  for (const char* bad : {"0", "1.01", "-0.5", "1e-1", "1E0", "0x1", "NaN", "nan", "inf", "-inf", "0.5.1", "0,5,1",
                          ".", "+", "-", "", " ", "½", "٠٫٥", "０.５", "0.5%", "0.5 0.6", "1e999"}) {
    EXPECT_EQ(typed_number(strength, bad), std::nullopt) << bad;
  }
  EXPECT_EQ(typed_number(strength, std::string(10'000, '0') + "1"), std::nullopt) << "10 kB of digits";
  EXPECT_EQ(typed_number(strength, "0." + std::string(63, '5')), std::nullopt) << "over 64 bytes";

  auto seed = number(Field::Kie::integer, 0, 2147483647);
  EXPECT_EQ(typed_number(seed, "2147483647"), "2147483647");
  EXPECT_EQ(typed_number(seed, "007"), "7");
  EXPECT_EQ(typed_number(seed, "7.0"), "7");
  EXPECT_EQ(typed_number(seed, "-0"), "0");
  EXPECT_EQ(typed_number(seed, "7.5"), std::nullopt);
  EXPECT_EQ(typed_number(seed, "2147483648"), std::nullopt);
  EXPECT_EQ(typed_number(seed, "99999999999999999999999999999999"), std::nullopt);
  auto text = seed;
  text.type = Field::Type::text;
  EXPECT_EQ(typed_number(text, "5"), std::nullopt) << "only number fields take typed numbers";
  EXPECT_EQ(number_text(0.1), "0.1");
  EXPECT_EQ(number_text(-0.0), "0");
  EXPECT_EQ(number_text(30), "30");
}

TEST(CatalogTypedNumber, LoadRefusesPricesOnTypedNumbersAndIntegersBeyondADouble) {
  const char* strength = R"({"name": "strength", "type": "number", "kie": "number", "min": 0, "max": 1, "presets": ["0.5"]})";
  EXPECT_NO_THROW(Catalog::parse(model_with(strength, R"([{"kopecks": 1}])")));
  try {
    Catalog::parse(model_with(strength, R"([{"when": {"strength": "0.5"}, "kopecks": 2}, {"kopecks": 1}])"));
    ADD_FAILURE() << "a price on a typed number must not load";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "catalog: t/m.prices: a price cannot depend on the typed number strength");
  }
  EXPECT_THROW(Catalog::parse(model_with(strength, R"([{"when": {"nothing": "1"}, "kopecks": 2}, {"kopecks": 1}])")),
               std::invalid_argument);
  EXPECT_THROW(Catalog::parse(model_with(R"({"name": "seed", "type": "number", "kie": "integer", "min": 0, "max": 1e17})",
                                         R"([{"kopecks": 1}])")),
               std::invalid_argument);
  // A number without presets is optional unless the model says so, and asked in turn.
  auto c = Catalog::parse(model_with(R"({"name": "seed", "type": "number", "kie": "integer", "min": 0, "max": 9})", R"([{"kopecks": 1}])"));
  const auto& seed = c.models().front().fields.front();
  EXPECT_FALSE(seed.required);
  EXPECT_TRUE(seed.asked());
}
