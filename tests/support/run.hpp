// Runs a coroutine to completion on an io_context, with a deadline.
#pragma once

#include <boost/asio/co_spawn.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>

#include "kiebot/runtime/net.hpp"

namespace kiebot::test {

namespace detail {
template <class T>
struct Outcome {
  std::optional<T> value;
  std::exception_ptr error;
  bool done = false;
};
struct Unit {};
void drive(net::io_context& io, const bool& done, std::chrono::milliseconds timeout);
}  // namespace detail

// Throws whatever the coroutine threw, or std::runtime_error on timeout.
template <class T>
T run(net::io_context& io, net::awaitable<T> task, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  auto outcome = std::make_shared<detail::Outcome<T>>();
  net::co_spawn(io, std::move(task), [outcome](std::exception_ptr e, T value) {
    outcome->done = true;
    outcome->error = e;
    if (!e) outcome->value = std::move(value);
  });
  detail::drive(io, outcome->done, timeout);
  if (outcome->error) std::rethrow_exception(outcome->error);
  return std::move(*outcome->value);
}

inline void run(net::io_context& io, net::awaitable<void> task,
                std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  auto outcome = std::make_shared<detail::Outcome<detail::Unit>>();
  net::co_spawn(io, std::move(task), [outcome](std::exception_ptr e) {
    outcome->done = true;
    outcome->error = e;
  });
  detail::drive(io, outcome->done, timeout);
  if (outcome->error) std::rethrow_exception(outcome->error);
}

}  // namespace kiebot::test
