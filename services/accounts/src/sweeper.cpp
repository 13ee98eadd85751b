// Background release of expired holds.
#include "sweeper.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "kiebot/base/errors.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/redis/redis.hpp"
#include "store.hpp"

namespace kiebot::accounts {

net::awaitable<void> run_sweeper(Store& store, std::chrono::milliseconds every) {
  auto executor = co_await net::this_coro::executor;
  net::steady_timer timer(executor);
  auto state = co_await net::this_coro::cancellation_state;
  while (state.cancelled() == net::cancellation_type::none) {
    try {
      co_await store.flush();
      // A full batch means more may be due: go again at once.
      while (co_await store.expire_due(200) == 200) {
      }
    } catch (...) {
      // Reported by kind: no connection, a READONLY replica or OOM are
      // transient, a script's error is a bug (logged as one and counted).
      // Either way the next sweep tries again: the sweeper never ends on one.
      report_error("sweep_failed", std::current_exception());
    }
    if (state.cancelled() != net::cancellation_type::none) break;
    timer.expires_after(every);
    auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    if (ec == net::error::operation_aborted) break;
  }
  // Stopping: write what is batched, so a clean shutdown loses no stats.
  co_await net::this_coro::reset_cancellation_state();
  co_await store.flush();
}

}  // namespace kiebot::accounts
