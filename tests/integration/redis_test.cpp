// Redis client against a real redis-server: replies, scripts, auth, deadlines, restarts.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "kiebot/common/redis.hpp"
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

}  // namespace

TEST(Redis, TypedReplies) {
  test::RedisServer server;
  net::io_context io;
  redis::Client client(io.get_executor(), options_for(server.url()));
  client.start();
  ASSERT_TRUE(test::run(io, client.wait_connected(5s)));
  EXPECT_EQ(test::run(io, client.exec(Args{"SET", "k", "v\r\nwith binary \0 ok"})).as_string(), "OK");
  EXPECT_EQ(test::run(io, client.exec(Args{"INCRBY", "n", "150"})).as_integer(), 150);
  EXPECT_TRUE(test::run(io, client.exec(Args{"GET", "missing"})).is_nil());
  test::run(io, client.exec(Args{"RPUSH", "l", "a", "b"}));
  auto list = test::run(io, client.exec(Args{"LRANGE", "l", "0", "-1"}));
  ASSERT_EQ(list.elements.size(), 2u);
  EXPECT_EQ(list.elements[1].as_string(), "b");
  auto err = test::run(io, client.exec(Args{"INCR", "l"}));
  EXPECT_TRUE(err.is_error());
  EXPECT_NE(err.str.find("WRONGTYPE"), std::string::npos);
}

TEST(Redis, EvalshaFallsBackToEval) {
  test::RedisServer server;
  net::io_context io;
  redis::Client client(io.get_executor(), options_for(server.url()));
  client.start();
  ASSERT_TRUE(test::run(io, client.wait_connected(5s)));
  redis::Script script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  EXPECT_EQ(test::run(io, client.eval(script, {"{u:1}:balance"}, {"100"})).as_integer(), 100);
  auto exists = test::run(io, client.exec(Args{"SCRIPT", "EXISTS", script.sha1()}));
  EXPECT_EQ(exists.elements.at(0).as_integer(), 1);
  test::run(io, client.exec(Args{"SCRIPT", "FLUSH"}));
  EXPECT_EQ(test::run(io, client.eval(script, {"{u:1}:balance"}, {"50"})).as_integer(), 150);
}

TEST(Redis, PasswordAndDatabaseFromUrl) {
  test::RedisServer server({"--requirepass", "s3cret-pw"});
  net::io_context io;
  auto url = "redis://:s3cret-pw@127.0.0.1:" + std::to_string(server.port()) + "/2";
  redis::Client client(io.get_executor(), options_for(url));
  client.start();
  ASSERT_TRUE(test::run(io, client.wait_connected(5s)));
  test::run(io, client.exec(Args{"SET", "where", "db2"}));
  redis::Client other(io.get_executor(), options_for("redis://:s3cret-pw@127.0.0.1:" + std::to_string(server.port()) + "/0"));
  other.start();
  ASSERT_TRUE(test::run(io, other.wait_connected(5s)));
  EXPECT_TRUE(test::run(io, other.exec(Args{"GET", "where"})).is_nil());
  test::run(io, other.exec(Args{"SELECT", "2"}));
  EXPECT_EQ(test::run(io, other.exec(Args{"GET", "where"})).as_string(), "db2");
}

TEST(Redis, CommandDeadline) {
  test::RedisServer server;
  net::io_context io;
  redis::Client client(io.get_executor(), options_for(server.url()));
  client.start();
  ASSERT_TRUE(test::run(io, client.wait_connected(5s)));
  auto started = std::chrono::steady_clock::now();
  try {
    test::run(io, client.exec(Args{"BLPOP", "empty", "2"}, 200ms));
    FAIL() << "expected a timeout";
  } catch (const redis::Error& e) {
    EXPECT_EQ(e.kind(), redis::Error::Kind::timeout);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  // The late BLPOP answer is discarded; later replies still match their commands.
  EXPECT_EQ(test::run(io, client.exec(Args{"ECHO", "after"}, 5s)).as_string(), "after");
}

TEST(Redis, NoServerFailsFastNeverHangs) {
  net::io_context io;
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

TEST(Redis, ReconnectsAfterServerRestart) {
  test::RedisServer server;
  net::io_context io;
  redis::Client client(io.get_executor(), options_for(server.url()));
  client.start();
  ASSERT_TRUE(test::run(io, client.wait_connected(5s)));
  EXPECT_EQ(test::run(io, client.exec(Args{"PING"})).as_string(), "PONG");

  server.kill();
  // Every command during the outage fails cleanly and promptly.
  int failures = 0;
  for (int i = 0; i < 10; ++i) {
    auto started = std::chrono::steady_clock::now();
    try {
      test::run(io, client.exec(Args{"PING"}), 5s);
    } catch (const redis::Error& e) {
      ++failures;
      EXPECT_TRUE(e.kind() == redis::Error::Kind::unavailable || e.kind() == redis::Error::Kind::timeout);
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  }
  EXPECT_EQ(failures, 10);
  EXPECT_FALSE(client.connected());

  server.start();
  ASSERT_TRUE(test::run(io, client.wait_connected(10s)));
  EXPECT_EQ(test::run(io, client.exec(Args{"PING"})).as_string(), "PONG");
}
