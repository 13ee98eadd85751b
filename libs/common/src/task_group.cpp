// TaskGroup (see task_group.hpp).
#include "kiebot/common/task_group.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <list>

#include "kiebot/common/errors.hpp"
#include "kiebot/common/log.hpp"

namespace kiebot {

namespace {

constexpr auto kCancelAll = net::cancellation_type::terminal | net::cancellation_type::partial |
                            net::cancellation_type::total;

}  // namespace

struct TaskGroup::State {
  State(net::any_io_executor ex, std::string n) : executor(ex), name(std::move(n)), idle(ex) {}

  struct Child {
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
  auto& st = *state_;
  auto it = st.children.emplace(st.children.end());
  std::weak_ptr<State> weak = state_;
  net::co_spawn(st.executor, std::move(task),
                net::bind_cancellation_slot(it->cancel.slot(), [weak, it](std::exception_ptr e) {
                  auto st = weak.lock();
                  if (e) report_error("task_failed", e, {{"group", st ? st->name : ""}});
                  if (!st) return;
                  st->children.erase(it);
                  if (st->children.empty()) st->idle.cancel();
                }));
  if (st.cancelling) it->cancel.emit(kCancelAll);
}

void TaskGroup::cancel() { state_->cancel_all(); }

std::size_t TaskGroup::size() const { return state_->children.size(); }

net::awaitable<void> TaskGroup::join(std::chrono::milliseconds grace) {
  auto st = state_;
  auto deadline = std::chrono::steady_clock::now() + grace;
  // An empty slot: the caller's cancellation does not end the wait.
  auto uncancellable = net::bind_cancellation_slot(net::cancellation_slot(), net::as_tuple(net::use_awaitable));
  while (!st->children.empty()) {
    if (!st->cancelling && std::chrono::steady_clock::now() >= deadline) {
      log::info("task_group_cancelling", {{"group", st->name}, {"children", st->children.size()}});
      st->cancel_all();
    }
    st->idle.expires_at(st->cancelling ? net::steady_timer::time_point::max() : deadline);
    co_await st->idle.async_wait(uncancellable);
  }
}

}  // namespace kiebot
