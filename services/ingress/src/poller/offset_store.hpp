// The Telegram offset in Redis, written only by the current lease holder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kiebot/runtime/net.hpp"
#include "update_scan.hpp"

namespace kiebot::redis {
class Client;
}

namespace kiebot::ingress {

struct StoredOffset {
  std::int64_t offset = 0;  // the next update_id to ask for; 0: none stored
  std::int64_t epoch = 0;   // the lease epoch that stored it
  std::string owner;        // the replica that stored it
  // The update ids of the batch that stored it: all in Kafka, but perhaps
  // not yet confirmed to Telegram when the holder that stored them died.
  std::vector<std::int64_t> batch;
};

// What to do with the updates one getUpdates returned, given what was
// stored last. Pure, for unit tests.
struct BatchPlan {
  std::vector<RawUpdate> publish;  // all but those of the stored batch
  std::int64_t skipped = 0;        // already in Kafka (the stored batch)
  std::int64_t confirm = 0;        // highest id + 1: the next getUpdates offset
  // Ids below the stored offset that are not the stored batch: Telegram
  // restarted its numbering ("if there are no new updates for at least a
  // week, the identifier of the next update will be chosen randomly").
  bool restarted = false;
};
BatchPlan plan_batch(const std::vector<RawUpdate>& updates, const StoredOffset& last);

class OffsetStore {
 public:
  enum class Result { stored, stale_epoch, offset_behind };

  // key: a hash; epoch_key: the lease's epoch counter (same hash slot).
  OffsetStore(redis::Client& redis, std::string key, std::string epoch_key);

  net::awaitable<StoredOffset> read();
  // Stores `offset` and the batch's ids unless the lease's epoch is no
  // longer `epoch` (a newer holder exists) or a larger offset is already
  // stored (allowed only when `restarted`). Throws redis::Error when Redis
  // cannot answer.
  net::awaitable<Result> store(std::int64_t epoch, std::int64_t offset, std::vector<std::int64_t> batch,
                               std::string owner, bool restarted);

  const std::string& key() const { return key_; }

 private:
  redis::Client& redis_;
  std::string key_;
  std::string epoch_key_;
};

}  // namespace kiebot::ingress
