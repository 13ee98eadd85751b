// Text from users on its way back to Telegram: cleaned of characters that
// change how a message reads (controls, bidi overrides, zero-width), and cut
// to Telegram's limits, which count UTF-16 code units.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kiebot::text {

inline constexpr std::size_t kMaxMessage = 4096;  // sendMessage, editMessageText
inline constexpr std::size_t kMaxCaption = 1024;  // captions of media

// Valid UTF-8 without C0/C1 controls (newline and tab stay), bidi embeddings,
// overrides, isolates and marks, zero-width spaces, joiners and BOMs; a
// zero-width joiner stays between two pictographs, where it builds one emoji.
// Invalid UTF-8 becomes U+FFFD.
std::string clean(std::string_view utf8);

// Length as Telegram counts it: UTF-16 code units of valid UTF-8.
std::size_t utf16_length(std::string_view utf8);

// `utf8` itself when it fits in `limit` UTF-16 units; else its longest
// prefix that, followed by "…", fits, cut between code points.
std::string fit(std::string_view utf8, std::size_t limit);

}  // namespace kiebot::text
