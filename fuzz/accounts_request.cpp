// The accounts API's reading of request bodies and path ids (services/
// accounts validate.hpp): only http::BadRequest is thrown; amounts are
// 1..kMaxAmount kopecks, keys 1..kMaxKeyLength bytes, user ids positive
// below 2^53, and a hold id names the user it was made for.
#include <nlohmann/json.hpp>

#include "check.hpp"
#include "kiebot/http/http.hpp"
#include "validate.hpp"

namespace acc = kiebot::accounts;
using kiebot::http::BadRequest;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  auto text = kiebot::fuzz::as_text(data, size);
  if (auto id = acc::parse_user_id(text)) FUZZ_CHECK(*id > 0 && *id < (std::int64_t{1} << 53));
  if (auto user = acc::hold_user(text)) {
    FUZZ_CHECK(user->value() > 0);
    FUZZ_CHECK(acc::hold_user(acc::new_hold_id(*user).value()) == user);
  }
  nlohmann::json body;
  try {
    body = acc::object_body(std::string(text));
  } catch (const BadRequest& e) {
    FUZZ_CHECK(e.status == 400);
    return 0;
  }
  FUZZ_CHECK(body.is_object());
  try {
    auto amount = acc::amount_field(body, "amount");
    FUZZ_CHECK(amount > kiebot::Kopecks() && amount <= acc::kMaxAmount);
  } catch (const BadRequest&) {
  }
  try {
    auto key = acc::key_field(body, "key");
    FUZZ_CHECK(!key.empty() && key.size() <= acc::kMaxKeyLength);
  } catch (const BadRequest&) {
  }
  try {
    (void)acc::enum_field(body, "reason", {"stars", "referral", "admin_grant"});
    if (auto n = acc::optional_int_field(body, "limit", 1, 1000)) FUZZ_CHECK(*n >= 1 && *n <= 1000);
    FUZZ_CHECK(acc::optional_string_field(body, "ref", 64).size() <= 64);
  } catch (const BadRequest&) {
  }
  return 0;
}
