// Callback data encoding (see callback_data.hpp).
#include "callback_data.hpp"

#include <stdexcept>

namespace kiebot::dialog {

namespace {
constexpr std::string_view kVersion = "1";
}

const std::string& Callback::arg(std::size_t i) const {
  static const std::string empty;
  return i < args.size() ? args[i] : empty;
}

std::string encode_callback(std::string_view verb, const std::vector<std::string>& args) {
  std::string out(kVersion);
  out += '|';
  out += verb;
  for (const auto& a : args) {
    if (a.find('|') != std::string::npos) throw std::invalid_argument("callback argument contains '|'");
    out += '|';
    out += a;
  }
  if (out.size() > kMaxCallbackData) throw std::length_error("callback data over 64 bytes: " + out);
  return out;
}

std::optional<Callback> decode_callback(std::string_view data) {
  if (data.size() > kMaxCallbackData || data.substr(0, 2) != "1|") return std::nullopt;
  Callback c;
  std::vector<std::string> parts;
  std::size_t start = 2;
  while (true) {
    auto bar = data.find('|', start);
    parts.emplace_back(data.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  if (parts.front().empty()) return std::nullopt;
  c.verb = std::move(parts.front());
  c.args.assign(parts.begin() + 1, parts.end());
  return c;
}

}  // namespace kiebot::dialog
