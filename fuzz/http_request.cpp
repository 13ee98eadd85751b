// The HTTP server's request parsing (libs/http parse.hpp: Beast's
// request_parser with the server's limits): any bytes give a request, "need
// more", or a refusal the server can send (400, 431 or the body-limit
// status, in the house error shape); a complete request keeps within the
// limits and parses the same from exactly its own bytes.
#include <nlohmann/json.hpp>

#include "check.hpp"
#include "kiebot/http/parse.hpp"

namespace http = kiebot::http;
using Outcome = http::ParsedRequest::Outcome;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  auto text = kiebot::fuzz::as_text(data, size);
  http::RequestLimits limits;
  limits.body_limit = 256;
  limits.header_limit = 512;
  limits.body_limit_status = 400 + static_cast<int>(size % 2) * 13;
  auto parsed = http::parse_request(text, limits);
  FUZZ_CHECK(parsed.consumed <= text.size());
  switch (parsed.outcome) {
    case Outcome::refused: {
      auto s = parsed.refusal.status;
      FUZZ_CHECK(s == 400 || s == 431 || s == limits.body_limit_status);
      auto body = nlohmann::json::parse(parsed.refusal.body);
      FUZZ_CHECK(body.contains("error") && body.contains("message"));
      break;
    }
    case Outcome::complete: {
      const auto& r = parsed.request;
      FUZZ_CHECK(!r.method.empty() && !r.target.empty());
      FUZZ_CHECK(r.body.size() <= limits.body_limit);
      (void)r.header("authorization");
      (void)r.query("sig");
      try {
        (void)r.json();
      } catch (const http::BadRequest& e) {
        FUZZ_CHECK(e.status == 400);
      }
      auto own = http::parse_request(text.substr(0, parsed.consumed), limits);
      FUZZ_CHECK(own.outcome == Outcome::complete && own.consumed == parsed.consumed);
      FUZZ_CHECK(own.request.method == r.method && own.request.target == r.target && own.request.body == r.body &&
                 own.request.headers == r.headers);
      break;
    }
    case Outcome::incomplete:
      break;
  }
  return 0;
}
