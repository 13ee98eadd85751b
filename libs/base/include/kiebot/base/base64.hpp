// Base64 (RFC 4648, standard alphabet with padding).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kiebot {

std::string base64_encode(std::string_view bytes);
// Accepts a data: URL prefix ("data:image/png;base64,"), line breaks and
// missing padding; nothing when another character appears.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace kiebot
