// SIGTERM handling with total cancellation and a bounded drain.
#include "kiebot/runtime/lifecycle.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <list>

#include "kiebot/base/errors.hpp"
#include "kiebot/base/log.hpp"

namespace kiebot {

// Every cancellation type at once: coroutines spawned with co_spawn pass only
// terminal cancellation by default, and each operation then applies the
// strongest type it supports.
constexpr auto kCancelAll =
    net::cancellation_type::terminal | net::cancellation_type::partial | net::cancellation_type::total;

struct Lifecycle::State {
  State(net::io_context& ctx, std::chrono::milliseconds d)
      : io(ctx), drain(d), signals(ctx, SIGTERM, SIGINT), drain_timer(ctx) {}

  struct Task {
    std::string name;
    net::cancellation_signal cancel;
  };

  net::io_context& io;
  std::chrono::milliseconds drain;
  net::signal_set signals;
  net::steady_timer drain_timer;
  std::list<Task> tasks;
  bool stopping = false;
  bool drained_in_time = true;
  int exit_code = 0;

  void begin_stop(const char* why) {
    if (stopping) return;
    stopping = true;
    log::info("stopping", {{"reason", why}, {"tasks", tasks.size()}, {"drain_ms", drain.count()}});
    signals.cancel();
    for (auto& task : tasks) task.cancel.emit(kCancelAll);
    if (tasks.empty()) return;
    drain_timer.expires_after(drain);
    drain_timer.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      drained_in_time = false;
      auto names = nlohmann::json::array();
      for (const auto& task : tasks) names.push_back(task.name);
      log::warn("drain_timeout", {{"unfinished_tasks", tasks.size()}, {"tasks", std::move(names)}});
      io.stop();
    });
  }

  void wait_for_signal() {
    signals.async_wait([this](boost::system::error_code ec, int signo) {
      if (ec) return;
      begin_stop(signo == SIGTERM ? "SIGTERM" : "SIGINT");
    });
  }
};

Lifecycle::Lifecycle(net::io_context& io, std::chrono::milliseconds drain)
    : state_(std::make_shared<State>(io, drain)) {
  // A peer that closed its socket must cost an EPIPE on that socket, not the
  // process (hiredis writes with write(2), which raises SIGPIPE).
  std::signal(SIGPIPE, SIG_IGN);
  state_->wait_for_signal();
}

Lifecycle::~Lifecycle() = default;

void Lifecycle::spawn(std::string name, net::awaitable<void> task) {
  auto& st = *state_;
  auto it = st.tasks.emplace(st.tasks.end());
  it->name = std::move(name);
  auto weak = std::weak_ptr<State>(state_);
  net::co_spawn(st.io, std::move(task),
                net::bind_cancellation_slot(it->cancel.slot(), [weak, it](std::exception_ptr e) {
                  auto st = weak.lock();
                  if (!st) return;
                  if (e) {
                    // A task ending with an error stops the service, whatever its kind.
                    nlohmann::json context = {{"task", it->name}};
                    int code = 1;
                    try {
                      std::rethrow_exception(e);
                    } catch (const ExitError& ex) {
                      code = ex.code();
                      context["exit_code"] = code;
                    } catch (...) {
                    }
                    // A cancellation nobody asked for (not stopping) stops it too.
                    if (report_error("task_failed", e, context) == ErrorKind::cancelled && !st->stopping) {
                      log::error("task_failed", {{"task", it->name}, {"error", "cancelled while running"}});
                    }
                    if (!st->stopping) st->exit_code = code;
                  }
                  st->tasks.erase(it);
                  if (!st->stopping && st->exit_code != 0) st->begin_stop("task failed");
                  // Clients (Redis, Kafka) keep watching their sockets; once
                  // every task ended there is nothing left to serve.
                  if (st->tasks.empty()) st->io.stop();
                }));
  if (st.stopping) it->cancel.emit(kCancelAll);
}

int Lifecycle::run() {
  state_->io.run();
  return state_->exit_code;
}

void Lifecycle::stop() {
  state_->begin_stop("requested");
}

bool Lifecycle::stopping() const {
  return state_->stopping;
}

}  // namespace kiebot
