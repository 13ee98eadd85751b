// The non-template half of Completion<T> (see completion.hpp).
#include "kiebot/runtime/completion.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace kiebot::detail {

// The waiting coroutine sleeps on a timer that expires at its deadline;
// fire() cancels it early. A timer rather than a handler stored here, so
// that a waiter whose io_context is destroyed is freed by Asio like any other.
struct CompletionCore::Waiter {
  net::steady_timer timer;
};

void CompletionCore::fire() {
  done_ = true;
  if (waiter_ != nullptr) waiter_->timer.cancel();
}

net::awaitable<bool> CompletionCore::wait(std::shared_ptr<CompletionCore> core, TimePoint deadline) {
  if (core->done_) co_return true;
  auto executor = co_await net::this_coro::executor;
  Waiter waiter{net::steady_timer(executor, deadline)};
  // Runs however the wait ends, including when this frame is destroyed
  // unresumed: a late fire() then finds nobody to wake.
  struct Leave {
    CompletionCore& core;
    ~Leave() {
      core.waiter_ = nullptr;
      if (!core.done_) core.abandoned_ = true;
    }
  } leave{*core};
  core->waiter_ = &waiter;
  auto [ec] = co_await waiter.timer.async_wait(net::as_tuple(net::use_awaitable));
  if (core->done_) co_return true;
  if (ec == net::error::operation_aborted) throw boost::system::system_error(ec);  // the waiter was cancelled
  co_return false;
}

}  // namespace kiebot::detail
