// The poller's reading of Telegram (services/ingress poller): a getUpdates
// answer or a webhook body scanned into raw updates (update_scan.hpp), and
// any Bot API answer sorted (bot_api.hpp classify). The scanner throws only
// ScanError; each update it finds is a '{'...'}' view inside the body whose
// update_id is the one a JSON parser reads there; classify never throws and
// a throttled answer waits between a second and an hour.
#include <nlohmann/json.hpp>

#include "check.hpp"
#include "kiebot/base/json.hpp"
#include "poller/bot_api.hpp"
#include "poller/update_scan.hpp"

namespace ing = kiebot::ingress;

namespace {

void check_update(const ing::RawUpdate& u, std::string_view body) {
  FUZZ_CHECK(u.json.data() >= body.data() && u.json.data() + u.json.size() <= body.data() + body.size());
  FUZZ_CHECK(u.json.size() >= 2 && u.json.front() == '{' && u.json.back() == '}');
  if (u.json.find('\\') != std::string_view::npos) return;  // escaped keys: the scanner reads them raw
  auto parsed = kiebot::parse_untrusted(u.json);
  if (parsed.is_object() && parsed.contains("update_id") && parsed["update_id"].is_number_integer()) {
    FUZZ_CHECK(parsed["update_id"].get<std::int64_t>() == u.update_id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  if (size < 1) return 0;
  auto body = kiebot::fuzz::as_text(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      try {
        for (const auto& u : ing::scan_get_updates(body)) check_update(u, body);
      } catch (const ing::ScanError&) {
      }
      break;
    case 1:
      try {
        check_update(ing::scan_update(body), body);
      } catch (const ing::ScanError&) {
      }
      break;
    default: {
      static constexpr int kStatuses[] = {200, 400, 401, 404, 409, 429, 500, 502};
      int status = kStatuses[(data[0] / 3) % 8];
      kiebot::http::Response response{status, {}, std::string(body)};
      if (data[0] & 0x80) response.headers.emplace_back("Retry-After", std::string(body.substr(0, 12)));
      auto answer = ing::classify(std::move(response));
      FUZZ_CHECK(answer.status == status);
      if (status == 200) FUZZ_CHECK(answer.kind == ing::Answer::Kind::ok);
      if (answer.kind == ing::Answer::Kind::throttled) FUZZ_CHECK(answer.retry_after.count() >= 1);
      FUZZ_CHECK(answer.retry_after.count() >= 0 && answer.retry_after.count() <= 3600);
      if (status != 200) FUZZ_CHECK(!answer.description.empty());
      (void)ing::conflict_cause(answer.description);
    }
  }
  return 0;
}
