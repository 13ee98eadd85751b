// Backoff and cancellable sleep (see backoff.hpp).
#include "kiebot/runtime/backoff.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <random>

namespace kiebot {

namespace {

// One engine per thread, seeded once: a Backoff is made per batch on hot
// paths, and seeding from std::random_device each time showed in profiles.
std::mt19937_64& engine() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

}  // namespace

Backoff::Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max) : min_(min), max_(std::max(min, max)) {}

std::chrono::milliseconds backoff_delay(std::chrono::milliseconds min, std::chrono::milliseconds max, int attempt) {
  auto ceiling = min;
  for (int i = 0; i < attempt && ceiling < max; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, max);
  std::uniform_int_distribution<std::int64_t> pick(ceiling.count() / 2, ceiling.count());
  return std::chrono::milliseconds(pick(engine()));
}

std::chrono::milliseconds Backoff::next() {
  return backoff_delay(min_, max_, attempt_++);
}

net::awaitable<bool> sleep_for(std::chrono::milliseconds duration) {
  auto state = co_await net::this_coro::cancellation_state;
  if (state.cancelled() != net::cancellation_type::none) co_return false;
  auto executor = co_await net::this_coro::executor;
  net::steady_timer timer(executor, duration);
  auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
  co_return !ec;
}

}  // namespace kiebot
