// Input rules of the accounts API.
#include "validate.hpp"
#include "kiebot/base/json.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>
#include <ctime>
#include <random>

#include "kiebot/http/http.hpp"

namespace kiebot::accounts {

namespace {

constexpr std::int64_t kMaxUserId = (std::int64_t{1} << 53) - 1;

[[noreturn]] void bad(const std::string& code, const std::string& message) {
  throw http::BadRequest{400, code, message};
}

const nlohmann::json& required(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) bad("missing_field", std::string(name) + " is required");
  return *it;
}

}  // namespace

std::optional<std::int64_t> parse_user_id(std::string_view text) {
  if (text.empty() || text.size() > 16 || text.front() == '0') return std::nullopt;
  std::int64_t id = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || ptr != text.data() + text.size() || id <= 0 || id > kMaxUserId) return std::nullopt;
  return id;
}

std::optional<UserId> hold_user(std::string_view hold_id) {
  auto dash = hold_id.find('-');
  if (dash == std::string_view::npos || hold_id.size() - dash - 1 != 16) return std::nullopt;
  for (char c : hold_id.substr(dash + 1)) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
  }
  auto user = parse_user_id(hold_id.substr(0, dash));
  if (!user) return std::nullopt;
  return UserId(*user);
}

HoldId new_hold_id(UserId user_id) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(rng()));
  return HoldId(to_string(user_id) + "-" + suffix);
}

nlohmann::json object_body(const std::string& body) {
  auto parsed = parse_untrusted(body);
  if (parsed.is_discarded()) bad("invalid_json", "the request body is not valid JSON");
  if (!parsed.is_object()) bad("invalid_json", "the request body must be a JSON object");
  return parsed;
}

Kopecks amount_field(const nlohmann::json& body, const char* name) {
  const auto& v = required(body, name);
  if (!v.is_number_integer()) bad("invalid_amount", std::string(name) + " must be an integer number of kopecks");
  auto too_large = [&] {
    bad("invalid_amount", std::string(name) + " must be at most " + to_string(kMaxAmount) + " kopecks");
  };
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxAmount.count())) too_large();
  auto amount = v.get<Kopecks>();
  if (amount <= Kopecks()) bad("invalid_amount", std::string(name) + " must be positive");
  if (amount > kMaxAmount) too_large();
  return amount;
}

std::string key_field(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) bad("missing_idempotency_key", std::string(name) + " is required");
  if (!it->is_string()) bad("invalid_idempotency_key", std::string(name) + " must be a string");
  const auto& key = it->get_ref<const std::string&>();
  if (key.empty() || key.size() > kMaxKeyLength) {
    bad("invalid_idempotency_key", std::string(name) + " must be 1-" + std::to_string(kMaxKeyLength) + " characters");
  }
  for (unsigned char c : key) {
    if (c <= 0x20 || c == 0x7f)
      bad("invalid_idempotency_key", std::string(name) + " must not contain spaces or controls");
  }
  return key;
}

std::string enum_field(const nlohmann::json& body, const char* name, std::initializer_list<std::string_view> allowed) {
  const auto& v = required(body, name);
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  if (!v.is_string()) bad("invalid_field", std::string(name) + " must be one of " + list);
  const auto& s = v.get_ref<const std::string&>();
  for (auto a : allowed) {
    if (s == a) return s;
  }
  bad("invalid_field", std::string(name) + " must be one of " + list);
}

std::optional<std::int64_t> optional_int_field(const nlohmann::json& body, const char* name, std::int64_t min,
                                               std::int64_t max) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() ||
      (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) ||
      it->get<std::int64_t>() < min || it->get<std::int64_t>() > max) {
    bad("invalid_field",
        std::string(name) + " must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return it->get<std::int64_t>();
}

std::string optional_string_field(const nlohmann::json& body, const char* name, std::size_t max_length) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return {};
  if (!it->is_string() || it->get_ref<const std::string&>().size() > max_length) {
    bad("invalid_field", std::string(name) + " must be a string of at most " + std::to_string(max_length) + " bytes");
  }
  return it->get<std::string>();
}

std::string utc_day(std::chrono::system_clock::time_point now) {
  auto t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100, tm.tm_mday % 100);
  return buf;
}

std::int64_t now_ms(std::chrono::system_clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
}

}  // namespace kiebot::accounts
