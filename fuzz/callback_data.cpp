// Inline-button data (services/ingress dialog/machine/verbs.hpp): whatever
// decodes is a declared verb with arguments of its declared kinds, and
// encodes back to the same bytes; what encodes decodes to the same verb and
// arguments.
#include <stdexcept>

#include "check.hpp"
#include "machine/verbs.hpp"

namespace dlg = kiebot::dialog;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  auto text = kiebot::fuzz::as_text(data, size);
  if (auto p = dlg::decode(text)) {
    FUZZ_CHECK(text.size() <= dlg::kMaxCallbackData);
    FUZZ_CHECK(dlg::encodable(p->verb, p->args));
    FUZZ_CHECK(dlg::encode(p->verb, p->args) == text);
    FUZZ_CHECK(p->arg(p->args.size()).empty());
  }
  // The first byte picks a verb, the rest are its arguments split at '\n'.
  if (text.empty()) return 0;
  auto verbs = dlg::verbs();
  auto verb = verbs[static_cast<unsigned char>(text[0]) % verbs.size()].verb;
  std::vector<std::string> args;
  std::size_t start = 1;
  while (start <= text.size()) {
    auto nl = text.find('\n', start);
    args.emplace_back(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  if (text.size() == 1) args.clear();
  if (!dlg::encodable(verb, args)) {
    bool threw = false;
    try {
      (void)dlg::encode(verb, args);
    } catch (const std::invalid_argument&) {
      threw = true;
    } catch (const std::length_error&) {
      threw = true;
    }
    FUZZ_CHECK(threw);
    return 0;
  }
  auto encoded = dlg::encode(verb, args);
  FUZZ_CHECK(encoded.size() <= dlg::kMaxCallbackData);
  auto back = dlg::decode(encoded);
  FUZZ_CHECK(back && back->verb == verb && back->args == args);
  return 0;
}
