// Consumes tg.updates (group ingress-dialog) and runs the dialog: a chat's
// updates one at a time and in order, chats in parallel up to a bound;
// duplicates dropped by update id; an offset committed only once every
// update before it in its partition was handled.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include <nlohmann/json_fwd.hpp>

#include "kiebot/common/kafka.hpp"
#include "kiebot/common/net.hpp"
#include "kiebot/common/task_group.hpp"

namespace kiebot::dialog {

class Dialog;
class Store;

struct DispatcherOptions {
  std::size_t max_chats = 256;       // chats handled at the same time
  std::size_t max_buffered = 5'000;  // consumed and not yet handled: polling pauses above
  std::size_t max_waiting_per_chat = 20;  // one chat's waiting updates; beyond, dropped (buttons still answered)
  std::chrono::seconds slow_down_every{60};  // at most one "slow down" reply per chat this often
  int attempts = 3;                  // tries per update before the apology (never for money, see money_update)
  std::chrono::milliseconds retry_delay{250};
  std::chrono::milliseconds money_retry_max{30'000};  // a money update's retries grow to this and go on
  std::chrono::milliseconds drain{8'000};             // at shutdown, for the updates being handled
  std::chrono::milliseconds callback_watchdog{1'500};  // Telegram's button spins until answered
  std::chrono::milliseconds commit_interval{200};
};

class Dispatcher {
 public:
  Dispatcher(net::any_io_executor executor, kafka::ConsumerOptions consumer, Dialog& dialog, Store& store,
             DispatcherOptions options = {});
  // Closes the consumer first: closing revokes the partitions, which calls
  // back into this object's maps.
  ~Dispatcher();

  // Until cancelled; then finishes the updates being handled, commits and
  // leaves the group.
  net::awaitable<void> run();

 private:
  struct Chat {
    std::deque<kafka::Message> queue;
    bool running = false;
  };
  struct Partition {
    std::set<std::int64_t> pending;  // offsets consumed and not handled
    std::int64_t next = -1;          // one past the highest offset consumed
    std::int64_t committed = -1;
  };

  void enqueue(kafka::Message message);
  void start_ready();
  net::awaitable<void> drain_chat(std::string chat);
  // True when the update is done with (handled, a duplicate, unreadable or
  // skipped); false when it was cancelled and must be handled again.
  net::awaitable<bool> process(kafka::Message message);
  net::awaitable<void> watchdog();
  net::awaitable<void> commit();
  void revoked(const std::vector<kafka::TopicPartition>& partitions);
  void done(const kafka::Message& message);
  // Past max_waiting_per_chat: acknowledged and dropped; a button still answered.
  void drop(const kafka::Message& message, bool callback);

  net::any_io_executor executor_;
  std::unique_ptr<kafka::Consumer> consumer_;
  Dialog& dialog_;
  Store& store_;
  DispatcherOptions options_;
  std::unordered_map<std::string, Chat> chats_;
  std::deque<std::string> ready_;  // chats with updates, waiting for a slot
  std::size_t running_ = 0;
  std::size_t buffered_ = 0;
  bool stopping_ = false;
  std::map<std::pair<std::string, std::int32_t>, Partition> partitions_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> callbacks_;  // ids by answer deadline
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> warned_;  // chat -> last "slow down"
  TaskGroup tasks_;  // the chats being drained and the watchdog; joined before run() returns
};

// An update whose effect on money already happened outside (Telegram took
// or returned the user's stars): it is retried until it is handled, never
// skipped.
bool money_update(const nlohmann::json& update);

}  // namespace kiebot::dialog
