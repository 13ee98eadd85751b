// The generator under test: replicas as separate processes against
// kie-emulator, tg-emulator, accounts, kafka-dev and a real redis-server, and
// helpers that publish jobs, read what the generator wrote back and look at
// the chat, the accounts and the metrics.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kafka_dev.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/redis/redis.hpp"
#include "process.hpp"
#include "redis_server.hpp"
#include "run.hpp"

namespace kiebot::test {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

inline constexpr const char* kBotToken = "111111:sandbox-token";
inline constexpr const char* kAccountsToken = "test-accounts-token";
inline constexpr std::int64_t kUser = 42;

inline std::string bin(const char* name) {
  return std::string(KIEBOT_BIN_DIR) + "/" + name;
}

inline constexpr const char* kWebhookKey = "test-webhook-hmac-key";

struct GeneratorTest : testing::Test {
  test::RedisServer redis{{"--appendonly", "yes", "--appendfsync", "always"}};
  test::KafkaDev kafka;
  std::unique_ptr<test::Process> tg, kie, accounts;
  std::uint16_t tg_port = 0, kie_port = 0, accounts_port = 0;
  std::vector<std::unique_ptr<test::Process>> generators;
  std::vector<std::uint16_t> generator_ports;
  net::io_context io;
  http::Client client{io.get_executor()};
  std::unique_ptr<kafka::Producer> producer;
  int groups = 0;

  void SetUp() override {
    tg = std::make_unique<test::Process>(std::vector<std::string>{bin("tg-emulator")},
                                         std::map<std::string, std::string>{{"HTTP_PORT", "0"}});
    // Callbacks signed as KIE signs them with a webhook HMAC key; a generator
    // checks them only when given the key (KIE_WEBHOOK_HMAC_KEY).
    kie = std::make_unique<test::Process>(
        std::vector<std::string>{bin("kie-emulator")},
        std::map<std::string, std::string>{{"HTTP_PORT", "0"}, {"KIE_EMULATOR_WEBHOOK_HMAC_KEY", kWebhookKey}});
    accounts = std::make_unique<test::Process>(
        std::vector<std::string>{bin("accounts")},
        std::map<std::string, std::string>{{"HTTP_PORT", "0"},
                                           {"ACCOUNTS_TOKEN", kAccountsToken},
                                           {"REDIS_URL", "redis://127.0.0.1:" + std::to_string(redis.port()) + "/1"}});
    tg_port = tg->listening_port(10s);
    kie_port = kie->listening_port(10s);
    accounts_port = accounts->listening_port(10s);
    kie_config({{"latency_ms", {{"waiting", 50}, {"queuing", 50}, {"generating", 200}}}, {"rate_limit", false}});
    kafka::ProducerOptions o;
    o.brokers = kafka.bootstrap();
    producer = std::make_unique<kafka::Producer>(io.get_executor(), o);
    // The user, with money, and a chat with the bot.
    accounts_call("POST", "/v1/users/42/credits",
                  {{"amount", 1'000'000}, {"reason", "topup"}, {"idempotency_key", "fund"}});
    tg_call("POST", "/control/users/42/messages", {{"text", "/start"}, {"language_code", "en"}});
  }

  std::string url(std::uint16_t port, const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
  http::Response request(const std::string& method, const std::string& u, const std::string& body = "",
                         http::Headers headers = {}) {
    http::ClientRequest r{method, u, std::move(headers), body, 20s};
    if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    return test::run(io, client.send(std::move(r)), 30s);
  }
  json tg_call(const std::string& method, const std::string& path, const json& body = json::object()) {
    return request(method, url(tg_port, path), method == "GET" ? "" : body.dump()).json();
  }
  json kie_config(const json& body) { return request("POST", url(kie_port, "/control/config"), body.dump()).json(); }
  json kie_stats() { return request("GET", url(kie_port, "/control/stats")).json(); }
  json accounts_call(const std::string& method, const std::string& path, const json& body = json::object()) {
    auto r = request(method, url(accounts_port, path), method == "GET" ? "" : body.dump(),
                     {{"Authorization", std::string("Bearer ") + kAccountsToken}});
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return r.json();
  }
  json user() { return accounts_call("GET", "/v1/users/42"); }
  std::string hold(const std::string& key, std::int64_t amount) {
    return accounts_call("POST", "/v1/users/42/holds",
                         {{"amount", amount}, {"kind", "paid"}, {"idempotency_key", key}})["hold_id"];
  }

  std::size_t start_generator(std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> env{{"HTTP_PORT", "0"},
                                           {"INSTANCE_ID", "generator-" + std::to_string(generators.size())},
                                           {"REDIS_URL", redis.url()},
                                           {"KAFKA_BROKERS", kafka.bootstrap()},
                                           {"TELEGRAM_BOT_TOKEN", kBotToken},
                                           {"TELEGRAM_API_BASE", url(tg_port, "")},
                                           {"KIE_API_KEY", "sandbox-key"},
                                           {"KIE_API_BASE", url(kie_port, "")},
                                           {"ACCOUNTS_URL", url(accounts_port, "")},
                                           {"ACCOUNTS_TOKEN", kAccountsToken},
                                           {"FIRST_CHECK_MS", "200"},
                                           {"MAX_CHECK_MS", "1000"},
                                           {"CLAIM_TTL_MS", "3000"},
                                           {"GENERATOR_UNPAID_SOURCES", "test-internal, bench"},
                                           // kie-emulator's own limit is off here (SetUp), and so is
                                           // ours, unless a test turns both on.
                                           {"KIE_RATE_LIMIT", "100000"},
                                           {"KAFKA_CFG_TOPIC_METADATA_REFRESH_INTERVAL_MS", "1000"}};
    if (std::getenv("KIEBOT_TEST_VERBOSE") != nullptr) env["LOG_LEVEL"] = "debug";
    for (auto& [k, v] : extra) env[k] = v;
    generators.push_back(std::make_unique<test::Process>(std::vector<std::string>{bin("generator")}, std::move(env)));
    generator_ports.push_back(generators.back()->listening_port(20s));
    return generators.size() - 1;
  }

  json job(const std::string& id, const std::string& hold_id, json extra = json::object()) {
    json j = {{"v", 1},
              {"job_id", id},
              {"model", "google/nano-banana"},
              {"input", {{"prompt", "a red fox " + id}, {"output_format", "png"}, {"aspect_ratio", "1:1"}}},
              {"created_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count()},
              {"user_id", kUser},
              {"chat_id", kUser},
              {"language", "en"}};
    if (!hold_id.empty()) j["hold_id"] = hold_id;
    if (hold_id.empty()) j["source"] = "test-internal";  // allowlisted: GENERATOR_UNPAID_SOURCES
    for (auto& [k, v] : extra.items()) j[k] = v;
    return j;
  }
  void publish(const std::string& key, const std::string& value) {
    test::run(io, producer->send("gen.jobs", key, value, {}));
  }
  void publish(const json& j) { publish(j["job_id"].get<std::string>(), j.dump()); }

  // (A new consumer group each time.)
  // Every message of `topic` so far, until `expected` distinct job ids came.
  std::vector<json> read(const std::string& topic, std::size_t expected, std::chrono::milliseconds timeout = 30s) {
    kafka::ConsumerOptions o;
    o.brokers = kafka.bootstrap();
    o.group_id = "generator-test-" + std::to_string(++groups);
    o.topics = {topic};
    o.properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    kafka::Consumer consumer(io.get_executor(), o);
    std::vector<json> out;
    std::set<std::string> ids;
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline && ids.size() < expected) {
      auto messages = test::run(io, consumer.poll(500, 200ms));
      for (const auto& m : messages) {
        out.push_back(json::parse(m.value, nullptr, false));
        ids.insert(out.back().is_object() && out.back().contains("job_id") ? out.back().value("job_id", "")
                                                                           : std::to_string(ids.size()) + m.key);
      }
    }
    // A moment more for anything beyond the expected count.
    auto extra = test::run(io, consumer.poll(500, 300ms));
    for (const auto& m : extra) out.push_back(json::parse(m.value));
    consumer.close();
    return out;
  }

  double metric(std::size_t i, const std::string& name) {
    auto r = request("GET", url(generator_ports[i], "/metrics"));
    std::istringstream lines(r.body);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
    }
    return -1;
  }

  // The job's record in Redis, for failure messages.
  std::string job_record(const std::string& id) {
    redis::Options options;
    options.url = redis.url();
    redis::Client r(io.get_executor(), options);
    r.start();
    std::string out;
    try {
      test::run(io, r.wait_connected(3s));
      std::vector<std::string> command{"HGETALL", "{gen}:job:" + id};
      auto reply = test::run(io, r.exec(std::move(command)));
      for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
        if (reply.elements[i].str != "job") out += reply.elements[i].str + "=" + reply.elements[i + 1].str + " ";
      }
    } catch (const std::exception& e) {
      out = e.what();
    }
    r.stop();
    return out;
  }

  // The chat as the user sees it: bot messages with media, and texts.
  json transcript() { return tg_call("GET", "/control/chats/42/transcript"); }
  std::size_t photos() {
    std::size_t n = 0;
    for (const auto& m : transcript()) n += m.contains("media") && m["media"]["type"] == "photo" ? 1 : 0;
    return n;
  }

  void TearDown() override {
    if (!HasFailure()) return;
    for (std::size_t i = 0; i < generators.size(); ++i) {
      std::istringstream lines(generators[i]->stderr_text());
      int shown = 0;
      for (std::string line; std::getline(lines, line) && shown < 400;) {
        if (std::getenv("KIEBOT_TEST_VERBOSE") == nullptr &&
            (line.find("\"level\":\"info\"") != std::string::npos || line.find("kafka_") != std::string::npos))
          continue;
        std::cerr << "generator-" << i << ": " << line.substr(0, 400) << "\n";
        ++shown;
      }
    }
  }

  template <class Pred>
  bool wait_until(Pred pred, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return pred();
  }
};

}  // namespace kiebot::test
