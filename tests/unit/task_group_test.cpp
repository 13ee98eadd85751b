// TaskGroup: children are joined with a deadline, the rest cancelled and reported.
#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "kiebot/runtime/backoff.hpp"
#include "kiebot/runtime/task_group.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;

namespace {

net::awaitable<void> sleeps(std::chrono::milliseconds d, int* finished, int* cancelled) {
  bool slept = co_await sleep_for(d);  // named: g++ 12 miscompiles a co_await in this if's condition
  ++*(slept ? finished : cancelled);
}

net::awaitable<void> join_into(TaskGroup* group, std::chrono::milliseconds grace, std::size_t* unfinished) {
  *unfinished = co_await group->join(grace);
}

}  // namespace

TEST(TaskGroup, JoinReportsHowManyChildrenHadToBeCancelled) {
  net::io_context io;
  int finished = 0, cancelled = 0;
  std::size_t unfinished = 99;
  TaskGroup group(io.get_executor(), "test");
  group.spawn("quick", sleeps(10ms, &finished, &cancelled));
  group.spawn("slow-1", sleeps(1h, &finished, &cancelled));
  group.spawn("slow-2", sleeps(1h, &finished, &cancelled));
  test::run(io, join_into(&group, 100ms, &unfinished), 5s);
  EXPECT_EQ(unfinished, 2u);
  EXPECT_EQ(finished, 1);
  EXPECT_EQ(cancelled, 2);
  EXPECT_EQ(group.size(), 0u);
}

TEST(TaskGroup, JoinOfChildrenThatFinishReportsNone) {
  net::io_context io;
  int finished = 0, cancelled = 0;
  std::size_t unfinished = 99;
  TaskGroup group(io.get_executor(), "test");
  for (int i = 0; i < 5; ++i) group.spawn(sleeps(20ms, &finished, &cancelled));
  test::run(io, join_into(&group, 5s, &unfinished), 5s);
  EXPECT_EQ(unfinished, 0u);
  EXPECT_EQ(finished, 5);
  EXPECT_EQ(cancelled, 0);
}

// Shutdown cancels the joiner; the join still waits for the children (and
// cancels them after its grace), so that nothing outlives what they use.
TEST(TaskGroup, TheJoinersCancellationDoesNotCutTheJoinShort) {
  net::io_context io;
  int finished = 0, cancelled = 0;
  std::size_t unfinished = 99;
  bool joined = false;
  std::exception_ptr failure;
  TaskGroup group(io.get_executor(), "test");
  group.spawn(sleeps(1h, &finished, &cancelled));
  group.spawn(sleeps(1h, &finished, &cancelled));
  net::cancellation_signal stop;
  net::co_spawn(io, join_into(&group, 100ms, &unfinished),
                net::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e) {
                  joined = true;
                  failure = e;
                }));
  io.run_for(50ms);
  stop.emit(net::cancellation_type::all);
  io.run_for(1s);
  ASSERT_TRUE(joined);
  EXPECT_FALSE(failure) << "join() threw on its caller's cancellation";
  EXPECT_EQ(unfinished, 2u);
  EXPECT_EQ(cancelled, 2);
  EXPECT_EQ(group.size(), 0u);
}

TEST(TaskGroup, ChildrenSpawnedAfterCancelAreCancelledAtOnce) {
  net::io_context io;
  int finished = 0, cancelled = 0;
  std::size_t unfinished = 99;
  TaskGroup group(io.get_executor(), "test");
  group.cancel();
  group.spawn(sleeps(1h, &finished, &cancelled));
  test::run(io, join_into(&group, 5s, &unfinished), 5s);
  EXPECT_EQ(cancelled, 1);
  EXPECT_EQ(finished, 0);
}

namespace {

net::awaitable<void> wait_into(TaskGroup* group, std::chrono::milliseconds grace, std::size_t* late) {
  *late = co_await group->wait(grace);
}

}  // namespace

TEST(TaskGroup, WaitReportsLateChildrenAndLeavesThemRunning) {
  net::io_context io;
  int finished = 0, cancelled = 0;
  std::size_t late = 99;
  TaskGroup group(io.get_executor(), "test");
  group.spawn(sleeps(10ms, &finished, &cancelled));
  group.spawn(sleeps(400ms, &finished, &cancelled));
  test::run(io, wait_into(&group, 100ms, &late), 5s);
  EXPECT_EQ(late, 1u);
  EXPECT_EQ(group.size(), 1u) << "the late child still runs";
  test::run(io, wait_into(&group, 5s, &late), 5s);
  EXPECT_EQ(late, 0u);
  EXPECT_EQ(finished, 2);
  EXPECT_EQ(cancelled, 0) << "never cancelled midway";
}
