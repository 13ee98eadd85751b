// redis:// URLs, replies and script hashes.
#include <gtest/gtest.h>

#include "kiebot/redis/redis.hpp"

using namespace kiebot::redis;

TEST(RedisUrl, Parses) {
  auto a = parse_url("redis://127.0.0.1:6379/0");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 6379);
  EXPECT_EQ(a->db, 0);
  auto b = parse_url("redis://:pa:ss@redis.default.svc:6380/3");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->password, "pa:ss");
  EXPECT_EQ(b->username, "");
  EXPECT_EQ(b->host, "redis.default.svc");
  EXPECT_EQ(b->port, 6380);
  EXPECT_EQ(b->db, 3);
  auto c = parse_url("redis://user:pw@h");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "user");
  EXPECT_EQ(c->port, 6379);
}

TEST(RedisUrl, Rejects) {
  EXPECT_FALSE(parse_url("http://h:6379"));
  EXPECT_FALSE(parse_url("redis://h:port/0"));
  EXPECT_FALSE(parse_url("redis://h:6379/x"));
  EXPECT_FALSE(parse_url("redis://:6379/0"));
}

TEST(RedisScript, Sha1MatchesRedis) {
  // redis-cli SCRIPT LOAD "return 1" -> e0e1f9fabfc9d4800c877a703b823ac0578ff8db
  EXPECT_EQ(Script("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

TEST(RedisReply, TypedAccess) {
  Reply r{Reply::Type::string, 0, "42", {}};
  EXPECT_EQ(r.as_integer(), 42);
  Reply e{Reply::Type::error, 0, "WRONGTYPE", {}};
  EXPECT_THROW(e.as_string(), Error);
}
