// Lifecycle: SIGTERM -> total cancellation -> bounded drain -> exit code.
#include <gtest/gtest.h>

#include <signal.h>

#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kiebot/base/errors.hpp"
#include "kiebot/runtime/lifecycle.hpp"
#include "process.hpp"

using namespace kiebot;
using namespace std::chrono_literals;

namespace {

net::awaitable<void> wait_forever_then_clean_up(bool* cleaned) {
  auto executor = co_await net::this_coro::executor;
  net::steady_timer forever(executor, net::steady_timer::time_point::max());
  auto [ec] = co_await forever.async_wait(net::as_tuple(net::use_awaitable));
  if (ec != net::error::operation_aborted) co_return;
  // Cancelled: do a bounded piece of cleanup work on a fresh state.
  co_await net::this_coro::reset_cancellation_state();
  net::steady_timer cleanup(executor, 50ms);
  co_await cleanup.async_wait(net::use_awaitable);
  *cleaned = true;
}

net::awaitable<void> ignore_cancellation() {
  co_await net::this_coro::throw_if_cancelled(false);
  co_await net::this_coro::reset_cancellation_state(net::disable_cancellation());
  auto executor = co_await net::this_coro::executor;
  net::steady_timer t(executor, 30s);
  co_await t.async_wait(net::use_awaitable);
}

net::awaitable<void> raise_sigterm_soon() {
  auto executor = co_await net::this_coro::executor;
  net::steady_timer t(executor, 100ms);
  co_await t.async_wait(net::use_awaitable);
  ::raise(SIGTERM);
}

net::awaitable<void> fail_soon() {
  auto executor = co_await net::this_coro::executor;
  net::steady_timer t(executor, 50ms);
  co_await t.async_wait(net::use_awaitable);
  throw TransientError("lost the database");  // a failure, not a bug: it must still stop the service
}

}  // namespace

TEST(Lifecycle, SigtermCancelsTasksAndExitsZero) {
  net::io_context io;
  Lifecycle lifecycle(io, 5s);
  bool cleaned = false;
  lifecycle.spawn("worker", wait_forever_then_clean_up(&cleaned));
  lifecycle.spawn("trigger", raise_sigterm_soon());
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(lifecycle.run(), 0);
  EXPECT_TRUE(cleaned);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST(Lifecycle, DrainIsBounded) {
  net::io_context io;
  Lifecycle lifecycle(io, 300ms);
  lifecycle.spawn("stubborn", ignore_cancellation());
  lifecycle.spawn("trigger", raise_sigterm_soon());
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(lifecycle.run(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST(Lifecycle, FailedTaskStopsTheRestWithExitOne) {
  net::io_context io;
  Lifecycle lifecycle(io, 5s);
  bool cleaned = false;
  lifecycle.spawn("worker", wait_forever_then_clean_up(&cleaned));
  lifecycle.spawn("db", fail_soon());
  EXPECT_EQ(lifecycle.run(), 1);
  EXPECT_TRUE(cleaned);
}

TEST(Lifecycle, KafkaDevStopsCleanlyOnSigterm) {
  test::Process kafka(
      {std::string(KIEBOT_BIN_DIR) + "/kafka-dev", "--brokers", "1", "--topics", "t:2", "--control-port", "0"});
  ASSERT_TRUE(kafka.read_line(20s));
  kafka.listening_port(10s);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(kafka.stop(SIGTERM, 10s), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(Lifecycle, KafkaDevBadArgumentsExitTwo) {
  test::Process kafka({std::string(KIEBOT_BIN_DIR) + "/kafka-dev", "--brokers", "zero"});
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (kafka.running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(kafka.stop(SIGKILL, 1s), 2);
  EXPECT_NE(kafka.stderr_text().find("--brokers"), std::string::npos);
}
