// Url::parse (libs/http http.hpp): http and https only, a host, a port in
// 1-65535, a target starting with '/'; an accepted URL printed back parses
// to the same parts, and no accepted URL holds a control character or a
// space (the SSRF rule of issue 16: CR/LF would inject header lines).
#include <string>

#include "check.hpp"
#include "kiebot/http/http.hpp"

using kiebot::http::Url;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  auto text = kiebot::fuzz::as_text(data, size);
  auto url = Url::parse(text);
  if (!url) return 0;
  FUZZ_CHECK(url->scheme == "http" || url->scheme == "https");
  FUZZ_CHECK(!url->host.empty());
  FUZZ_CHECK(url->port != 0);
  FUZZ_CHECK(!url->target.empty() && url->target.front() == '/');
  FUZZ_CHECK(url->host.find_first_of("/?@") == std::string::npos);
  for (unsigned char c : text) FUZZ_CHECK(c > 0x20 && c != 0x7f);
  if (url->host.find_first_of("[]") == std::string::npos) {
    bool v6 = url->host.find(':') != std::string::npos;
    auto printed =
        url->scheme + "://" + (v6 ? "[" + url->host + "]" : url->host) + ":" + std::to_string(url->port) + url->target;
    auto again = Url::parse(printed);
    FUZZ_CHECK(again);
    FUZZ_CHECK(again->scheme == url->scheme && again->host == url->host && again->port == url->port &&
               again->target == url->target);
  }
  return 0;
}
