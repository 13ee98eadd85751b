// The Telegram offset in Redis, written only by the current lease holder.
#pragma once

#include <cstdint>
#include <string>

#include "kiebot/common/net.hpp"

namespace kiebot::redis {
class Client;
}

namespace kiebot::ingress {

struct StoredOffset {
  std::int64_t offset = 0;  // the next update_id to ask for; 0: none stored
  std::int64_t epoch = 0;   // the lease epoch that stored it
  std::string owner;        // the replica that stored it
};

class OffsetStore {
 public:
  enum class Result { stored, stale_epoch, offset_behind };

  // key: a hash; epoch_key: the lease's epoch counter (same hash slot).
  OffsetStore(redis::Client& redis, std::string key, std::string epoch_key);

  net::awaitable<StoredOffset> read();
  // Stores `offset` unless the lease's epoch is no longer `epoch` (a newer
  // holder exists) or a larger offset is already stored. Throws
  // redis::Error when Redis cannot answer.
  net::awaitable<Result> store(std::int64_t epoch, std::int64_t offset, std::string owner);

  const std::string& key() const { return key_; }

 private:
  redis::Client& redis_;
  std::string key_;
  std::string epoch_key_;
};

}  // namespace kiebot::ingress
