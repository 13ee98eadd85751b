// Removes secrets from text before it is logged or exported.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kiebot {

// Replaces every occurrence of each secret in `secrets`, Telegram bot tokens
// (`<digits>:<35 chars>`, also inside `/bot<token>/` URLs), `Bearer <token>`
// credentials and passwords in `scheme://user:password@host` URLs with
// `<redacted>`.
std::string redact(std::string_view text, const std::vector<std::string>& secrets);

}  // namespace kiebot
