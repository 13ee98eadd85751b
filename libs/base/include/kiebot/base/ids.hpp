// Strong ids: a user, a chat, a job and a hold are distinct types, so one
// cannot be passed where another is meant. Header-only. What each holds is
// what the code and the wire already use: Telegram's user and chat ids are
// int64; job ids ("dlg-42-...") and hold ids ("<user>-<16 hex>") are strings.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

namespace kiebot {

template <typename Tag, typename Rep>
class Id {
 public:
  using rep_type = Rep;

  Id() = default;
  explicit Id(Rep value) noexcept(std::is_nothrow_move_constructible_v<Rep>) : value_(std::move(value)) {}

  const Rep& value() const& noexcept { return value_; }
  Rep value() && noexcept(std::is_nothrow_move_constructible_v<Rep>) { return std::move(value_); }

  friend bool operator==(const Id&, const Id&) = default;
  friend auto operator<=>(const Id&, const Id&) = default;

  // Digits for an integer id, the id itself for a string one (Redis keys, logs, URLs).
  friend std::string to_string(const Id& id) {
    if constexpr (std::is_same_v<Rep, std::string>) {
      return id.value_;
    } else {
      return std::to_string(id.value_);
    }
  }

 private:
  Rep value_{};
};

using UserId = Id<struct UserIdTag, std::int64_t>;
using ChatId = Id<struct ChatIdTag, std::int64_t>;
using JobId = Id<struct JobIdTag, std::string>;
using HoldId = Id<struct HoldIdTag, std::string>;

// JSON: the representation itself (an integer or a string); anything else is
// refused with nlohmann's type_error (no float or "42" read as a user id).
template <typename BasicJson, typename Tag, typename Rep>
void to_json(BasicJson& j, const Id<Tag, Rep>& id) {
  j = id.value();
}

template <typename BasicJson, typename Tag, typename Rep>
void from_json(const BasicJson& j, Id<Tag, Rep>& id) {
  if constexpr (std::is_same_v<Rep, std::string>) {
    if (!j.is_string()) throw BasicJson::type_error::create(302, "an id must be a string", &j);
  } else {
    if (!j.is_number_integer()) throw BasicJson::type_error::create(302, "an id must be an integer", &j);
  }
  id = Id<Tag, Rep>(j.template get<Rep>());
}

}  // namespace kiebot

template <typename Tag, typename Rep>
struct std::hash<kiebot::Id<Tag, Rep>> {
  std::size_t operator()(const kiebot::Id<Tag, Rep>& id) const noexcept { return std::hash<Rep>{}(id.value()); }
};
