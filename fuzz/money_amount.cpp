// Money typed by users and invoice payloads (services/ingress
// dialog/input.hpp): roubles parse to kopecks in [0, 10^11], exactly for
// plain "R", "R.K" or "R,KK"; a payload the dialog wrote reads back the
// same, and any payload read has three positive numbers.
#include <cinttypes>
#include <cstdio>

#include "check.hpp"
#include "input.hpp"

namespace dlg = kiebot::dialog;

namespace {

// "123", "123.4", "123,45": the kopecks, computed without floating point.
std::optional<std::int64_t> plain_kopecks(std::string_view s) {
  std::int64_t rub = 0;
  std::size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i < 9) rub = rub * 10 + (s[i++] - '0');
  if (i == 0) return std::nullopt;
  if (i == s.size()) return rub * 100;
  if (s[i] != '.' && s[i] != ',') return std::nullopt;
  auto frac = s.substr(i + 1);
  if (frac.empty() || frac.size() > 2) return std::nullopt;
  std::int64_t k = 0;
  for (char c : frac) {
    if (c < '0' || c > '9') return std::nullopt;
    k = k * 10 + (c - '0');
  }
  return rub * 100 + (frac.size() == 1 ? k * 10 : k);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  std::string text(kiebot::fuzz::as_text(data, size));
  auto kopecks = dlg::parse_roubles(text);
  if (kopecks) FUZZ_CHECK(*kopecks >= 0 && *kopecks <= 100'000'000'000);
  if (auto exact = plain_kopecks(text)) {
    FUZZ_CHECK(kopecks && *kopecks == *exact);
  }
  if (auto top_up = dlg::parse_invoice_payload(text)) {
    FUZZ_CHECK(top_up->user_id > 0 && top_up->kopecks > 0 && top_up->stars > 0);
    char written[96];
    std::snprintf(written, sizeof written, "topup:%" PRId64 ":%" PRId64 ":%" PRId64, top_up->user_id, top_up->kopecks,
                  top_up->stars);
    auto again = dlg::parse_invoice_payload(written);
    FUZZ_CHECK(again && again->user_id == top_up->user_id && again->kopecks == top_up->kopecks &&
               again->stars == top_up->stars);
  }
  return 0;
}
