// The ingress poller under test: replicas as separate processes against
// tg-emulator, kafka-dev and a real redis-server, and helpers that read the
// lease, the stored offset and what reached tg.updates.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
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

inline constexpr const char* kToken = "111111:sandbox-token";
inline constexpr const char* kLeaseKey = "{lease:telegram:111111}";

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

inline net::awaitable<void> consume(kafka::Consumer* consumer, Collected* out, std::size_t expected,
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

}  // namespace kiebot::test
