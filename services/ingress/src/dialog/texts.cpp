// Locale loading and formatting (see texts.hpp).
#include "texts.hpp"

#include <nlohmann/json.hpp>

#include "kiebot/base/json.hpp"
#include "kiebot/base/text.hpp"

#include <cstdint>
#include <set>
#include <stdexcept>

namespace kiebot::dialog {

extern const char* const kLocaleRu;  // generated from locales/ru.json
extern const char* const kLocaleEn;  // generated from locales/en.json

namespace {

std::map<std::string, std::string, std::less<>> parse_locale(std::string_view text, const char* name) {
  auto j = parse_untrusted(text, {64, 64u << 20});
  if (!j.is_object()) throw std::invalid_argument(std::string("locale ") + name + ": not a JSON object");
  std::map<std::string, std::string, std::less<>> out;
  for (auto& [key, value] : j.items()) {
    if (!value.is_string())
      throw std::invalid_argument(std::string("locale ") + name + ": " + key + " is not a string");
    out.emplace(key, value.get<std::string>());
  }
  return out;
}

std::set<std::string> placeholders(const std::string& text) {
  std::set<std::string> out;
  for (auto open = text.find('{'); open != std::string::npos; open = text.find('{', open + 1)) {
    auto close = text.find('}', open);
    if (close == std::string::npos) break;
    out.insert(text.substr(open + 1, close - open - 1));
  }
  return out;
}

}  // namespace

Texts Texts::parse(std::string_view ru, std::string_view en) {
  Texts t;
  t.ru_ = parse_locale(ru, "ru");
  t.en_ = parse_locale(en, "en");
  return t;
}

const std::string& Texts::get(std::string_view lang, std::string_view key) const {
  const auto& table = lang == "ru" ? ru_ : en_;
  auto it = table.find(key);
  if (it != table.end()) return it->second;
  static thread_local std::string missing;
  missing = std::string(key);
  return missing;
}

bool Texts::has(std::string_view lang, std::string_view key) const {
  const auto& table = lang == "ru" ? ru_ : en_;
  return table.find(key) != table.end();
}

std::string Texts::format(std::string_view lang, std::string_view key, const Args& args) const {
  std::string out = get(lang, key);
  for (const auto& [name, value] : args) {
    std::string token = "{" + std::string(name) + "}";
    for (auto at = out.find(token); at != std::string::npos; at = out.find(token, at + value.size())) {
      out.replace(at, token.size(), value);
    }
  }
  return out;
}

std::vector<std::string> Texts::inconsistencies() const {
  std::vector<std::string> out;
  for (const auto& [key, text] : ru_) {
    auto it = en_.find(key);
    if (it == en_.end()) {
      out.push_back("en lacks " + key);
    } else if (placeholders(text) != placeholders(it->second)) {
      out.push_back("placeholders differ in " + key);
    }
  }
  for (const auto& [key, text] : en_) {
    if (!ru_.count(key)) out.push_back("ru lacks " + key);
  }
  return out;
}

const Texts& builtin_texts() {
  static const Texts texts = Texts::parse(kLocaleRu, kLocaleEn);
  return texts;
}

std::string language_from_telegram(std::string_view code) {
  auto base = code.substr(0, code.find('-'));
  return base == "ru" || base == "uk" || base == "be" || base == "kk" ? "ru" : "en";
}

std::string roubles(std::int64_t kopecks) {
  std::string sign = kopecks < 0 ? "-" : "";
  auto v = kopecks < 0 ? -kopecks : kopecks;
  auto text = sign + std::to_string(v / 100);
  if (v % 100 != 0) text += "." + std::string(v % 100 < 10 ? "0" : "") + std::to_string(v % 100);
  return text + " ₽";
}

std::string shown_name(std::string_view first_name) {
  return text::fit(text::clean(first_name), 64);
}

}  // namespace kiebot::dialog
