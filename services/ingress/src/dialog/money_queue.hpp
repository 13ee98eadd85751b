// Money operations the dialog decided but accounts has not confirmed yet
// (a Stars payment while accounts is down, a refund, an admin grant, a
// confirmed generation's hold), kept
// durably in Redis and retried with capped exponential backoff by every
// ingress replica until accounts answers. Each carries its idempotency key,
// so a retry after an unknown outcome changes money once.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kiebot/runtime/net.hpp"
#include "machine/money_op.hpp"

namespace kiebot::redis {
class Client;
}

namespace kiebot::dialog {

struct MoneyQueueStats {
  std::int64_t pending = 0;
  std::int64_t oldest_ms = 0;  // created_ms of the oldest pending op, 0 when none
};

class MoneyQueue {
 public:
  explicit MoneyQueue(redis::Client& redis, std::string prefix = "{money}");

  // Records `op` (once per key) due at `due_ms`. Throws redis::Error.
  net::awaitable<void> add(MoneyOp op, std::int64_t due_ms);
  // Ops due by `now_ms`, each claimed for `claim` so that one replica runs it.
  net::awaitable<std::vector<MoneyOp>> claim_due(std::int64_t now_ms, std::size_t max, std::chrono::milliseconds claim);
  // Accounts answered: the op leaves the queue.
  net::awaitable<void> done(std::string key);
  // Accounts did not answer: the op comes back at `due_ms` with one more attempt counted.
  net::awaitable<void> retry(MoneyOp op, std::int64_t due_ms);
  // Accounts refused it for good (a 4xx): kept under `refused` for a person.
  net::awaitable<void> refuse(MoneyOp op, std::string answer);
  net::awaitable<MoneyQueueStats> stats();

 private:
  redis::Client& redis_;
  std::string ops_, due_, since_, refused_;
};

}  // namespace kiebot::dialog
