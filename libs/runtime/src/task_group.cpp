// TaskGroup (see task_group.hpp).
#include "kiebot/runtime/task_group.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <list>

#include "kiebot/base/errors.hpp"
#include "kiebot/base/log.hpp"

namespace kiebot {

namespace {

constexpr auto kCancelAll =
    net::cancellation_type::terminal | net::cancellation_type::partial | net::cancellation_type::total;

}  // namespace

struct TaskGroup::State {
  State(net::any_io_executor ex, std::string n) : executor(ex), name(std::move(n)), idle(ex) {}

  struct Child {
    std::string name;
    net::cancellation_signal cancel;
  };

  net::any_io_executor executor;
  std::string name;
  std::list<Child> children;
  net::steady_timer idle;  // join() waits on it; the last child to end wakes it
  bool cancelling = false;

  void cancel_all() {
    cancelling = true;
    for (auto& child : children) child.cancel.emit(kCancelAll);
  }
};

TaskGroup::TaskGroup(net::any_io_executor executor, std::string name)
    : state_(std::make_shared<State>(executor, std::move(name))) {}

TaskGroup::~TaskGroup() {
  if (!state_->children.empty()) {
    log::warn("task_group_abandoned", {{"group", state_->name}, {"children", state_->children.size()}});
    state_->cancel_all();
  }
}

void TaskGroup::spawn(net::awaitable<void> task) {
  spawn(state_->name, std::move(task));
}

void TaskGroup::spawn(std::string name, net::awaitable<void> task) {
  auto& st = *state_;
  auto it = st.children.emplace(st.children.end());
  it->name = std::move(name);
  std::weak_ptr<State> weak = state_;
  net::co_spawn(st.executor, std::move(task),
                net::bind_cancellation_slot(it->cancel.slot(), [weak, it](std::exception_ptr e) {
                  auto st = weak.lock();
                  if (e) report_error("task_failed", e, {{"group", st ? st->name : ""}, {"task", st ? it->name : ""}});
                  if (!st) return;
                  st->children.erase(it);
                  if (st->children.empty()) st->idle.cancel();
                }));
  if (st.cancelling) it->cancel.emit(kCancelAll);
}

void TaskGroup::cancel() {
  state_->cancel_all();
}

std::size_t TaskGroup::size() const {
  return state_->children.size();
}

namespace {

// Waits until every child has ended or, when `grace` ran out first, logs
// the children still running and then cancels them (`cancel_late`) or
// leaves them running. Neither the caller's cancellation nor one that
// reached it earlier ends the wait. Returns how many were late.
net::awaitable<std::size_t> settle(std::shared_ptr<TaskGroup::State> st, std::chrono::milliseconds grace,
                                   bool cancel_late) {
  auto deadline = std::chrono::steady_clock::now() + grace;
  std::size_t late = 0;
  // An empty slot: the caller's cancellation does not reach the wait.
  auto uncancellable = net::bind_cancellation_slot(net::cancellation_slot(), net::as_tuple(net::use_awaitable));
  bool throws = co_await net::this_coro::throw_if_cancelled();
  co_await net::this_coro::throw_if_cancelled(false);
  while (!st->children.empty()) {
    if (!st->cancelling && std::chrono::steady_clock::now() >= deadline) {
      late = st->children.size();
      auto names = nlohmann::json::array();
      for (const auto& child : st->children) names.push_back(child.name);
      log::warn("task_group_unfinished",
                {{"group", st->name}, {"children", late}, {"tasks", std::move(names)}, {"cancelled", cancel_late}});
      if (!cancel_late) break;
      st->cancel_all();
    }
    st->idle.expires_at(st->cancelling ? net::steady_timer::time_point::max() : deadline);
    co_await st->idle.async_wait(uncancellable);
  }
  co_await net::this_coro::throw_if_cancelled(throws);
  co_return late;
}

}  // namespace

net::awaitable<std::size_t> TaskGroup::join(std::chrono::milliseconds grace) {
  co_return co_await settle(state_, grace, true);
}

net::awaitable<std::size_t> TaskGroup::wait(std::chrono::milliseconds grace) {
  co_return co_await settle(state_, grace, false);
}

net::awaitable<void> TaskGroup::join_at_shutdown(std::chrono::milliseconds grace) {
  co_await net::this_coro::throw_if_cancelled(false);
  net::steady_timer until_shutdown(state_->executor, net::steady_timer::time_point::max());
  co_await until_shutdown.async_wait(net::as_tuple(net::use_awaitable));
  co_await join(grace);
}

}  // namespace kiebot
