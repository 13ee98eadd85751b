// The accounts service under test: a real redis-server with fsync, the
// accounts binary, and helpers that call its HTTP API.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kiebot/http/client.hpp"
#include "process.hpp"
#include "redis_server.hpp"
#include "run.hpp"

namespace kiebot::test {

using namespace std::chrono_literals;
using nlohmann::json;

inline constexpr const char* kToken = "test-accounts-token";

struct Accounts : testing::Test {
  std::unique_ptr<test::RedisServer> redis =
      std::make_unique<test::RedisServer>(std::vector<std::string>{"--appendonly", "yes", "--appendfsync", "always"});
  std::unique_ptr<test::Process> service;
  std::uint16_t port = 0;
  net::io_context io;
  http::Client client{io.get_executor()};

  void SetUp() override { start(); }

  void start(std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> env{{"ACCOUNTS_TOKEN", kToken}, {"REDIS_URL", redis->url()},
                                           {"HTTP_PORT", "0"},         {"OWNER_ID", "1"},
                                           {"ADMIN_IDS", "2"},         {"ADMIN_DEFAULT_LIMIT", "5000"}};
    for (auto& [k, v] : extra) env[k] = v;
    service = std::make_unique<test::Process>(std::vector<std::string>{std::string(KIEBOT_BIN_DIR) + "/accounts"}, env);
    port = service->listening_port(10s);
    wait_ready();
  }

  void wait_ready() {
    for (int i = 0; i < 200; ++i) {
      try {
        if (call("GET", "/readyz", "", false).status == 200) return;
      } catch (const http::ClientError&) {
      }
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "accounts never became ready: " << service->stderr_text();
  }

  http::ClientRequest request(const std::string& method, const std::string& path, std::string body, bool auth = true) {
    http::ClientRequest r{method, "http://127.0.0.1:" + std::to_string(port) + path, {}, std::move(body), 10s};
    if (auth) r.headers.emplace_back("Authorization", std::string("Bearer ") + kToken);
    if (!r.body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    return r;
  }
  http::Response call(const std::string& method, const std::string& path, std::string body = "", bool auth = true) {
    return test::run(io, client.send(request(method, path, std::move(body), auth)));
  }
  http::Response call_as(const std::string& token, const std::string& method, const std::string& path,
                         const json& body = nullptr) {
    auto r = request(method, path, body.is_null() ? "" : body.dump(), false);
    r.headers.emplace_back("Authorization", "Bearer " + token);
    return test::run(io, client.send(std::move(r)));
  }
  json get(const std::string& path) {
    auto r = call("GET", path);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
  http::Response post(const std::string& path, const json& body) { return call("POST", path, body.dump()); }

  // Sends every request at once (one connection each) and returns the answers in order.
  std::vector<http::Response> concurrently(std::vector<http::ClientRequest> requests) {
    std::vector<std::optional<http::Response>> answers(requests.size());
    std::size_t done = 0;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      // No idle connection is free while all are in flight: one connection each.
      net::co_spawn(io, client.send(std::move(requests[i])),
                    [&answers, &done, i](std::exception_ptr e, http::Response r) {
                      ++done;
                      if (!e) answers[i] = std::move(r);
                    });
    }
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (done < answers.size() && std::chrono::steady_clock::now() < deadline) io.run_one_for(20ms);
    std::vector<http::Response> out;
    for (auto& a : answers) {
      EXPECT_TRUE(a.has_value()) << "a request failed at the transport level";
      out.push_back(a.value_or(http::Response{0, {}, {}}));
    }
    return out;
  }

  void credit(std::int64_t user, std::int64_t amount, const std::string& key) {
    auto r = post("/v1/users/" + std::to_string(user) + "/credits",
                  {{"amount", amount}, {"reason", "topup"}, {"idempotency_key", key}});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  std::int64_t ledger_sum(std::int64_t user) {
    std::int64_t sum = 0;
    auto ledger = get("/v1/users/" + std::to_string(user) + "/ledger?limit=1000");
    for (const auto& e : ledger["entries"]) {
      sum += e["delta"].get<std::int64_t>();
    }
    return sum;
  }
};

}  // namespace kiebot::test
