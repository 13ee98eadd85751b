// Process lifecycle: SIGTERM/SIGINT -> total cancellation -> bounded drain -> exit.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "kiebot/base/errors.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot {

// Thrown by a task when the process must exit with `code` and not be
// restarted into the same failure, e.g. 2 for a credential the upstream
// refused (as for a configuration error).
class ExitError : public std::runtime_error, public ClassifiedError {
 public:
  ExitError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  ErrorKind error_kind() const noexcept override { return ErrorKind::permanent; }
  int code() const { return code_; }

 private:
  int code_;
};

// Owns the service's long-running coroutines. On SIGTERM or SIGINT every task
// is cancelled (total cancellation) and gets `drain` to finish; run() then
// returns 0. A task that fails while the service is not stopping stops the
// others and makes run() return 1 (or an ExitError's code), so the orchestrator restarts the process.
class Lifecycle {
 public:
  Lifecycle(net::io_context& io, std::chrono::milliseconds drain);
  ~Lifecycle();
  Lifecycle(const Lifecycle&) = delete;
  Lifecycle& operator=(const Lifecycle&) = delete;

  void spawn(std::string name, net::awaitable<void> task);
  // Runs the io_context until every task ended or the drain time ran out.
  int run();
  // Starts the same shutdown a signal starts.
  void stop();
  bool stopping() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace kiebot
