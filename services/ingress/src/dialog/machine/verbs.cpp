// Callback data (see verbs.hpp).
#include "verbs.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace kiebot::dialog {

namespace {

const std::vector<VerbDecl>& table() {
  static const std::vector<VerbDecl> verbs = {
      {Verb::menu, "menu", {}},
      {Verb::nop, "nop", {}},
      {Verb::category, "cat", {Arg::word}},
      {Verb::model, "mdl", {Arg::word}},
      {Verb::about, "about", {Arg::word}},
      {Verb::balance, "bal", {}},
      {Verb::top_up, "top", {}},
      {Verb::pay, "pay", {Arg::count}},
      {Verb::pay_custom, "payc", {}},
      {Verb::free, "free", {}},
      {Verb::gift, "gift", {}},
      {Verb::referral, "ref", {}},
      {Verb::history, "hist", {}},
      {Verb::repeat, "rep", {Arg::job}},
      {Verb::language, "lang", {Arg::lang}, 1},
      {Verb::help, "help", {}},
      {Verb::admin, "adm", {Arg::word}},
      {Verb::option, "opt", {Arg::nonce, Arg::index, Arg::index}},
      {Verb::toggle, "tog", {Arg::nonce, Arg::index}},
      {Verb::next, "go", {Arg::nonce}},
      {Verb::edit, "edit", {Arg::nonce}},
      {Verb::cancel, "no", {Arg::nonce}},
      {Verb::confirm, "ok", {Arg::nonce}},
      {Verb::page, "page", {Arg::word}},
      {Verb::type_value, "val", {Arg::nonce, Arg::index}},
  };
  return verbs;
}

bool all_of(std::string_view s, bool (*ok)(char)) {
  return std::all_of(s.begin(), s.end(), ok);
}

bool fits(Arg kind, std::string_view s) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  switch (kind) {
    case Arg::word:
      return !s.empty() && s.size() <= 24 && all_of(s, [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      });
    case Arg::nonce:
      return s.size() == 8 && all_of(s, [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
    case Arg::index:
      return !s.empty() && s.size() <= 2 && all_of(s, digit) && (s.size() == 1 || s[0] != '0');
    case Arg::count:
      return !s.empty() && s.size() <= 18 && all_of(s, digit) && s[0] != '0';
    case Arg::lang:
      return s == "ru" || s == "en";
    case Arg::job:
      return !s.empty() && s.size() <= 56 && all_of(s, [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.' || c == ':';
      });
  }
  return false;
}

bool fits(const VerbDecl& d, const std::vector<std::string>& args) {
  if (args.size() > d.args.size() || args.size() + d.optional < d.args.size()) return false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (!fits(d.args[i], args[i])) return false;
  }
  return true;
}

}  // namespace

std::span<const VerbDecl> verbs() {
  return table();
}

const VerbDecl& decl(Verb verb) {
  return table().at(static_cast<std::size_t>(verb));
}

std::string_view name(Verb verb) {
  return decl(verb).wire;
}

const std::string& Press::arg(std::size_t i) const {
  static const std::string empty;
  return i < args.size() ? args[i] : empty;
}

std::size_t Press::index(std::size_t i) const {
  const auto& a = arg(i);
  std::size_t n = 0;
  for (char c : a) n = n * 10 + static_cast<std::size_t>(c - '0');
  return n;
}

bool encodable(Verb verb, const std::vector<std::string>& args) {
  std::size_t size = kCallbackVersion.size() + 1 + decl(verb).wire.size();
  for (const auto& a : args) size += 1 + a.size();
  return fits(decl(verb), args) && size <= kMaxCallbackData;
}

std::string encode(Verb verb, const std::vector<std::string>& args) {
  const auto& d = decl(verb);
  if (!fits(d, args)) throw std::invalid_argument("callback arguments do not fit verb " + std::string(d.wire));
  std::string out(kCallbackVersion);
  out += '|';
  out += d.wire;
  for (const auto& a : args) {
    out += '|';
    out += a;
  }
  if (out.size() > kMaxCallbackData) throw std::length_error("callback data over 64 bytes: " + out);
  return out;
}

std::optional<Press> decode(std::string_view data) {
  if (data.size() > kMaxCallbackData || !data.starts_with(kCallbackVersion) ||
      data.substr(kCallbackVersion.size(), 1) != "|") {
    return std::nullopt;
  }
  std::vector<std::string> parts;
  std::size_t start = kCallbackVersion.size() + 1;
  while (true) {
    auto bar = data.find('|', start);
    parts.emplace_back(data.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  for (const auto& d : table()) {
    if (d.wire != parts.front()) continue;
    std::vector<std::string> args(parts.begin() + 1, parts.end());
    if (!fits(d, args)) return std::nullopt;
    return Press{d.verb, std::move(args)};
  }
  return std::nullopt;
}

}  // namespace kiebot::dialog
