// Secret redaction for logs and error messages.
#include "kiebot/base/redact.hpp"

#include <cctype>

namespace kiebot {

namespace {

constexpr std::string_view kRedacted = "<redacted>";

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
}

void replace_all(std::string& text, std::string_view needle) {
  if (needle.size() < 4) return;  // too short to be a secret; would shred the line
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + kRedacted.size())) {
    text.replace(pos, needle.size(), kRedacted);
  }
}

// Telegram bot tokens look like 123456789:AAH...; the part after the colon is
// 30+ URL-safe characters. Shorter tails are left alone (e.g. "12:30").
void redact_bot_tokens(std::string& text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (std::isdigit(static_cast<unsigned char>(text[i])) != 0 &&
        (i == 0 || !std::isdigit(static_cast<unsigned char>(text[i - 1])))) {
      std::size_t j = i;
      while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j])) != 0) ++j;
      if (j - i >= 3 && j < text.size() && text[j] == ':') {
        std::size_t k = j + 1;
        while (k < text.size() && is_token_char(text[k])) ++k;
        if (k - j - 1 >= 20) {
          out += kRedacted;
          i = k;
          continue;
        }
      }
      out.append(text, i, j - i);
      i = j;
      continue;
    }
    out += text[i++];
  }
  text = std::move(out);
}

void redact_after(std::string& text, std::string_view marker, bool case_insensitive) {
  std::size_t pos = 0;
  while (true) {
    std::size_t found = std::string::npos;
    if (case_insensitive) {
      for (std::size_t p = pos; p + marker.size() <= text.size(); ++p) {
        bool match = true;
        for (std::size_t q = 0; q < marker.size() && match; ++q) {
          match = std::tolower(static_cast<unsigned char>(text[p + q])) ==
                  std::tolower(static_cast<unsigned char>(marker[q]));
        }
        if (match) {
          found = p;
          break;
        }
      }
    } else {
      found = text.find(marker, pos);
    }
    if (found == std::string::npos) return;
    std::size_t start = found + marker.size();
    std::size_t end = start;
    while (end < text.size() && text[end] != '"' && text[end] != '\\' && text[end] != ' ' && text[end] != ',' &&
           text[end] != '\n') {
      ++end;
    }
    if (end > start && text.compare(start, end - start, kRedacted) != 0) {
      text.replace(start, end - start, kRedacted);
    }
    pos = start + kRedacted.size();
  }
}

// scheme://user:password@host -> scheme://user:<redacted>@host
void redact_url_passwords(std::string& text) {
  std::size_t pos = 0;
  while ((pos = text.find("://", pos)) != std::string::npos) {
    std::size_t start = pos + 3;
    std::size_t end = start;
    while (end < text.size() && text[end] != '/' && text[end] != '"' && text[end] != ' ' && text[end] != '@') {
      ++end;
    }
    if (end < text.size() && text[end] == '@') {
      auto colon = text.find(':', start);
      if (colon != std::string::npos && colon < end && colon + 1 < end) {
        text.replace(colon + 1, end - colon - 1, kRedacted);
        end = colon + 1 + kRedacted.size();
      }
    }
    pos = end;
  }
}

}  // namespace

std::string redact(std::string_view input, const std::vector<std::string>& secrets) {
  std::string text(input);
  for (const auto& secret : secrets) replace_all(text, secret);
  redact_bot_tokens(text);
  redact_after(text, "Bearer ", true);
  redact_url_passwords(text);
  return text;
}

}  // namespace kiebot
