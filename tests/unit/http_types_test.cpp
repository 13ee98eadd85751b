// URLs, query strings, percent-encoding, headers.
#include <gtest/gtest.h>

#include "kiebot/http/http.hpp"

using namespace kiebot::http;

TEST(Url, Parses) {
  auto u = Url::parse("https://api.telegram.org/bot1:x/getMe?a=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "api.telegram.org");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/bot1:x/getMe?a=1");
  auto local = Url::parse("http://127.0.0.1:8090");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->port, 8090);
  EXPECT_EQ(local->target, "/");
  auto v6 = Url::parse("http://[::1]:81/x");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 81);
}

TEST(Url, Rejects) {
  EXPECT_FALSE(Url::parse("ftp://x/"));
  EXPECT_FALSE(Url::parse("http://"));
  EXPECT_FALSE(Url::parse("http://h:0/"));
  EXPECT_FALSE(Url::parse("http://h:99999/"));
  EXPECT_FALSE(Url::parse("http://u:p@h/"));
  EXPECT_FALSE(Url::parse("no scheme"));
}

TEST(Query, DecodesAndEncodes) {
  auto q = parse_query("offset=10&text=hello+world%21&empty=&flag");
  EXPECT_EQ(q["offset"], "10");
  EXPECT_EQ(q["text"], "hello world!");
  EXPECT_EQ(q["empty"], "");
  EXPECT_TRUE(q.count("flag"));
  EXPECT_EQ(percent_encode("a b/ü"), "a%20b%2F%C3%BC");
  EXPECT_EQ(percent_decode(percent_encode("a b/ü&="), false), "a b/ü&=");
  EXPECT_EQ(percent_decode("100%", false), "100%");
  Request r;
  r.target = "/x?limit=5";
  EXPECT_EQ(r.query("limit"), "5");
  EXPECT_FALSE(r.query("offset"));
}

TEST(Headers, CaseInsensitive) {
  Headers h{{"Content-Type", "application/json"}};
  EXPECT_EQ(find_header(h, "content-type"), "application/json");
  EXPECT_FALSE(find_header(h, "x"));
}
