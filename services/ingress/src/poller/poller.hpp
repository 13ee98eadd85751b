// The lease holder's getUpdates loop: poll, publish every update to Kafka,
// store the offset under the lease's epoch, then confirm by polling again.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kiebot/runtime/net.hpp"
#include "offset_store.hpp"
#include "update_scan.hpp"

namespace kiebot {
class Lease;
namespace kafka {
class Producer;
}
}  // namespace kiebot

namespace kiebot::ingress {

struct Answer;
class BotApi;

// The update types the bot handles; everything else Telegram keeps to itself.
const std::vector<std::string>& allowed_updates();

struct PollerOptions {
  std::string owner;  // INSTANCE_ID, stored with the offset
  std::string topic = "tg.updates";
  std::chrono::seconds long_poll{25};
  bool delete_webhook = false;  // TELEGRAM_DELETE_WEBHOOK: delete a webhook that blocks getUpdates
  std::chrono::milliseconds backoff_min{500};
  std::chrono::milliseconds backoff_max{30'000};
};

class Poller {
 public:
  // `stopping` says whether the process is shutting down: a batch that
  // Kafka cannot take is then left unconfirmed for the next holder instead
  // of being retried.
  Poller(BotApi& api, kafka::Producer& producer, Lease& lease, OffsetStore& offsets, PollerOptions options,
         std::function<bool()> stopping);

  // The lease's work for one holding with `epoch`. Returns when fenced;
  // ends by cancellation when the lease is lost or the process stops.
  // Throws ExitError when Telegram refuses the token.
  net::awaitable<void> run(std::int64_t epoch);

 private:
  struct Batch {
    std::shared_ptr<const std::string> body;  // the updates' JSON points into it
    std::vector<RawUpdate> updates;           // to publish
    std::vector<std::int64_t> ids;            // every update_id of the answer
    std::int64_t confirm = 0;                 // highest id + 1
    bool restarted = false;
    std::int64_t received_at_ms = 0;
    std::chrono::steady_clock::time_point received_at;
  };
  // What one getUpdates returned, when it had updates.
  struct Received {
    std::shared_ptr<const std::string> body;  // the updates' JSON points into it
    std::vector<RawUpdate> updates;
    std::chrono::steady_clock::time_point at;
  };
  net::awaitable<StoredOffset> read_offset();
  // One getUpdates call, with `confirm` as its offset when it is not 0.
  net::awaitable<Answer> get_updates(std::int64_t confirm);
  // Reports a 409 Conflict and deletes the webhook that caused it when
  // allowed to; true when it was deleted, so polling may go on at once.
  net::awaitable<bool> resolve_conflict(std::string description);
  // Publishes what is new among the received updates and stores its
  // offset; the offset to confirm next, or nothing when this holder must
  // stop.
  net::awaitable<std::optional<std::int64_t>> take(std::int64_t epoch, Received received);
  // deliver() in a group of its own, which the poller's cancellation does
  // not reach; rethrows what it threw.
  net::awaitable<bool> deliver_shielded(std::int64_t epoch, Batch batch);
  // Publishes the batch and stores its offset; false when this holder must
  // stop (fenced, or stopping with Kafka unavailable). Runs shielded from
  // cancellation so that a batch is finished once started.
  net::awaitable<bool> deliver(std::int64_t epoch, Batch batch);
  struct Delivery {
    bool go_on = false;
    std::exception_ptr failure;
  };
  // deliver() as a TaskGroup child: its outcome, or what it threw, into `out`.
  net::awaitable<void> deliver_into(std::int64_t epoch, Batch batch, Delivery* out);
  net::awaitable<bool> publish(std::int64_t epoch, const Batch& batch);
  net::awaitable<bool> store_offset(std::int64_t epoch, const Batch& batch);
  bool fenced(std::int64_t epoch, const char* step) const;

  BotApi& api_;
  kafka::Producer& producer_;
  Lease& lease_;
  OffsetStore& offsets_;
  StoredOffset last_;  // what this holder knows was stored last
  PollerOptions options_;
  std::function<bool()> stopping_;
};

}  // namespace kiebot::ingress
