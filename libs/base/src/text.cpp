// Cleaning and cutting user text for Telegram (see text.hpp).
#include "kiebot/base/text.hpp"

#include <cstdint>
#include <optional>

namespace kiebot::text {

namespace {

constexpr std::string_view kEllipsis = "\u2026";
constexpr std::string_view kReplacement = "\uFFFD";

struct Decoded {
  std::optional<std::uint32_t> code_point;  // nullopt: invalid
  std::size_t length = 1;                   // bytes consumed
};

Decoded decode(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  auto c = b(i);
  if (c < 0x80) return {c, 1};
  std::size_t len = 0;
  std::uint32_t cp = 0;
  std::uint32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return {std::nullopt, 1};
  }
  if (i + len > s.size()) return {std::nullopt, 1};
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return {std::nullopt, 1};
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  // Overlong forms, surrogates and values past Unicode are not UTF-8.
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {std::nullopt, 1};
  return {cp, len};
}

bool dropped(std::uint32_t cp) {
  if (cp < 0x20) return cp != '\n' && cp != '\t';
  if (cp >= 0x7F && cp <= 0x9F) return true;  // DEL and C1 controls
  switch (cp) {
    case 0x00AD:  // soft hyphen
    case 0x061C:  // Arabic letter mark
    case 0x180E:  // Mongolian vowel separator
    case 0x200B:  // zero-width space
    case 0x200C:  // zero-width non-joiner
    case 0x200E:  // left-to-right mark
    case 0x200F:  // right-to-left mark
    case 0xFEFF:  // byte order mark
      return true;
    default:
      break;
  }
  if (cp >= 0x202A && cp <= 0x202E) return true;  // bidi embeddings and overrides
  if (cp >= 0x2060 && cp <= 0x206F) return true;  // word joiner, invisible operators, isolates
  return false;
}

bool pictograph(std::uint32_t cp) {
  return (cp >= 0x1F000 && cp <= 0x1FAFF) || (cp >= 0x2600 && cp <= 0x27BF) || cp == 0xFE0F;
}

void append(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::string clean(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  std::optional<std::uint32_t> previous;  // the last code point kept
  for (std::size_t i = 0; i < utf8.size();) {
    auto d = decode(utf8, i);
    i += d.length;
    if (!d.code_point) {
      out += kReplacement;
      previous = 0xFFFD;
      continue;
    }
    auto cp = *d.code_point;
    if (cp == 0x200D) {  // zero-width joiner: only inside an emoji sequence
      auto next = i < utf8.size() ? decode(utf8, i).code_point : std::nullopt;
      if (previous && pictograph(*previous) && next && pictograph(*next)) append(out, cp);
      continue;
    }
    if (dropped(cp)) continue;
    append(out, cp);
    previous = cp;
  }
  return out;
}

std::size_t utf16_length(std::string_view utf8) {
  std::size_t units = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    auto d = decode(utf8, i);
    i += d.length;
    units += d.code_point && *d.code_point >= 0x10000 ? 2 : 1;
  }
  return units;
}

std::string fit(std::string_view utf8, std::size_t limit) {
  if (utf16_length(utf8) <= limit) return std::string(utf8);
  if (limit == 0) return {};
  std::size_t budget = limit - 1;  // the ellipsis is one unit
  std::size_t units = 0;
  std::size_t end = 0;
  while (end < utf8.size()) {
    auto d = decode(utf8, end);
    std::size_t u = d.code_point && *d.code_point >= 0x10000 ? 2 : 1;
    if (units + u > budget) break;
    units += u;
    end += d.length;
  }
  std::string out(utf8.substr(0, end));
  out += kEllipsis;
  return out;
}

}  // namespace kiebot::text
