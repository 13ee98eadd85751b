// ingress poller against what Telegram answers: a foreign poller (409),
// throttling and server errors, a blocking webhook, a wrong token, and
// webhook mode.
#include <gtest/gtest.h>

#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <thread>

#include "ingress_fixture.hpp"
#include "kafka_dev.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/redis/redis.hpp"
#include "process.hpp"
#include "redis_server.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using test::IngressTest;

namespace {

TEST_F(IngressTest, AForeignPollerIsLoggedCountedAndOutlasted) {
  auto i = start_replica("ingress-0");
  ASSERT_TRUE(holder());
  auto until = Clock::now() + 4s;
  int foreign_conflicts = 0;
  while (Clock::now() < until) {
    // No offset: the foreign poller confirms nothing.
    auto answer = bot_api("getUpdates", {{"timeout", 1}}, 5s);
    if (!answer["ok"].get<bool>()) ++foreign_conflicts;
  }
  EXPECT_TRUE(replicas[i]->wait_for_stderr("\"cause\":\"other_poller\"", 1s));
  EXPECT_GT(metric(i, "ingress_telegram_conflicts_total{cause=\"other_poller\"}"), 0);
  EXPECT_TRUE(replicas[i]->running());
  inject(100);
  auto got = collect(100, 60s, 200ms);
  expect_all(got, 1, 100);
  (void)foreign_conflicts;
}

TEST_F(IngressTest, ThrottlingAndServerErrorsAreWaitedOut) {
  auto i = start_replica("ingress-0");
  ASSERT_TRUE(holder());
  control("POST", "/faults", {{"method", "getUpdates"}, {"status", 429}, {"count", 2}});
  inject(20);
  auto got = collect(20, 30s, 200ms);
  expect_all(got, 1, 20);
  control("POST", "/faults", {{"method", "getUpdates"}, {"status", 502}, {"count", 2}});
  inject(20);
  got = collect(40, 30s, 200ms);
  expect_all(got, 1, 40);
  EXPECT_EQ(got.duplicates(), 0u);
  EXPECT_EQ(metric(i, "ingress_telegram_throttled_total"), 2);
  EXPECT_GE(metric(i, "ingress_telegram_errors_total"), 2);
  EXPECT_TRUE(replicas[i]->wait_for_stderr("\"retry_after_s\":1", 1s));
}

TEST_F(IngressTest, DeletesABlockingWebhookWhenAskedTo) {
  ASSERT_TRUE(bot_api("setWebhook", {{"url", "http://127.0.0.1:9/hook"}})["ok"].get<bool>());
  inject(10);
  auto i = start_replica("ingress-0", {{"TELEGRAM_DELETE_WEBHOOK", "1"}});
  EXPECT_TRUE(replicas[i]->wait_for_stderr("\"cause\":\"webhook_active\"", 10s));
  auto got = collect(10, 30s, 200ms);
  expect_all(got, 1, 10);
  EXPECT_EQ(bot_api("getWebhookInfo", json::object())["result"]["url"], "");
}

TEST_F(IngressTest, AWrongTokenExitsWithAClearMessage) {
  test::Process p({std::string(KIEBOT_BIN_DIR) + "/ingress"}, {{"HTTP_PORT", "0"},
                                                               {"REDIS_URL", redis.url()},
                                                               {"KAFKA_BROKERS", kafka.bootstrap()},
                                                               {"TELEGRAM_BOT_TOKEN", "222222:wrong"},
                                                               {"TELEGRAM_API_BASE", tg_base()},
                                                               {"LEASE_TTL_MS", "2000"},
                                                               {"DIALOG", "0"}});
  ASSERT_TRUE(wait_until([&] { return !p.running(); }, 20s));
  EXPECT_EQ(p.stop(SIGTERM, 1s), 2);
  EXPECT_NE(p.stderr_text().find("Telegram refused TELEGRAM_BOT_TOKEN"), std::string::npos) << p.stderr_text();
}

TEST_F(IngressTest, WebhookModeChecksTheSecretAndPublishesBeforeAnswering) {
  // The registered URL points at replica 0, so it needs a known port.
  auto port0 = test::free_port();
  auto hook = "http://127.0.0.1:" + std::to_string(port0) + "/telegram/webhook";
  std::map<std::string, std::string> env{{"TELEGRAM_MODE", "webhook"},
                                         {"TELEGRAM_WEBHOOK_SECRET", "s3cret-Token_1"},
                                         {"TELEGRAM_WEBHOOK_URL", hook},
                                         {"HTTP_PORT", std::to_string(port0)}};
  start_replica("ingress-0", env);
  env["HTTP_PORT"] = "0";
  start_replica("ingress-1", env);
  auto url = [&](std::size_t i) { return "http://127.0.0.1:" + std::to_string(ports[i]) + "/telegram/webhook"; };
  auto update = [](std::int64_t id) {
    return json{{"update_id", id},
                {"message",
                 {{"message_id", id},
                  {"date", 1},
                  {"chat", {{"id", 7000 + id % 50}, {"type", "private"}}},
                  {"from", {{"id", 7000 + id % 50}, {"is_bot", false}, {"first_name", "W"}}},
                  {"text", "hello"}}}}
        .dump();
  };
  const http::Headers secret{{"X-Telegram-Bot-Api-Secret-Token", "s3cret-Token_1"}};
  EXPECT_EQ(request("POST", url(0), update(1)).status, 403);
  EXPECT_EQ(request("POST", url(1), update(1), {{"X-Telegram-Bot-Api-Secret-Token", "wrong"}}).status, 403);
  EXPECT_EQ(request("POST", url(0), "not json", secret).status, 400);
  constexpr std::int64_t kFirst = 1'000'001;
  for (std::int64_t id = kFirst; id < kFirst + 1'000; ++id) {
    auto r = request("POST", url(static_cast<std::size_t>(id % 2)), update(id), secret);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  auto got = collect(1'000, 60s, 200ms);
  expect_all(got, kFirst, kFirst + 999);
  EXPECT_EQ(got.copies.size(), 1'000u);
  // The holder registered the webhook, so the emulator delivers through it.
  ASSERT_TRUE(wait_until([&] { return bot_api("getWebhookInfo", json::object())["result"]["url"] == hook; }, 10s));
  auto sent = control("POST", "/users/42/messages", {{"text", "via webhook"}});
  auto emulated = sent["update_id"].get<std::int64_t>();
  auto all = collect(1'001, 30s, 200ms);
  EXPECT_EQ(all.copies.count(emulated), 1u);
}

}  // namespace
