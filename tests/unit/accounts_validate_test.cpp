// accounts input rules.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kiebot/http/http.hpp"
#include "validate.hpp"

using namespace kiebot;
using namespace kiebot::accounts;

TEST(AccountsValidate, UserIds) {
  EXPECT_EQ(parse_user_id("42"), 42);
  EXPECT_EQ(parse_user_id("9007199254740991"), 9007199254740991);
  EXPECT_FALSE(parse_user_id("9007199254740992"));
  EXPECT_FALSE(parse_user_id("0"));
  EXPECT_FALSE(parse_user_id("007"));
  EXPECT_FALSE(parse_user_id("-1"));
  EXPECT_FALSE(parse_user_id("1e3"));
  EXPECT_FALSE(parse_user_id(""));
}

TEST(AccountsValidate, HoldIds) {
  auto id = new_hold_id(UserId(42));
  EXPECT_EQ(hold_user(id.value()), UserId(42));
  EXPECT_FALSE(hold_user("42-xyz"));
  EXPECT_FALSE(hold_user("42-0123456789ABCDEF"));
  EXPECT_FALSE(hold_user("0-0123456789abcdef"));
  EXPECT_FALSE(hold_user("nonsense"));
  EXPECT_NE(new_hold_id(UserId(42)), new_hold_id(UserId(42)));
}

TEST(AccountsValidate, Amounts) {
  auto amount = [](const char* text) { return amount_field(nlohmann::json::parse(text), "amount"); };
  EXPECT_EQ(amount(R"({"amount":150})"), Kopecks(150));
  EXPECT_EQ(amount(R"({"amount":1000000000})"), kMaxAmount);
  for (const char* bad : {R"({"amount":0})", R"({"amount":-1})", R"({"amount":1000000001})", R"({"amount":1.5})",
                          R"({"amount":"1"})", R"({})", R"({"amount":null})", R"({"amount":18446744073709551615})"}) {
    EXPECT_THROW(amount(bad), http::BadRequest) << bad;
  }
}

TEST(AccountsValidate, KeysEnumsBodies) {
  EXPECT_EQ(key_field(nlohmann::json::parse(R"({"k":"tg_charge:1"})"), "k"), "tg_charge:1");
  EXPECT_THROW(key_field(nlohmann::json::parse(R"({"k":"a b"})"), "k"), http::BadRequest);
  EXPECT_THROW(key_field(nlohmann::json::parse(R"({"k":""})"), "k"), http::BadRequest);
  EXPECT_THROW(key_field(nlohmann::json::parse(R"({})"), "k"), http::BadRequest);
  EXPECT_EQ(enum_field(nlohmann::json::parse(R"({"kind":"free"})"), "kind", {"paid", "free"}), "free");
  EXPECT_THROW(enum_field(nlohmann::json::parse(R"({"kind":"x"})"), "kind", {"paid", "free"}), http::BadRequest);
  EXPECT_THROW(object_body("[1]"), http::BadRequest);
  EXPECT_THROW(object_body("{"), http::BadRequest);
  EXPECT_EQ(utc_day(std::chrono::system_clock::from_time_t(0)), "19700101");
}
