// Completion<T>: a one-shot bridge from a C library's callback (hiredis
// replies, librdkafka delivery reports and commits, a descriptor's readiness)
// to the coroutine that awaits it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "kiebot/runtime/net.hpp"

namespace kiebot {

namespace detail {

// The part of a completion that does not depend on T: whether it happened,
// and the coroutine waiting for it (at most one).
class CompletionCore {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  CompletionCore() = default;
  CompletionCore(const CompletionCore&) = delete;
  CompletionCore& operator=(const CompletionCore&) = delete;

  bool done() const { return done_; }
  bool abandoned() const { return abandoned_; }
  // Marks it done and wakes the waiter, if one waits.
  void fire();

  // true when done, false when `deadline` came first; throws
  // system_error(operation_aborted) when the waiting coroutine is cancelled.
  // Either way but done, the completion is abandoned.
  static net::awaitable<bool> wait(std::shared_ptr<CompletionCore> core, TimePoint deadline);

 private:
  struct Waiter;
  bool done_ = false;
  bool abandoned_ = false;
  Waiter* waiter_ = nullptr;  // in the waiting coroutine's frame, which clears it on leaving
};

}  // namespace detail

// A copyable handle on one shared result. The callback side calls
// complete() (the first value wins); one coroutine awaits wait() or
// wait_for(), and is resumed on its own executor. The state lives as long as
// any handle, so a callback that fires after the waiter was cancelled, timed
// out or destroyed only stores a value nobody reads.
//
// Single-threaded: complete() runs on the thread that runs the waiter's
// executor (hiredis and librdkafka call back from the calls that serve them,
// and kiebot serves them from Asio).
template <class T>
class Completion {
 public:
  Completion() : state_(std::make_shared<State>()) {}

  void complete(T value) {
    if (state_->done()) return;
    state_->value.emplace(std::move(value));
    state_->fire();
  }
  bool done() const { return state_->done(); }
  // The waiter left without a value: the callback may skip its work.
  bool abandoned() const { return state_->abandoned(); }

  // The value; throws system_error(operation_aborted) when cancelled first.
  net::awaitable<T> wait() const {
    auto state = state_;
    std::shared_ptr<detail::CompletionCore> core = state;  // named: see STYLE.md on temporaries in co_await
    co_await detail::CompletionCore::wait(core, detail::CompletionCore::TimePoint::max());
    co_return std::move(*state->value);
  }

  // The value, or nullopt when `timeout` passed first.
  net::awaitable<std::optional<T>> wait_for(std::chrono::steady_clock::duration timeout) const {
    auto state = state_;
    std::shared_ptr<detail::CompletionCore> core = state;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool done = co_await detail::CompletionCore::wait(core, deadline);
    if (!done) co_return std::nullopt;
    co_return std::move(*state->value);
  }

  // For a C API's `void* opaque`: a new handle owned by the pointer, to be
  // taken back exactly once with from_opaque().
  void* into_opaque() const { return new Completion(*this); }
  static Completion from_opaque(void* opaque) {
    std::unique_ptr<Completion> owned(static_cast<Completion*>(opaque));
    return std::move(*owned);
  }

 private:
  struct State : detail::CompletionCore {
    std::optional<T> value;
  };
  std::shared_ptr<State> state_;
};

}  // namespace kiebot
