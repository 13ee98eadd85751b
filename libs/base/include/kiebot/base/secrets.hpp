// Comparing secrets (webhook tokens, signatures) without leaking, through
// timing, how much of a guess was right.
#pragma once

#include <string_view>

namespace kiebot {

inline bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace kiebot
