// Strong types: ids and Kopecks do not mix with each other or with plain
// integers (checked at compile time), and read and write JSON exactly.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <concepts>
#include <cstdint>
#include <limits>
#include <unordered_set>

#include "kiebot/base/ids.hpp"
#include "kiebot/base/money.hpp"

using namespace kiebot;
using nlohmann::json;

namespace {

template <typename A, typename B>
concept Addable = requires(A a, B b) {
  a + b;
};
template <typename A, typename B>
concept Subtractable = requires(A a, B b) {
  a - b;
};
template <typename A, typename B>
concept Multipliable = requires(A a, B b) {
  a* b;
};
template <typename A, typename B>
concept Comparable = requires(A a, B b) {
  a < b;
};
template <typename A, typename B>
concept EqualityComparable = requires(A a, B b) {
  a == b;
};
template <typename A, typename B>
concept AddAssignable = requires(A a, B b) {
  a += b;
};

// Kopecks: only with Kopecks, times an integer count; never implicitly from or to a number.
static_assert(!std::is_convertible_v<std::int64_t, Kopecks>);
static_assert(!std::is_convertible_v<int, Kopecks>);
static_assert(!std::is_convertible_v<double, Kopecks>);
static_assert(!std::is_convertible_v<Kopecks, std::int64_t>);
static_assert(!std::is_convertible_v<Kopecks, double>);
static_assert(!std::is_convertible_v<Kopecks, bool>);
static_assert(std::is_constructible_v<Kopecks, std::int64_t>);
static_assert(!Addable<Kopecks, int> && !Addable<int, Kopecks> && !Addable<Kopecks, std::int64_t>);
static_assert(!Subtractable<Kopecks, int> && !Subtractable<std::int64_t, Kopecks>);
static_assert(!AddAssignable<Kopecks, int> && !AddAssignable<Kopecks&, std::int64_t>);
static_assert(!Comparable<Kopecks, int> && !Comparable<std::int64_t, Kopecks>);
static_assert(!EqualityComparable<Kopecks, int> && !EqualityComparable<Kopecks, std::int64_t>);
static_assert(!Multipliable<Kopecks, Kopecks>);
static_assert(!Multipliable<Kopecks, double> && !Multipliable<double, Kopecks>);
static_assert(!Multipliable<Kopecks, bool>);
static_assert(Addable<Kopecks, Kopecks> && Subtractable<Kopecks, Kopecks> && Comparable<Kopecks, Kopecks>);
static_assert(Multipliable<Kopecks, int> && Multipliable<std::int64_t, Kopecks> && Multipliable<Kopecks, unsigned>);
static_assert(sizeof(Kopecks) == sizeof(std::int64_t));

// Arithmetic is constexpr.
static_assert(Kopecks(150) + Kopecks(50) == Kopecks(200));
static_assert(Kopecks(150) - Kopecks(200) == Kopecks(-50));
static_assert(Kopecks(150) * 3 == Kopecks(450) && 3 * Kopecks(150) == Kopecks(450));
static_assert(Kopecks::roubles(15) == Kopecks(1500));
static_assert(Kopecks(1) < Kopecks(2) && Kopecks() == Kopecks(0));
static_assert(-Kopecks(5) == Kopecks(-5));

// Ids: distinct types, not numbers or strings.
static_assert(!std::is_convertible_v<std::int64_t, UserId>);
static_assert(!std::is_convertible_v<UserId, std::int64_t>);
static_assert(!std::is_convertible_v<UserId, ChatId> && !std::is_convertible_v<ChatId, UserId>);
static_assert(!std::is_constructible_v<ChatId, UserId>);
static_assert(!std::is_convertible_v<std::string, JobId> && !std::is_convertible_v<const char*, HoldId>);
static_assert(!std::is_convertible_v<JobId, HoldId> && !std::is_constructible_v<HoldId, JobId>);
static_assert(!EqualityComparable<UserId, ChatId> && !EqualityComparable<UserId, std::int64_t>);
static_assert(!EqualityComparable<JobId, HoldId> && !EqualityComparable<JobId, std::string>);
static_assert(!Addable<UserId, int> && !Addable<UserId, UserId>);
static_assert(std::same_as<UserId::rep_type, std::int64_t> && std::same_as<HoldId::rep_type, std::string>);

}  // namespace

TEST(Kopecks, Arithmetic) {
  Kopecks balance(10'000);
  balance += Kopecks(550);
  balance -= Kopecks::roubles(1);
  EXPECT_EQ(balance, Kopecks(10'450));
  EXPECT_EQ(balance.count(), 10'450);
  EXPECT_EQ(balance.value(), 10'450);
  EXPECT_LT(Kopecks(-1), Kopecks());
  EXPECT_EQ(Kopecks(2'500) * std::int64_t{4}, Kopecks(10'000));
  EXPECT_EQ(to_string(Kopecks(-15'050)), "-15050");
  EXPECT_EQ(Kopecks::max().count(), std::numeric_limits<std::int64_t>::max());
  std::unordered_set<Kopecks> seen{Kopecks(1), Kopecks(1), Kopecks(2)};
  EXPECT_EQ(seen.size(), 2u);
}

TEST(Kopecks, JsonIsAnExactInteger) {
  json j = Kopecks(15'050);
  EXPECT_EQ(j.dump(), "15050");
  EXPECT_EQ(json::parse("15050").get<Kopecks>(), Kopecks(15'050));
  EXPECT_EQ(json::parse("-7").get<Kopecks>(), Kopecks(-7));
  EXPECT_EQ(json::parse("9223372036854775807").get<Kopecks>(), Kopecks::max());
  json body = {{"amount", Kopecks(300)}};
  EXPECT_EQ(body.dump(), R"({"amount":300})");
  EXPECT_EQ(body.at("amount").get<Kopecks>(), Kopecks(300));
  // Never rounded, never read from text, never wrapped.
  EXPECT_THROW(json::parse("150.5").get<Kopecks>(), json::type_error);
  EXPECT_THROW(json::parse("1e3").get<Kopecks>(), json::type_error);
  EXPECT_THROW(json::parse("\"150\"").get<Kopecks>(), json::type_error);
  EXPECT_THROW(json::parse("null").get<Kopecks>(), json::type_error);
  EXPECT_THROW(json::parse("true").get<Kopecks>(), json::type_error);
  EXPECT_THROW(json::parse("9223372036854775808").get<Kopecks>(), json::type_error);
  EXPECT_THROW(json::parse("18446744073709551615").get<Kopecks>(), json::type_error);
}

TEST(Ids, ValuesAndStrings) {
  UserId user(42);
  ChatId chat(-100123);
  JobId job("dlg-42-abc");
  HoldId hold("42-0123456789abcdef");
  EXPECT_EQ(user.value(), 42);
  EXPECT_EQ(to_string(user), "42");
  EXPECT_EQ(to_string(chat), "-100123");
  EXPECT_EQ(to_string(job), "dlg-42-abc");
  EXPECT_EQ(hold.value(), "42-0123456789abcdef");
  EXPECT_EQ(UserId(42), user);
  EXPECT_NE(UserId(43), user);
  EXPECT_LT(UserId(1), UserId(2));
  EXPECT_EQ(std::move(job).value(), "dlg-42-abc");
  std::unordered_set<HoldId> holds{hold, hold, HoldId("7-00")};
  EXPECT_EQ(holds.size(), 2u);
}

TEST(Ids, Json) {
  json j = {{"user_id", UserId(42)}, {"chat_id", ChatId(-5)}, {"job_id", JobId("j-1")}, {"hold_id", HoldId("42-ab")}};
  EXPECT_EQ(j.dump(), R"({"chat_id":-5,"hold_id":"42-ab","job_id":"j-1","user_id":42})");
  EXPECT_EQ(j.at("user_id").get<UserId>(), UserId(42));
  EXPECT_EQ(j.at("chat_id").get<ChatId>(), ChatId(-5));
  EXPECT_EQ(j.at("job_id").get<JobId>(), JobId("j-1"));
  EXPECT_EQ(j.at("hold_id").get<HoldId>(), HoldId("42-ab"));
  EXPECT_THROW(json("42").get<UserId>(), json::type_error);
  EXPECT_THROW(json(4.2).get<UserId>(), json::type_error);
  EXPECT_THROW(json(42).get<JobId>(), json::type_error);
  EXPECT_THROW(json(nullptr).get<HoldId>(), json::type_error);
}
