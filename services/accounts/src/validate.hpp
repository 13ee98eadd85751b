// Input rules of the accounts API: pure functions, unit-tested without Redis.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kiebot/base/ids.hpp"
#include "kiebot/base/money.hpp"

namespace kiebot::accounts {

// 10 million roubles: the largest amount any single request may carry.
constexpr Kopecks kMaxAmount{1'000'000'000};
constexpr std::size_t kMaxKeyLength = 200;

// Telegram user ids: positive integers below 2^53.
std::optional<std::int64_t> parse_user_id(std::string_view text);

// `<user id>-<16 hex digits>`; returns the user id.
std::optional<UserId> hold_user(std::string_view hold_id);
HoldId new_hold_id(UserId user_id);

// The request body as a JSON object; throws http::BadRequest otherwise.
nlohmann::json object_body(const std::string& body);

// Field readers; each throws http::BadRequest naming the field.
// A positive amount up to kMaxAmount.
Kopecks amount_field(const nlohmann::json& body, const char* name);
std::string key_field(const nlohmann::json& body, const char* name);
std::string enum_field(const nlohmann::json& body, const char* name, std::initializer_list<std::string_view> allowed);
std::optional<std::int64_t> optional_int_field(const nlohmann::json& body, const char* name, std::int64_t min,
                                               std::int64_t max);
std::string optional_string_field(const nlohmann::json& body, const char* name, std::size_t max_length);

// YYYYMMDD of the UTC day.
std::string utc_day(std::chrono::system_clock::time_point now);
std::int64_t now_ms(std::chrono::system_clock::time_point now);

}  // namespace kiebot::accounts
