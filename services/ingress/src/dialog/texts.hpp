// The dialog's texts in Russian and English (services/ingress/locales/),
// with {name} placeholders.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiebot::dialog {

using Args = std::vector<std::pair<std::string_view, std::string>>;

class Texts {
 public:
  // Each argument is one locale file: a flat JSON object of key -> text.
  // Throws std::invalid_argument when one is not.
  static Texts parse(std::string_view ru, std::string_view en);

  // The text for `key` in `lang` (English for other languages); the key
  // itself when it is missing, so that a gap shows and never crashes.
  const std::string& get(std::string_view lang, std::string_view key) const;
  // Whether the locale of `lang` (English for other languages) has the key.
  bool has(std::string_view lang, std::string_view key) const;
  std::string format(std::string_view lang, std::string_view key, const Args& args) const;
  // Keys one locale has and the other lacks, and keys whose placeholders
  // differ between the locales.
  std::vector<std::string> inconsistencies() const;

 private:
  std::map<std::string, std::string, std::less<>> ru_, en_;
};

const Texts& builtin_texts();

// "ru" for Russian and the languages whose speakers usually read it, else "en".
std::string language_from_telegram(std::string_view language_code);
// 12345 kopecks -> "123.45 ₽"; whole roubles without the kopecks.
std::string roubles(std::int64_t kopecks);
// A user's Telegram first name as we show it to them or others: cleaned of
// controls, bidi overrides and zero-width characters, at most 64 characters.
std::string shown_name(std::string_view first_name);

}  // namespace kiebot::dialog
