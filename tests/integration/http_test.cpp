// HTTP client <-> server over loopback: keep-alive, limits, deadlines, drain.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "kiebot/http/client.hpp"
#include "kiebot/http/health.hpp"
#include "kiebot/http/server.hpp"
#include "process.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;

namespace {

net::awaitable<http::Response> slow(http::Request request) {
  auto ms = std::stoi(request.query("ms").value_or("500"));
  auto executor = co_await net::this_coro::executor;
  net::steady_timer t(executor, std::chrono::milliseconds(ms));
  co_await t.async_wait(net::use_awaitable);
  co_return http::Response::text(200, "slept");
}

int stuck_handlers_ended = 0;

// Answers after a minute, unless its session is cancelled first.
net::awaitable<http::Response> stuck(http::Request) {
  struct Ended {
    ~Ended() { ++stuck_handlers_ended; }
  } ended;
  auto executor = co_await net::this_coro::executor;
  net::steady_timer t(executor, std::chrono::minutes(1));
  co_await t.async_wait(net::use_awaitable);
  co_return http::Response::text(200, "late");
}

http::Router make_router() {
  http::Router router;
  add_health_routes(router, [] { return std::vector<std::pair<std::string, bool>>{{"redis", true}}; });
  router.add("POST", "/echo", http::SyncHandler([](const http::Request& r) {
               return http::Response::json(200, {{"got", r.json()}, {"ct", r.header("content-type").value_or("")}});
             }));
  router.add("GET", "/big", http::SyncHandler([](const http::Request&) {
               return http::Response::text(200, std::string(200'000, 'x'));
             }));
  router.add("GET", "/slow", http::Handler(slow));
  router.add("GET", "/stuck", http::Handler(stuck));
  return router;
}

struct ServerFixture : testing::Test {
  net::io_context io;
  net::cancellation_signal stop;
  std::unique_ptr<http::Server> server;
  bool server_done = false;
  std::uint16_t port = 0;

  void start(http::ServerOptions options = {}) {
    options.address = "127.0.0.1";
    server = std::make_unique<http::Server>(io.get_executor(), make_router(), options);
    port = server->bind();
    net::co_spawn(io, server->run(),
                  net::bind_cancellation_slot(stop.slot(), [this](std::exception_ptr) { server_done = true; }));
  }
  void TearDown() override {
    if (server && !server_done) {
      stop.emit(net::cancellation_type::terminal);
      for (int i = 0; i < 200 && !server_done; ++i) io.run_one_for(50ms);
    }
  }
  std::string url(const std::string& path) { return "http://127.0.0.1:" + std::to_string(port) + path; }
};

net::awaitable<std::string> raw_exchange(std::uint16_t port, std::string bytes) {
  auto executor = co_await net::this_coro::executor;
  net::ip::tcp::socket s(executor);
  co_await s.async_connect({net::ip::make_address("127.0.0.1"), port}, net::use_awaitable);
  co_await net::async_write(s, net::buffer(bytes), net::use_awaitable);
  std::string out;
  char buf[4096];
  while (true) {
    auto [ec, n] = co_await s.async_read_some(net::buffer(buf), net::as_tuple(net::use_awaitable));
    out.append(buf, n);
    if (ec) break;
  }
  co_return out;
}

}  // namespace

TEST_F(ServerFixture, HealthReadyMetricsAndKeepAlive) {
  start();
  http::Client client(io.get_executor());
  for (int i = 0; i < 5; ++i) {
    auto r = test::run(io, client.get(url("/healthz")));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "ok\n");
  }
  EXPECT_EQ(client.idle_connections(), 1u);  // one connection reused five times
  auto ready = test::run(io, client.get(url("/readyz")));
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.json()["checks"]["redis"], true);
  auto metrics = test::run(io, client.get(url("/metrics")));
  EXPECT_NE(metrics.body.find("http_server_responses_total{server=\"http\",code=\"2xx\"}"), std::string::npos);
}

TEST_F(ServerFixture, JsonEchoAndErrors) {
  start();
  http::Client client(io.get_executor());
  auto r = test::run(io, client.post_json(url("/echo"), {{"amount", 1500}}));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["got"]["amount"], 1500);
  EXPECT_EQ(r.json()["ct"], "application/json");
  EXPECT_EQ(test::run(io, client.get(url("/missing"))).status, 404);
  EXPECT_EQ(test::run(io, client.get(url("/echo"))).status, 405);
}

TEST_F(ServerFixture, RequestLimits) {
  http::ServerOptions options;
  options.body_limit = 1024;
  options.header_limit = 2048;
  start(options);
  http::Client client(io.get_executor());
  http::ClientRequest big{"POST", url("/echo"), {{"Content-Type", "application/json"}}, std::string(4096, ' '), {}};
  auto r = test::run(io, client.send(big));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.json()["error"], "payload_too_large");
  http::ClientRequest headers{"GET", url("/healthz"), {{"X-Big", std::string(4096, 'h')}}, {}, {}};
  EXPECT_EQ(test::run(io, client.send(headers)).status, 431);
  auto garbage = test::run(io, raw_exchange(port, "NOT HTTP AT ALL\r\n\r\n"));
  EXPECT_NE(garbage.find("400"), std::string::npos);
}

TEST_F(ServerFixture, ClientResponseLimitAndDeadline) {
  start();
  http::ClientOptions options;
  options.max_response_bytes = 100'000;
  http::Client client(io.get_executor(), options);
  try {
    test::run(io, client.get(url("/big")));
    FAIL() << "expected too_large";
  } catch (const http::ClientError& e) {
    EXPECT_EQ(e.kind(), http::ClientError::Kind::too_large);
  }
  http::ClientRequest slow_request{"GET", url("/slow?ms=2000"), {}, {}, 200ms};
  auto started = std::chrono::steady_clock::now();
  try {
    test::run(io, client.send(slow_request));
    FAIL() << "expected timeout";
  } catch (const http::ClientError& e) {
    EXPECT_EQ(e.kind(), http::ClientError::Kind::timeout);
    EXPECT_TRUE(e.maybe_sent());  // the server got it: outcome unknown
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
}

TEST_F(ServerFixture, ConnectionRefusedIsNotSent) {
  auto closed = test::free_port();
  http::Client client(io.get_executor());
  try {
    test::run(io, client.get("http://127.0.0.1:" + std::to_string(closed) + "/"));
    FAIL() << "expected connect error";
  } catch (const http::ClientError& e) {
    EXPECT_EQ(e.kind(), http::ClientError::Kind::connect);
    EXPECT_FALSE(e.maybe_sent());
  }
}

TEST_F(ServerFixture, IdleConnectionsCloseAndPooledOnesRecover) {
  http::ServerOptions options;
  options.idle_timeout = 150ms;
  start(options);
  http::Client client(io.get_executor());
  EXPECT_EQ(test::run(io, client.get(url("/healthz"))).status, 200);
  EXPECT_EQ(client.idle_connections(), 1u);
  net::steady_timer wait(io, 400ms);
  test::run(io, wait.async_wait(net::use_awaitable));
  // The server closed the pooled connection; the client notices and retries.
  EXPECT_EQ(test::run(io, client.get(url("/healthz"))).status, 200);
}

TEST_F(ServerFixture, GracefulShutdownFinishesInFlightRequests) {
  start();
  http::Client client(io.get_executor());
  http::Client idle_client(io.get_executor());
  EXPECT_EQ(test::run(io, idle_client.get(url("/healthz"))).status, 200);  // an idle keep-alive connection
  std::optional<int> status;
  net::co_spawn(io, client.get(url("/slow?ms=400")),
                [&status](std::exception_ptr e, http::Response r) { status = e ? -1 : r.status; });
  auto in_handler = std::chrono::steady_clock::now() + 150ms;  // the slow request is now in its handler
  while (std::chrono::steady_clock::now() < in_handler) io.run_one_for(10ms);
  stop.emit(net::cancellation_type::terminal);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while ((!server_done || !status) && std::chrono::steady_clock::now() < deadline) io.run_one_for(20ms);
  EXPECT_TRUE(server_done);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 200);
  EXPECT_FALSE(test::port_open(port));
}

// A handler that outlasts the drain does not outlive the server: run()
// returns once its session was cancelled and ended, shortly after the drain.
TEST_F(ServerFixture, ShutdownEndsSessionsThatOutlastTheDrain) {
  http::ServerOptions options;
  options.drain_timeout = 300ms;
  start(options);
  stuck_handlers_ended = 0;
  http::Client client(io.get_executor());
  std::optional<int> status;
  net::co_spawn(io, client.get(url("/stuck")),
                [&status](std::exception_ptr e, http::Response r) { status = e ? -1 : r.status; });
  auto in_handler = std::chrono::steady_clock::now() + 150ms;
  while (std::chrono::steady_clock::now() < in_handler) io.run_one_for(10ms);
  auto stopped_at = std::chrono::steady_clock::now();
  stop.emit(net::cancellation_type::terminal);
  while (!server_done && std::chrono::steady_clock::now() < stopped_at + 10s) io.run_one_for(20ms);
  ASSERT_TRUE(server_done);
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, 3s);
  EXPECT_EQ(stuck_handlers_ended, 1) << "the handler's session ended before run() returned";
  while (!status && std::chrono::steady_clock::now() < stopped_at + 10s) io.run_one_for(20ms);
  EXPECT_NE(status.value_or(200), 200) << "the stuck request was not answered as if it had finished";
}
