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

#include "kiebot/common/net.hpp"

namespace kiebot::redis {
class Client;
}

namespace kiebot::dialog {

struct MoneyOp {
  std::string key;          // the idempotency key at accounts, and the op's id here
  std::string kind;         // credit, debit, referral (ref: the referrer's id) or submission (a generation to hold and publish)
  std::int64_t user_id = 0;
  std::int64_t amount = 0;  // kopecks, positive (0 for a referral)
  std::string reason;       // stars, admin_grant, stars_refund, admin_debit
  std::string ref;
  std::int64_t admin_id = 0;     // admin_grant and admin_debit: who
  std::int64_t notify_chat = 0;  // who hears of the outcome (0: nobody)
  std::string lang = "ru";
  std::string name;              // referral: the referee's first name, for the referrer's news
  std::string payload;           // submission: {"model","values","reply_to","message_id"} as JSON
  int attempts = 0;
  std::int64_t created_ms = 0;

  std::string to_json() const;
  // Nothing when `text` is not a well-formed op (it was written by us, so
  // that is logged as a bug by the caller).
  static std::optional<MoneyOp> from_json(std::string_view text);
};

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
