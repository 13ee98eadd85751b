// Consumes tg.updates (group ingress-dialog) and runs the dialog: a chat's
// updates one at a time and in order, chats in parallel up to a bound;
// duplicates dropped by update id; an offset committed only once every
// update before it in its partition was handled (kafka::consume keeps the
// order and the offsets; this adds the dialog's retries, buttons and limits).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include <nlohmann/json_fwd.hpp>

#include "kiebot/kafka/consume.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/runtime/net.hpp"
#include "kiebot/runtime/task_group.hpp"

namespace kiebot::dialog {

class Dialog;
class Store;

struct DispatcherOptions {
  std::size_t max_chats = 256;               // chats handled at the same time
  std::size_t max_buffered = 5'000;          // consumed and not yet handled: polling pauses above
  std::size_t max_waiting_per_chat = 20;     // one chat's waiting updates; beyond, dropped (buttons still answered)
  std::chrono::seconds slow_down_every{60};  // at most one "slow down" reply per chat this often
  int attempts = 3;                          // tries per update before the apology (never for money, see money_update)
  std::chrono::milliseconds retry_delay{250};
  std::chrono::milliseconds money_retry_max{30'000};   // a money update's retries grow to this and go on
  std::chrono::milliseconds drain{8'000};              // at shutdown, for the updates being handled
  std::chrono::milliseconds callback_watchdog{1'500};  // Telegram's button spins until answered
  std::chrono::milliseconds commit_interval{200};
};

class Dispatcher {
 public:
  Dispatcher(net::any_io_executor executor, kafka::ConsumerOptions consumer, Dialog& dialog, Store& store,
             DispatcherOptions options = {});
  // Closes the consumer first: closing revokes the partitions, which the
  // consume loop hears of.
  ~Dispatcher();

  // Until cancelled; then finishes the updates being handled, commits and
  // leaves the group.
  net::awaitable<void> run();

 private:
  kafka::ConsumeOptions consume_options() const;
  // A button's id, for the watchdog (empty for other updates).
  static std::string callback_id(const kafka::Message& message);
  void arrived(const kafka::Message& message);
  // True when the update is done with (handled, a duplicate, unreadable or
  // skipped); false when it was cancelled and must be handled again.
  net::awaitable<bool> process(kafka::Message message);
  // How one try at an update ended.
  struct Try {
    enum class Result { handled, duplicate, failed, malformed };
    Result result = Result::failed;
    std::string error;                // what failed
    bool money_not_recorded = false;  // failed after money moved: must not be skipped
  };
  net::awaitable<Try> try_once(nlohmann::json update, std::int64_t update_id, int attempt);
  // Marks an update that no retry can fix as handled.
  net::awaitable<void> skip_malformed(std::int64_t update_id, std::string error);
  // Out of attempts: the user is told, and the update marked handled.
  net::awaitable<void> give_up(nlohmann::json update, std::int64_t update_id, std::string error);
  net::awaitable<void> watchdog();
  // Past max_waiting_per_chat: acknowledged and dropped; a button still answered.
  void drop(const kafka::Message& message);

  net::any_io_executor executor_;
  std::unique_ptr<kafka::Consumer> consumer_;
  Dialog& dialog_;
  Store& store_;
  DispatcherOptions options_;
  bool stopping_ = false;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> callbacks_;  // ids by answer deadline
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> warned_;        // chat -> last "slow down"
  TaskGroup tasks_;  // the watchdog and the slow-down replies; joined before run() returns
};

// An update whose effect on money already happened outside (Telegram took
// or returned the user's stars): it is retried until it is handled, never
// skipped.
bool money_update(const nlohmann::json& update);

}  // namespace kiebot::dialog
