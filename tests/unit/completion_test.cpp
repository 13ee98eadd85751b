// Completion<T>: values, timeouts, cancellation, and callbacks that come late
// (after the waiter timed out, was cancelled or was destroyed).
#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>

#include <memory>
#include <optional>
#include <string>

#include "kiebot/runtime/completion.hpp"

using namespace kiebot;
using namespace std::chrono_literals;

namespace {

// A C library's shape: a callback with a `void* opaque`, called later.
struct FakeCLibrary {
  void (*callback)(void* opaque, int value) = nullptr;
  void* opaque = nullptr;
  void fire(int value) {
    auto cb = callback;
    callback = nullptr;
    cb(opaque, value);
  }
};

void on_value(void* opaque, int value) {
  Completion<int>::from_opaque(opaque).complete(value);
}

struct Outcome {
  std::optional<int> value;
  bool aborted = false;
  bool timed_out = false;
  bool done = false;
  bool on_strand = false;
};

net::awaitable<void> wait_value(Completion<int> c, Outcome* out) {
  try {
    out->value = co_await c.wait();
  } catch (const boost::system::system_error& e) {
    out->aborted = e.code() == net::error::operation_aborted;
  }
  out->done = true;
}

net::awaitable<void> wait_value_for(Completion<int> c, std::chrono::milliseconds timeout, Outcome* out) {
  auto got = co_await c.wait_for(timeout);
  out->value = got;
  out->timed_out = !got;
  out->done = true;
}

net::awaitable<void> wait_on_strand(Completion<int> c, net::strand<net::io_context::executor_type>* strand,
                                    Outcome* out) {
  out->value = co_await c.wait();
  out->on_strand = strand->running_in_this_thread();
  out->done = true;
}

}  // namespace

TEST(Completion, ValueGivenBeforeTheWaitIsReturnedAtOnce) {
  net::io_context io;
  Completion<int> c;
  c.complete(7);
  c.complete(8);  // the first value wins
  Outcome out;
  net::co_spawn(io, wait_value(c, &out), net::detached);
  io.run();
  EXPECT_TRUE(out.done);
  EXPECT_EQ(out.value, 7);
  EXPECT_FALSE(c.abandoned());
}

TEST(Completion, CallbackThroughOpaquePointerWakesTheWaiterOnItsExecutor) {
  net::io_context io;
  auto strand = net::make_strand(io);
  FakeCLibrary lib;
  Completion<int> c;
  lib.callback = &on_value;
  lib.opaque = c.into_opaque();
  Outcome out;
  net::co_spawn(strand, wait_on_strand(c, &strand, &out), net::detached);
  io.run_for(20ms);
  EXPECT_FALSE(out.done);
  // The library calls back from a handler of its own, off the strand.
  net::post(io, [&] { lib.fire(42); });
  io.restart();
  io.run_for(200ms);
  EXPECT_TRUE(out.done);
  EXPECT_EQ(out.value, 42);
  EXPECT_TRUE(out.on_strand);
}

TEST(Completion, TimeoutReturnsNulloptAndALateCallbackIsHarmless) {
  net::io_context io;
  FakeCLibrary lib;
  Completion<int> c;
  lib.callback = &on_value;
  lib.opaque = c.into_opaque();
  Outcome out;
  net::co_spawn(io, wait_value_for(c, 30ms, &out), net::detached);
  io.run();
  EXPECT_TRUE(out.timed_out);
  EXPECT_TRUE(c.abandoned());
  lib.fire(1);  // after the waiter left: stored, read by nobody
  EXPECT_TRUE(c.done());
}

TEST(Completion, CancellationAbortsTheWaitAndALateCallbackIsHarmless) {
  net::io_context io;
  FakeCLibrary lib;
  Completion<int> c;
  lib.callback = &on_value;
  lib.opaque = c.into_opaque();
  Outcome out;
  net::cancellation_signal cancel;
  net::co_spawn(io, wait_value(c, &out), net::bind_cancellation_slot(cancel.slot(), net::detached));
  io.run_for(20ms);
  ASSERT_FALSE(out.done);
  cancel.emit(net::cancellation_type::terminal);
  io.restart();
  io.run_for(200ms);
  EXPECT_TRUE(out.done);
  EXPECT_TRUE(out.aborted);
  EXPECT_FALSE(out.value.has_value());
  EXPECT_TRUE(c.abandoned());
  lib.fire(5);
  EXPECT_TRUE(c.done());
}

TEST(Completion, CallbackAfterTheWaitingFrameWasDestroyedIsHarmless) {
  FakeCLibrary lib;
  Outcome out;
  {
    net::io_context io;
    Completion<int> c;
    lib.callback = &on_value;
    lib.opaque = c.into_opaque();
    net::co_spawn(io, wait_value(c, &out), net::detached);
    io.run_for(20ms);
    ASSERT_FALSE(out.done);
  }  // the io_context destroys the suspended coroutine
  EXPECT_FALSE(out.done);
  lib.fire(9);  // under ASan: no use of the destroyed frame or timer
}

TEST(Completion, CompletedWhileACancellationIsPendingStillDeliversTheValue) {
  net::io_context io;
  Completion<int> c;
  Outcome out;
  net::cancellation_signal cancel;
  net::co_spawn(io, wait_value(c, &out), net::bind_cancellation_slot(cancel.slot(), net::detached));
  io.run_for(20ms);
  c.complete(3);                                  // the waiter is woken...
  cancel.emit(net::cancellation_type::terminal);  // ...and cancelled before it runs: the value wins
  io.restart();
  io.run_for(200ms);
  EXPECT_TRUE(out.done);
  EXPECT_EQ(out.value, 3);
  EXPECT_FALSE(out.aborted);
}
