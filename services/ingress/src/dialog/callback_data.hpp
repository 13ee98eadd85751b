// Inline-button data: "1|verb|arg|arg", versioned and within Telegram's
// 64 bytes. Anything else (an older version, a forged button) decodes to
// nothing, and the dialog answers that the menu expired.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiebot::dialog {

struct Callback {
  std::string verb;
  std::vector<std::string> args;
  const std::string& arg(std::size_t i) const;  // "" when absent
};

inline constexpr std::size_t kMaxCallbackData = 64;

// Throws std::length_error beyond 64 bytes; args must not contain '|'.
std::string encode_callback(std::string_view verb, const std::vector<std::string>& args = {});
std::optional<Callback> decode_callback(std::string_view data);

}  // namespace kiebot::dialog
