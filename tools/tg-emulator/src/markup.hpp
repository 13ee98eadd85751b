// parse_mode checks: HTML, MarkdownV2 and Markdown, with Telegram's errors.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kiebot::tg {

struct Parsed {
  std::string text;                  // what the user sees, markup removed
  std::optional<std::string> error;  // "Bad Request: can't parse entities: ..."
};

// parse_mode "HTML", "MarkdownV2", "Markdown" or empty (plain text).
// An unknown mode is an error, as Telegram answers it.
Parsed parse_text(std::string_view text, std::string_view parse_mode);

// Length in UTF-16 code units, the unit of Telegram's limits.
std::size_t utf16_length(std::string_view utf8);

}  // namespace kiebot::tg
