// Query strings and percent-encoding (libs/http http.hpp), as every HTTP
// route reads them: decoding what was encoded gives the bytes back, and
// parse_query of an encoded pair finds it.
#include <string>

#include "check.hpp"
#include "kiebot/http/http.hpp"

namespace http = kiebot::http;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  auto text = kiebot::fuzz::as_text(data, size);
  auto all = http::parse_query(text);
  for (const auto& [key, value] : all) FUZZ_CHECK(key.size() + value.size() <= text.size());
  FUZZ_CHECK(http::percent_decode(text, false).size() <= text.size());
  auto encoded = http::percent_encode(text);
  FUZZ_CHECK(http::percent_decode(encoded, true) == text);
  FUZZ_CHECK(encoded.find_first_of("&=+ ") == std::string::npos);
  if (!text.empty()) {
    auto pairs = http::parse_query("x=1&" + encoded + "=" + encoded);
    auto it = pairs.find(std::string(text));
    FUZZ_CHECK(it != pairs.end() && (text == "x" || it->second == text));
  }
  http::Request request;
  request.target = "/p?" + std::string(text);
  (void)request.query("sig");
  return 0;
}
