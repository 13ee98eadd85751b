// Structured concurrency: a TaskGroup owns the coroutines it spawns, so none
// outlives the objects it uses. join() waits for them, cancelling those still
// running after a grace period; a service's shutdown is `co_await group.join(d)`.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "kiebot/runtime/net.hpp"

namespace kiebot {

class TaskGroup {
 public:
  TaskGroup(net::any_io_executor executor, std::string name);
  // Children still running are cancelled; they must not touch the owner
  // afterwards, so owners join() first (a warning says when one did not).
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Starts `task` as a child. An exception it ends with is logged with the
  // group's name (cancellation during cancel() or join() is not).
  void spawn(net::awaitable<void> task);
  // The same, with a name for the logs (e.g. a job id).
  void spawn(std::string name, net::awaitable<void> task);
  // Emits total cancellation to every child.
  void cancel();
  std::size_t size() const;
  // Waits until every child has ended: for `grace` on their own, then
  // cancelled. Not interrupted by the caller's own cancellation, since it is
  // what makes destroying the children's objects safe. Returns how many
  // children had not finished within `grace` (each is logged by name in
  // "task_group_unfinished").
  net::awaitable<std::size_t> join(std::chrono::milliseconds grace);
  // The same wait, for children that must not be cancelled midway (e.g. a
  // paid request whose interrupted outcome would be ambiguous): those still
  // running after `grace` are reported and left running; returns how many.
  net::awaitable<std::size_t> wait(std::chrono::milliseconds grace);
  // For a Lifecycle task of a process whose children are started on demand
  // (an emulator's webhook deliveries): waits for the process's shutdown
  // (this coroutine's cancellation), then join(grace), so that every child
  // has ended before the objects it uses go away.
  net::awaitable<void> join_at_shutdown(std::chrono::milliseconds grace);

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace kiebot
