// Outbound fetch policy: address classification, origins, redirects, and the
// URL parsing and multipart names it relies on.
#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

#include "kiebot/http/fetch_policy.hpp"
#include "kiebot/http/http.hpp"
#include "kiebot/telegram/telegram.hpp"

using namespace kiebot::http;

namespace {

std::string refusal(const char* address) {
  return address_refusal(boost::asio::ip::make_address(address));
}

}  // namespace

TEST(AddressRefusal, RefusesIpv4SpecialRanges) {
  EXPECT_EQ(refusal("127.0.0.1"), "loopback");
  EXPECT_EQ(refusal("127.255.1.2"), "loopback");
  EXPECT_EQ(refusal("10.1.2.3"), "private");
  EXPECT_EQ(refusal("172.16.0.1"), "private");
  EXPECT_EQ(refusal("172.31.255.255"), "private");
  EXPECT_EQ(refusal("192.168.1.1"), "private");
  EXPECT_EQ(refusal("169.254.169.254"), "link_local");  // cloud metadata
  EXPECT_EQ(refusal("100.64.0.1"), "cgnat");
  EXPECT_EQ(refusal("100.127.255.255"), "cgnat");
  EXPECT_EQ(refusal("0.0.0.0"), "unspecified");
  EXPECT_EQ(refusal("0.1.2.3"), "unspecified");
  EXPECT_EQ(refusal("224.0.0.1"), "multicast");
  EXPECT_EQ(refusal("239.255.255.250"), "multicast");
  EXPECT_EQ(refusal("240.0.0.1"), "reserved");
  EXPECT_EQ(refusal("255.255.255.255"), "reserved");
  EXPECT_EQ(refusal("192.0.2.1"), "reserved");
  EXPECT_EQ(refusal("198.18.0.1"), "reserved");
}

TEST(AddressRefusal, AllowsPublicIpv4AtRangeEdges) {
  EXPECT_EQ(refusal("8.8.8.8"), "");
  EXPECT_EQ(refusal("1.1.1.1"), "");
  EXPECT_EQ(refusal("172.15.255.255"), "");
  EXPECT_EQ(refusal("172.32.0.0"), "");
  EXPECT_EQ(refusal("100.63.255.255"), "");
  EXPECT_EQ(refusal("100.128.0.0"), "");
  EXPECT_EQ(refusal("169.253.255.255"), "");
  EXPECT_EQ(refusal("11.0.0.0"), "");
  EXPECT_EQ(refusal("223.255.255.255"), "");
  EXPECT_EQ(refusal("149.154.167.220"), "");  // api.telegram.org
}

TEST(AddressRefusal, RefusesIpv6SpecialRanges) {
  EXPECT_EQ(refusal("::1"), "loopback");
  EXPECT_EQ(refusal("::"), "unspecified");
  EXPECT_EQ(refusal("fc00::1"), "unique_local");
  EXPECT_EQ(refusal("fd12:3456::1"), "unique_local");
  EXPECT_EQ(refusal("fe80::1"), "link_local");
  EXPECT_EQ(refusal("febf::1"), "link_local");
  EXPECT_EQ(refusal("fec0::1"), "private");
  EXPECT_EQ(refusal("ff02::1"), "multicast");
  EXPECT_EQ(refusal("2001:db8::1"), "reserved");
  EXPECT_EQ(refusal("2001::1"), "reserved");   // Teredo
  EXPECT_EQ(refusal("100::1"), "reserved");    // discard
  EXPECT_EQ(refusal("::7f00:1"), "reserved");  // IPv4-compatible
  EXPECT_EQ(refusal("64:ff9b:1::1"), "private");
}

TEST(AddressRefusal, JudgesEmbeddedIpv4AsIpv4) {
  EXPECT_EQ(refusal("::ffff:127.0.0.1"), "loopback");
  EXPECT_EQ(refusal("::ffff:169.254.169.254"), "link_local");
  EXPECT_EQ(refusal("::ffff:10.0.0.1"), "private");
  EXPECT_EQ(refusal("::ffff:8.8.8.8"), "");
  EXPECT_EQ(refusal("64:ff9b::10.0.0.1"), "private");  // NAT64 of a private address
  EXPECT_EQ(refusal("64:ff9b::7f00:1"), "loopback");
  EXPECT_EQ(refusal("64:ff9b::8.8.8.8"), "");
  EXPECT_EQ(refusal("2002:7f00:1::1"), "loopback");  // 6to4 of 127.0.0.1
  EXPECT_EQ(refusal("2002:a9fe:a9fe::1"), "link_local");
}

TEST(AddressRefusal, AllowsGlobalIpv6) {
  EXPECT_EQ(refusal("2a00:1450:4001:81c::200e"), "");
  EXPECT_EQ(refusal("2606:4700::1111"), "");
  EXPECT_EQ(refusal("2002:808:808::1"), "");  // 6to4 of 8.8.8.8
}

TEST(FetchPolicy, AllowsExactConfiguredOriginsOnly) {
  FetchPolicy policy;
  policy.allow_origin("http://127.0.0.1:8091/api/");
  policy.allow_origins(" https://Files.Internal , http://10.0.0.5:9000,");
  auto kie = *Url::parse("http://127.0.0.1:8091/files/a.png");
  auto other_port = *Url::parse("http://127.0.0.1:8092/files/a.png");
  auto other_scheme = *Url::parse("https://127.0.0.1:8091/files/a.png");
  auto loopback = boost::asio::ip::make_address("127.0.0.1");
  EXPECT_EQ(policy.refusal(kie, loopback), "");
  EXPECT_EQ(policy.refusal(other_port, loopback), "loopback");
  EXPECT_EQ(policy.refusal(other_scheme, loopback), "loopback");
  EXPECT_TRUE(policy.allowed_origin(*Url::parse("https://files.internal/x")));
  EXPECT_TRUE(policy.allowed_origin(*Url::parse("https://files.internal:443/x")));
  EXPECT_FALSE(policy.allowed_origin(*Url::parse("http://files.internal/x")));
  EXPECT_TRUE(policy.allowed_origin(*Url::parse("http://10.0.0.5:9000/")));
  EXPECT_EQ(policy.refusal(*Url::parse("http://example.com/"), boost::asio::ip::make_address("93.184.216.34")), "");
  EXPECT_THROW(policy.allow_origins("ftp://x"), std::invalid_argument);
  EXPECT_THROW(policy.allow_origin("not a url"), std::invalid_argument);
}

TEST(FetchPolicy, FromConfigurationNamingTheBadVariable) {
  auto policy = configured_fetch_policy({{"KIE_API_BASE", "http://127.0.0.1:8091"}}, "http://minio:9000");
  EXPECT_TRUE(policy.allowed_origin(*Url::parse("http://127.0.0.1:8091/r/1.png")));
  EXPECT_TRUE(policy.allowed_origin(*Url::parse("http://minio:9000/b")));
  try {
    configured_fetch_policy({{"KIE_API_BASE", "https://api.kie.ai"}, {"KIE_UPLOAD_BASE", "kie uploads"}}, "");
    ADD_FAILURE() << "accepted a bad KIE_UPLOAD_BASE";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("KIE_UPLOAD_BASE: ")) << e.what();
  }
  try {
    configured_fetch_policy({{"KIE_API_BASE", "https://api.kie.ai"}}, "http://ok:1,ftp://no");
    ADD_FAILURE() << "accepted a bad FETCH_ALLOW_ORIGINS";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("FETCH_ALLOW_ORIGINS: ")) << e.what();
  }
}

TEST(FetchPolicy, OriginsNormalise) {
  EXPECT_EQ(origin_of("HTTPS://Api.KIE.ai/x"), "https://api.kie.ai:443");
  EXPECT_EQ(origin_of("http://127.0.0.1"), "http://127.0.0.1:80");
  EXPECT_EQ(origin_of("gopher://x"), "");
}

TEST(FetchPolicy, ResolvesRedirectLocations) {
  auto base = *Url::parse("https://cdn.example.com:8443/a/b/file.png?x=1");
  EXPECT_EQ(resolve_reference(base, "http://127.0.0.1/x"), "http://127.0.0.1/x");
  EXPECT_EQ(resolve_reference(base, "//other.example/y"), "https://other.example/y");
  EXPECT_EQ(resolve_reference(base, "/root?q"), "https://cdn.example.com:8443/root?q");
  EXPECT_EQ(resolve_reference(base, "c.png"), "https://cdn.example.com:8443/a/b/c.png");
  EXPECT_EQ(resolve_reference(*Url::parse("http://[::1]:81/x"), "/y"), "http://[::1]:81/y");
  EXPECT_EQ(resolve_reference(base, "file:///etc/passwd"), "");
  EXPECT_EQ(resolve_reference(base, "http://evil\r\nX-Injected: 1/"), "");
}

TEST(UrlParse, RefusesControlCharactersAndSpaces) {
  EXPECT_FALSE(Url::parse("http://example.com/a\r\nX-Injected: 1"));
  EXPECT_FALSE(Url::parse("http://example.com/a\nb"));
  EXPECT_FALSE(Url::parse("http://example.com/a b"));
  EXPECT_FALSE(Url::parse("http://exa mple.com/"));
  EXPECT_FALSE(Url::parse(std::string("http://example.com/a\0b", 23)));
  EXPECT_FALSE(Url::parse("http://example.com/\t"));
  EXPECT_FALSE(Url::parse("http://example.com/\x7f"));
  EXPECT_FALSE(Url::parse("http://exa%2fmple.com/"));
  EXPECT_FALSE(Url::parse("http://example.com\\@evil/"));
  EXPECT_FALSE(Url::parse("http://[::1%eth0]/"));
  EXPECT_FALSE(Url::parse("javascript:alert(1)"));
  EXPECT_FALSE(Url::parse("file:///etc/passwd"));
}

TEST(UrlParse, NormalisesHostAndDropsFragment) {
  auto u = Url::parse("HTTP://Example.COM:8080/Path?q=1#frag");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->target, "/Path?q=1");
}

TEST(Multipart, NamesUseSafeAlphabets) {
  using namespace kiebot::telegram;
  EXPECT_EQ(safe_filename("result.png"), "result.png");
  EXPECT_EQ(safe_filename("a\"; name=\"x\r\nContent-Type: text/html.png"), "a___name__x__Content-Type__text_html.png");
  EXPECT_EQ(safe_filename("../../etc/passwd"), ".._.._etc_passwd");
  EXPECT_EQ(safe_filename(".."), "file");
  EXPECT_EQ(safe_filename(""), "file");
  EXPECT_EQ(safe_filename(std::string(500, 'a')).size(), 64u);
  EXPECT_EQ(safe_content_type("image/png"), "image/png");
  EXPECT_EQ(safe_content_type("video/mp4; codecs=avc1"), "video/mp4");
  EXPECT_EQ(safe_content_type("image/svg+xml"), "image/svg+xml");
  EXPECT_EQ(safe_content_type("text/html\r\nX-Evil: 1"), "application/octet-stream");
  EXPECT_EQ(safe_content_type("nonsense"), "application/octet-stream");
  EXPECT_EQ(safe_content_type(""), "application/octet-stream");
  EXPECT_EQ(safe_field_name("photo"), "photo");
  EXPECT_EQ(safe_field_name("a\"b\r\n"), "ab");
}
