// What an admin types (services/ingress dialog/input.hpp): a user id, "<id>
// <roubles>" for grants and limits, "<user id> <charge id>" for refunds.
// Never an exception; ids are positive; an amount is positive kopecks
// within 10 million roubles; a charge id is one word of 1-128 bytes.
#include <cctype>

#include "check.hpp"
#include "input.hpp"

namespace dlg = kiebot::dialog;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  std::string text(kiebot::fuzz::as_text(data, size));
  if (auto id = dlg::parse_positive_id(text)) FUZZ_CHECK(*id > 0);
  if (auto grant = dlg::parse_id_and_amount(text)) {
    FUZZ_CHECK(grant->first > 0);
    FUZZ_CHECK(grant->second > 0 && grant->second <= 1'000'000'000);
  }
  if (auto refund = dlg::parse_refund_input(text)) {
    FUZZ_CHECK(refund->first > 0);
    FUZZ_CHECK(!refund->second.empty() && refund->second.size() <= 128);
    for (unsigned char c : refund->second) FUZZ_CHECK(!std::isspace(c));
  }
  return 0;
}
