// ingress poller as separate processes against tg-emulator, kafka-dev and a
// real redis-server: one poller at a time, failover, fencing, outages,
// conflicts and webhook mode.
#include <gtest/gtest.h>

#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <thread>

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

namespace {

constexpr const char* kToken = "111111:sandbox-token";
constexpr const char* kLeaseKey = "{lease:telegram:111111}";

// Everything read back from tg.updates.
struct Collected {
  std::map<std::int64_t, int> copies;  // update_id -> how many messages
  struct Entry {
    std::int64_t update_id;
    std::int64_t epoch;
    std::int64_t timestamp_ms;
    std::string key;
  };
  std::vector<Entry> entries;

  std::size_t duplicates() const {
    std::size_t n = 0;
    for (const auto& [id, c] : copies) n += static_cast<std::size_t>(c - 1);
    return n;
  }
};

net::awaitable<void> consume(kafka::Consumer* consumer, Collected* out, std::size_t expected,
                             Clock::time_point deadline, std::chrono::milliseconds quiet) {
  // Reads until `expected` distinct updates arrived and nothing more came
  // for `quiet` (late duplicates count), or the deadline.
  auto last_message = Clock::now();
  while (Clock::now() < deadline) {
    auto messages = co_await consumer->poll(1000, 100ms);
    for (const auto& m : messages) {
      auto id = std::stoll(std::string(m.header("update_id").value_or("0")));
      ++out->copies[id];
      out->entries.push_back({id, std::stoll(std::string(m.header("epoch").value_or("0"))), m.timestamp_ms, m.key});
      last_message = Clock::now();
    }
    if (out->copies.size() >= expected && Clock::now() - last_message > quiet) break;
  }
}

struct IngressTest : testing::Test {
  test::RedisServer redis{{"--appendonly", "yes", "--appendfsync", "always"}};
  test::KafkaDev kafka;
  std::unique_ptr<test::Process> tg;
  std::uint16_t tg_port = 0;
  std::vector<std::unique_ptr<test::Process>> replicas;
  std::vector<std::uint16_t> ports;
  net::io_context io;
  http::Client client{io.get_executor()};
  int groups = 0;

  void SetUp() override {
    tg = std::make_unique<test::Process>(std::vector<std::string>{std::string(KIEBOT_BIN_DIR) + "/tg-emulator"},
                                         std::map<std::string, std::string>{{"HTTP_PORT", "0"}});
    tg_port = tg->listening_port(10s);
  }

  std::string tg_base() const { return "http://127.0.0.1:" + std::to_string(tg_port); }

  // Starts replica `name`; returns its index.
  std::size_t start_replica(const std::string& name, std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> env{{"HTTP_PORT", "0"},
                                           {"INSTANCE_ID", name},
                                           {"REDIS_URL", redis.url()},
                                           {"KAFKA_BROKERS", kafka.bootstrap()},
                                           {"TELEGRAM_BOT_TOKEN", kToken},
                                           {"TELEGRAM_API_BASE", tg_base()},
                                           {"LEASE_TTL_MS", "2000"},
                                           {"LONG_POLL_S", "5"},
                                           {"LOG_LEVEL", "info"},
                                           {"DIALOG", "0"}};
    for (auto& [k, v] : extra) env[k] = v;
    replicas.push_back(std::make_unique<test::Process>(
        std::vector<std::string>{std::string(KIEBOT_BIN_DIR) + "/ingress"}, std::move(env)));
    ports.push_back(replicas.back()->listening_port(20s));
    return replicas.size() - 1;
  }

  http::Response request(const std::string& method, const std::string& url, const std::string& body = "",
                         http::Headers headers = {}, std::chrono::milliseconds timeout = 10s) {
    http::ClientRequest r{method, url, std::move(headers), body, timeout};
    if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    return test::run(io, client.send(std::move(r)), timeout + 5s);
  }
  json control(const std::string& method, const std::string& path, const json& body = json::object()) {
    auto r = request(method, tg_base() + "/control" + path, method == "GET" ? "" : body.dump());
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return r.json();
  }
  json bot_api(const std::string& method, const json& params, std::chrono::milliseconds timeout = 10s) {
    return request("POST", tg_base() + "/bot" + kToken + "/" + method, params.dump(), {}, timeout).json();
  }
  json stats() { return control("GET", "/stats"); }
  void inject(int count) { control("POST", "/updates", {{"count", count}, {"text_bytes", 900}, {"users", 200}}); }
  std::int64_t pending() { return stats()["pending_updates"].get<std::int64_t>(); }
  std::uint64_t get_updates_calls() { return stats()["methods"].value("getUpdates", std::uint64_t{0}); }

  // The replica's metric, or -1 when it does not answer.
  double metric(std::size_t i, const std::string& name) {
    try {
      auto r = request("GET", "http://127.0.0.1:" + std::to_string(ports[i]) + "/metrics", "", {}, 2s);
      std::istringstream lines(r.body);
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
      }
    } catch (const std::exception&) {
    }
    return -1;
  }

  // "owner#epoch" of the current lease, or empty.
  std::string lease_value() {
    redis::Options options;
    options.url = redis.url();
    redis::Client r(io.get_executor(), options);
    r.start();
    std::string value;
    try {
      test::run(io, r.wait_connected(3s));
      std::vector<std::string> command{"GET", kLeaseKey};
      auto reply = test::run(io, r.exec(std::move(command)));
      if (reply.type == redis::Reply::Type::string) value = reply.str;
    } catch (const std::exception&) {
    }
    r.stop();
    return value;
  }
  std::int64_t stored_offset() {
    redis::Options options;
    options.url = redis.url();
    redis::Client r(io.get_executor(), options);
    r.start();
    std::int64_t offset = -1;
    try {
      test::run(io, r.wait_connected(3s));
      std::vector<std::string> command{"HGET", std::string(kLeaseKey) + ":offset", "offset"};
      auto reply = test::run(io, r.exec(std::move(command)));
      offset = reply.type == redis::Reply::Type::string ? std::stoll(reply.str) : 0;
    } catch (const std::exception&) {
    }
    r.stop();
    return offset;
  }
  // Index of the replica named in the lease, waiting up to `timeout`.
  std::optional<std::size_t> holder(std::chrono::milliseconds timeout = 10s) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto value = lease_value();
      auto owner = value.substr(0, value.find('#'));
      for (std::size_t i = 0; i < replicas.size(); ++i) {
        if (!owner.empty() && owner == "ingress-" + std::to_string(i)) return i;
      }
      std::this_thread::sleep_for(50ms);
    }
    return std::nullopt;
  }

  template <class Pred>
  bool wait_until(Pred pred, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return pred();
  }

  Collected collect(std::size_t expected, std::chrono::milliseconds timeout = 60s,
                    std::chrono::milliseconds quiet = 1500ms) {
    kafka::ConsumerOptions o;
    o.brokers = kafka.bootstrap();
    o.group_id = "ingress-test-" + std::to_string(++groups);
    o.topics = {"tg.updates"};
    o.properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    kafka::Consumer consumer(io.get_executor(), o);
    Collected out;
    test::run(io, consume(&consumer, &out, expected, Clock::now() + timeout, quiet), timeout + 10s);
    consumer.close();
    return out;
  }

  void expect_all(const Collected& c, std::int64_t first, std::int64_t last) {
    std::int64_t missing = 0;
    for (auto id = first; id <= last; ++id) missing += c.copies.count(id) == 0 ? 1 : 0;
    EXPECT_EQ(missing, 0) << "of " << (last - first + 1) << " updates";
  }
};

TEST_F(IngressTest, ThreeReplicasPollOneAtATimeWithoutConflicts) {
  for (int i = 0; i < 3; ++i) start_replica("ingress-" + std::to_string(i));
  ASSERT_TRUE(holder());
  for (int round = 0; round < 10; ++round) {
    inject(1'000);
    std::this_thread::sleep_for(100ms);
  }
  auto got = collect(10'000);
  expect_all(got, 1, 10'000);
  EXPECT_EQ(got.duplicates(), 0u);
  auto s = stats();
  EXPECT_EQ(s["max_concurrent_polls"], 1) << s.dump();
  EXPECT_EQ(s["conflicts_409"], 0) << s.dump();
  // Keyed by chat: every update of a chat on one partition, i.e. one key.
  for (const auto& e : got.entries) {
    ASSERT_FALSE(e.key.empty());
  }
  double published = 0;
  int publishers = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    auto n = metric(i, "ingress_updates_published_total");
    published += n;
    publishers += n > 0 ? 1 : 0;
  }
  EXPECT_EQ(published, 10'000);
  EXPECT_EQ(publishers, 1);
}

TEST_F(IngressTest, SigkillOfTheHolderFailsOverWithoutLosingUpdates) {
  for (int i = 0; i < 3; ++i) start_replica("ingress-" + std::to_string(i));
  auto first = holder();
  ASSERT_TRUE(first);
  inject(10'000);
  // Kill it mid-stream, with batches in flight.
  ASSERT_TRUE(wait_until([&] { return pending() < 7'000; }, 30s));
  auto calls_before = get_updates_calls();
  auto killed_at = Clock::now();
  replicas[*first]->stop(SIGKILL, 5s);
  ASSERT_TRUE(wait_until([&] { return get_updates_calls() > calls_before; }, 10s));
  auto took = Clock::now() - killed_at;
  EXPECT_LT(took, 2000ms + 2s) << "LEASE_TTL_MS + 2 s";
  auto got = collect(10'000);
  expect_all(got, 1, 10'000);
  EXPECT_LE(got.duplicates(), 100u) << "only the killed batch may come twice";
  auto next = holder();
  ASSERT_TRUE(next);
  EXPECT_NE(*next, *first);
  EXPECT_EQ(metric(*next, "ingress_failovers_total"), 1);
}

TEST_F(IngressTest, SigtermHandsOverWithinASecondWithoutDuplicates) {
  for (int i = 0; i < 2; ++i) start_replica("ingress-" + std::to_string(i));
  auto first = holder();
  ASSERT_TRUE(first);
  auto standby = 1 - *first;
  inject(5'000);
  ASSERT_TRUE(wait_until([&] { return pending() < 3'000; }, 30s));
  auto stopped_at = Clock::now();
  std::thread stopper([&] { EXPECT_EQ(replicas[*first]->stop(SIGTERM, 20s), 0); });
  auto polled = replicas[standby]->wait_for_stderr("\"event\":\"polling\"", 5s);
  auto took = Clock::now() - stopped_at;
  stopper.join();
  ASSERT_TRUE(polled);
  EXPECT_LT(took, 1s);
  inject(5'000);
  auto got = collect(10'000);
  expect_all(got, 1, 10'000);
  EXPECT_EQ(got.duplicates(), 0u);
}

TEST_F(IngressTest, AFrozenHolderIsFencedAfterItsTtl) {
  for (int i = 0; i < 2; ++i) start_replica("ingress-" + std::to_string(i));
  auto first = holder();
  ASSERT_TRUE(first);
  auto other = 1 - *first;
  auto old_epoch = std::stoll(lease_value().substr(lease_value().find('#') + 1));
  inject(3'000);
  ASSERT_TRUE(wait_until([&] { return pending() < 2'000; }, 30s));
  ::kill(replicas[*first]->pid(), SIGSTOP);
  // The other replica takes over once the TTL ran out, and publishes.
  ASSERT_TRUE(replicas[other]->wait_for_stderr("\"event\":\"polling\"", 10s));
  inject(1'000);
  ASSERT_TRUE(wait_until([&] { return pending() == 0; }, 30s));
  auto offset_before = stored_offset();
  auto resumed_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  ::kill(replicas[*first]->pid(), SIGCONT);
  // Keep updates flowing while the old holder wakes up.
  std::int64_t lowest_offset_seen = offset_before;
  for (int i = 0; i < 10; ++i) {
    inject(100);
    std::this_thread::sleep_for(200ms);
    auto offset = stored_offset();
    EXPECT_GE(offset, lowest_offset_seen) << "the offset moved backwards";
    lowest_offset_seen = std::max(lowest_offset_seen, offset);
  }
  auto got = collect(5'000);
  expect_all(got, 1, 5'000);
  // Messages carry the time their publish was checked against the lease:
  // none of the old epoch may be authorized after it woke up.
  for (const auto& e : got.entries) {
    if (e.epoch == old_epoch) {
      EXPECT_LT(e.timestamp_ms, resumed_at_ms) << "update " << e.update_id;
    }
  }
  EXPECT_TRUE(replicas[*first]->running());
}

TEST_F(IngressTest, KafkaBrokerDownAndRedisRestartLoseNothing) {
  for (int i = 0; i < 2; ++i) start_replica("ingress-" + std::to_string(i), {{"PUBLISH_TIMEOUT_MS", "2000"}});
  ASSERT_TRUE(holder());
  inject(2'000);
  ASSERT_TRUE(wait_until([&] { return pending() < 1'500; }, 30s));
  ASSERT_EQ(kafka.control("POST", "/brokers/1/down"), 200);
  inject(2'000);
  std::this_thread::sleep_for(5s);
  ASSERT_EQ(kafka.control("POST", "/brokers/1/up"), 200);
  ASSERT_TRUE(wait_until([&] { return pending() < 1'000; }, 30s));
  redis.stop();
  inject(1'000);
  std::this_thread::sleep_for(1s);
  redis.start();
  inject(1'000);
  ASSERT_TRUE(wait_until([&] { return pending() == 0; }, 30s));
  auto got = collect(6'000);
  expect_all(got, 1, 6'000);
  for (auto& r : replicas) EXPECT_TRUE(r->running());
}

TEST_F(IngressTest, RestartedUpdateNumberingIsPublishedNotConfirmedAway) {
  start_replica("ingress-0");
  ASSERT_TRUE(holder());
  inject(50);
  ASSERT_TRUE(wait_until([&] { return stored_offset() == 51; }, 20s));
  // Telegram picks a random next update_id after a quiet week; here lower
  // than the stored offset, and inside the last batch's ids.
  control("POST", "/config", {{"next_update_id", 3}});
  inject(5);
  ASSERT_TRUE(wait_until([&] { return stored_offset() == 8; }, 20s)) << "offset " << stored_offset();
  auto got = collect(50, 30s, 500ms);
  EXPECT_EQ(got.entries.size(), 55u) << "every update once, ids 3-7 twice as Telegram numbered them";
  for (std::int64_t id = 3; id <= 7; ++id) EXPECT_EQ(got.copies[id], 2) << id;
}

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
