// Redis client against a real redis-server: replies, scripts, auth, deadlines, restarts.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "kiebot/redis/rate_limiter.hpp"
#include "kiebot/redis/redis.hpp"
#include "redis_server.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;

namespace {

redis::Options options_for(const std::string& url) {
  redis::Options o;
  o.url = url;
  o.command_timeout = 500ms;
  o.reconnect_min = 50ms;
  o.reconnect_max = 200ms;
  return o;
}

using Args = std::vector<std::string>;

struct RedisTest : testing::Test {
  net::io_context io;

  std::unique_ptr<redis::Client> connect(const std::string& url) {
    auto client = std::make_unique<redis::Client>(io.get_executor(), options_for(url));
    client->start();
    EXPECT_TRUE(test::run(io, client->wait_connected(5s)));
    return client;
  }
  redis::Reply exec(redis::Client& client, Args args) { return test::run(io, client.exec(std::move(args))); }
};

}  // namespace

TEST_F(RedisTest, TypedReplies) {
  test::RedisServer server;
  auto client = connect(server.url());
  const std::string binary("v\r\nwith binary \0 ok", 20);
  EXPECT_EQ(exec(*client, {"SET", "k", binary}).as_string(), "OK");
  EXPECT_EQ(exec(*client, {"GET", "k"}).as_string(), binary);
  EXPECT_EQ(exec(*client, {"INCRBY", "n", "150"}).as_integer(), 150);
  EXPECT_TRUE(exec(*client, {"GET", "missing"}).is_nil());
  exec(*client, {"RPUSH", "l", "a", "b"});
  auto list = exec(*client, {"LRANGE", "l", "0", "-1"});
  ASSERT_EQ(list.elements.size(), 2u);
  EXPECT_EQ(list.elements[1].as_string(), "b");
  auto err = exec(*client, {"INCR", "l"});
  EXPECT_TRUE(err.is_error());
  EXPECT_NE(err.str.find("WRONGTYPE"), std::string::npos);
}

TEST_F(RedisTest, EvalshaFallsBackToEval) {
  test::RedisServer server;
  auto client = connect(server.url());
  redis::Script script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  EXPECT_EQ(test::run(io, client->eval(script, {"{u:1}:balance"}, {"100"})).as_integer(), 100);
  EXPECT_EQ(exec(*client, {"SCRIPT", "EXISTS", script.sha1()}).elements.at(0).as_integer(), 1);
  exec(*client, {"SCRIPT", "FLUSH"});
  EXPECT_EQ(test::run(io, client->eval(script, {"{u:1}:balance"}, {"50"})).as_integer(), 150);
}

TEST_F(RedisTest, PasswordAndDatabaseFromUrl) {
  test::RedisServer server({"--requirepass", "s3cret-pw"});
  auto base = "redis://:s3cret-pw@127.0.0.1:" + std::to_string(server.port());
  auto db2 = connect(base + "/2");
  exec(*db2, {"SET", "where", "db2"});
  auto db0 = connect(base + "/0");
  EXPECT_TRUE(exec(*db0, {"GET", "where"}).is_nil());
  exec(*db0, {"SELECT", "2"});
  EXPECT_EQ(exec(*db0, {"GET", "where"}).as_string(), "db2");
}

TEST_F(RedisTest, CommandDeadline) {
  test::RedisServer server;
  auto client = connect(server.url());
  auto started = std::chrono::steady_clock::now();
  try {
    test::run(io, client->exec(Args{"BLPOP", "empty", "2"}, 200ms));
    FAIL() << "expected a timeout";
  } catch (const redis::Error& e) {
    EXPECT_EQ(e.kind(), redis::Error::Kind::timeout);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  // The late BLPOP answer is discarded; later replies still match their commands.
  EXPECT_EQ(test::run(io, client->exec(Args{"ECHO", "after"}, 5s)).as_string(), "after");
}

TEST_F(RedisTest, NoServerFailsFastNeverHangs) {
  redis::Client client(io.get_executor(), options_for("redis://127.0.0.1:" + std::to_string(test::free_port()) + "/0"));
  client.start();
  EXPECT_FALSE(test::run(io, client.wait_connected(300ms)));
  try {
    test::run(io, client.exec(Args{"PING"}), 2s);
    FAIL() << "expected unavailable";
  } catch (const redis::Error& e) {
    EXPECT_EQ(e.kind(), redis::Error::Kind::unavailable);
  }
  client.stop();
}

TEST_F(RedisTest, ReconnectsAfterServerRestart) {
  test::RedisServer server;
  auto client = connect(server.url());
  EXPECT_EQ(exec(*client, {"PING"}).as_string(), "PONG");

  server.kill();
  // Every command during the outage fails cleanly and promptly.
  int failures = 0;
  for (int i = 0; i < 10; ++i) {
    auto started = std::chrono::steady_clock::now();
    try {
      test::run(io, client->exec(Args{"PING"}), 5s);
    } catch (const redis::Error& e) {
      ++failures;
      EXPECT_TRUE(e.kind() == redis::Error::Kind::unavailable || e.kind() == redis::Error::Kind::timeout);
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  }
  EXPECT_EQ(failures, 10);
  EXPECT_FALSE(client->connected());

  server.start();
  ASSERT_TRUE(test::run(io, client->wait_connected(10s)));
  EXPECT_EQ(exec(*client, {"PING"}).as_string(), "PONG");
}

TEST(RateLimiter, TwoReplicasShareTheChatAndGlobalBudgets) {
  test::RedisServer server;
  net::io_context io;
  redis::Options options;
  options.url = server.url();
  redis::Client a(io.get_executor(), options);
  redis::Client b(io.get_executor(), options);
  a.start();
  b.start();
  ASSERT_TRUE(test::run(io, a.wait_connected(std::chrono::seconds(3))));
  ASSERT_TRUE(test::run(io, b.wait_connected(std::chrono::seconds(3))));
  RateLimits limits;
  limits.global = {40, 5};
  limits.private_chat = {10, 2};
  RateLimiter first(a, "tg-limits", limits);
  RateLimiter second(b, "tg-limits", limits);
  // One chat, two replicas: burst 2, then 10 a second between them.
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(test::run(io, (i % 2 == 0 ? first : second).acquire(42, std::chrono::seconds(5))));
  }
  auto chat_elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_GE(chat_elapsed, std::chrono::milliseconds(450)) << "7 messages at 10/s after a burst of 2";
  EXPECT_LT(chat_elapsed, std::chrono::seconds(2));
  // Many chats: the global budget (burst 5, then 40 a second) decides.
  started = std::chrono::steady_clock::now();
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(test::run(io, (i % 2 == 0 ? first : second).acquire(1000 + i, std::chrono::seconds(5))));
  }
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(450));
  // A wait longer than allowed takes nothing and says so.
  for (int i = 0; i < 2; ++i) test::run(io, first.acquire(7, std::chrono::seconds(1)));
  EXPECT_FALSE(test::run(io, first.acquire(7, std::chrono::milliseconds(10))));
  a.stop();
  b.stop();
}
