// Kopecks: money as an integer number of kopecks that does not mix with
// plain integers by accident. Header-only; JSON through nlohmann's ADL hooks.
#pragma once

#include <compare>
#include <concepts>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>

namespace kiebot {

class Kopecks {
 public:
  constexpr Kopecks() noexcept = default;
  // Explicit: `Kopecks k = 150;` or `f(150)` for a Kopecks parameter does
  // not compile, so a count of roubles cannot pass for kopecks silently.
  constexpr explicit Kopecks(std::int64_t count) noexcept : count_(count) {}

  static constexpr Kopecks roubles(std::int64_t whole) noexcept { return Kopecks(whole * 100); }
  static constexpr Kopecks max() noexcept { return Kopecks(std::numeric_limits<std::int64_t>::max()); }

  // The number of kopecks, for Redis, JSON and arithmetic the type does not offer.
  constexpr std::int64_t count() const noexcept { return count_; }
  constexpr std::int64_t value() const noexcept { return count_; }

  friend constexpr bool operator==(Kopecks, Kopecks) noexcept = default;
  friend constexpr std::strong_ordering operator<=>(Kopecks, Kopecks) noexcept = default;

  constexpr Kopecks& operator+=(Kopecks other) noexcept {
    count_ += other.count_;
    return *this;
  }
  constexpr Kopecks& operator-=(Kopecks other) noexcept {
    count_ -= other.count_;
    return *this;
  }
  friend constexpr Kopecks operator+(Kopecks a, Kopecks b) noexcept { return a += b; }
  friend constexpr Kopecks operator-(Kopecks a, Kopecks b) noexcept { return a -= b; }
  friend constexpr Kopecks operator-(Kopecks a) noexcept { return Kopecks(-a.count_); }

  // A price times a count of items. Only integers: `price * 1.5` does not compile.
  template <std::integral N>
  requires(!std::same_as<N, bool>) friend constexpr Kopecks operator*(Kopecks a, N times) noexcept {
    return Kopecks(a.count_ * static_cast<std::int64_t>(times));
  }
  template <std::integral N>
  requires(!std::same_as<N, bool>) friend constexpr Kopecks operator*(N times, Kopecks a) noexcept { return a * times; }

 private:
  std::int64_t count_ = 0;
};

// The count as decimal digits ("15050"), as Redis and logs hold it.
inline std::string to_string(Kopecks k) {
  return std::to_string(k.count());
}

// JSON: an integer. Anything else (a float, a string, a number beyond
// int64) is refused with nlohmann's type_error: money is never rounded.
template <typename BasicJson>
void to_json(BasicJson& j, Kopecks k) {
  j = k.count();
}

template <typename BasicJson>
void from_json(const BasicJson& j, Kopecks& k) {
  if (!j.is_number_integer()) {
    throw BasicJson::type_error::create(302, "money must be an integer number of kopecks", &j);
  }
  if (j.is_number_unsigned() &&
      j.template get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    throw BasicJson::type_error::create(302, "money out of range", &j);
  }
  k = Kopecks(j.template get<std::int64_t>());
}

}  // namespace kiebot

template <>
struct std::hash<kiebot::Kopecks> {
  std::size_t operator()(kiebot::Kopecks k) const noexcept { return std::hash<std::int64_t>{}(k.count()); }
};
