// Inline-button data (services/ingress dialog/callback_data.hpp): what
// decodes encodes back to the same bytes, and what encodes within 64 bytes
// decodes to the same verb and arguments.
#include <stdexcept>

#include "callback_data.hpp"
#include "check.hpp"

namespace dlg = kiebot::dialog;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  auto text = kiebot::fuzz::as_text(data, size);
  if (auto c = dlg::decode_callback(text)) {
    FUZZ_CHECK(!c->verb.empty());
    FUZZ_CHECK(dlg::encode_callback(c->verb, c->args) == text);
    FUZZ_CHECK(c->arg(c->args.size()).empty());
  }
  // The same bytes as a verb and arguments split at '\n'.
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto nl = text.find('\n', start);
    parts.emplace_back(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  std::vector<std::string> args(parts.begin() + 1, parts.end());
  std::string encoded;
  try {
    encoded = dlg::encode_callback(parts[0], args);
  } catch (const std::invalid_argument&) {
    return 0;  // an argument holds '|'
  } catch (const std::length_error&) {
    return 0;  // over 64 bytes
  }
  FUZZ_CHECK(encoded.size() <= dlg::kMaxCallbackData);
  auto back = dlg::decode_callback(encoded);
  if (parts[0].empty() || parts[0].find('|') != std::string::npos) return 0;
  FUZZ_CHECK(back && back->verb == parts[0] && back->args == args);
  return 0;
}
