// The one consume loop for every consumer-group member (as userver's
// ConsumerScope): poll a batch, hand each message to a handler (one key at a
// time, in order; keys in parallel), commit per partition up to the first
// unfinished offset, pause the partitions while too much is unfinished, and
// forget revoked partitions. See docs/common.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kiebot/kafka/kafka.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::kafka {

// Which consumed offsets are finished, and so how far each partition may be
// committed: up to, not including, its lowest unfinished offset (or past
// the last consumed one when all are finished). Pure: no I/O.
class OffsetTracker {
 public:
  using Offsets = std::vector<std::pair<TopicPartition, std::int64_t>>;

  struct Ticket {
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::uint64_t generation = 0;  // of the partition's assignment when consumed
  };

  Ticket consumed(const Message& message);
  void finish(const Ticket& ticket);
  // The partition is gone (revoked): nothing of it is committed any more,
  // and tickets given out before are ignored, even if it comes back.
  void revoke(const TopicPartition& partition);
  // Per partition, the next offset to commit, where it moved past the last
  // committed() one.
  Offsets committable() const;
  void committed(const Offsets& offsets);
  std::size_t unfinished() const;

 private:
  struct Partition {
    std::uint64_t generation = 0;
    std::set<std::int64_t> unfinished;
    std::int64_t next = -1;  // one past the highest offset consumed
    std::int64_t committed = -1;
  };
  std::map<std::pair<std::string, std::int32_t>, Partition> partitions_;
  std::uint64_t generations_ = 0;
};

struct ConsumeOptions {
  std::string name = "consumer";             // for logs
  std::size_t max_batch = 100;               // messages per poll
  std::chrono::milliseconds poll_wait{200};  // a poll's longest wait when nothing arrives
  std::size_t max_concurrency = 1;           // messages (of different keys) handled at the same time
  std::size_t max_buffered = 1'000;          // consumed and unfinished: polling stops at this many
  // A buffer that stays full this long pauses the partitions, so that
  // polling (which librdkafka needs within max.poll.interval.ms) goes on.
  std::chrono::milliseconds pause_after{1'000};
  // One key's messages waiting behind the one being handled; beyond, a
  // message goes to `overflow` instead.
  std::size_t max_waiting_per_key = std::numeric_limits<std::size_t>::max();
  std::chrono::milliseconds commit_interval{200};  // commits at most this often, and once at the end
  std::chrono::milliseconds held_wait{50};         // while full or paused, how often to look again
  std::chrono::milliseconds drain{5'000};          // at the end, for the messages being handled
};

struct ConsumeHandlers {
  // Required. Handles one message: true when it is finished (its offset may
  // be committed), false when it was cancelled and must be handled again by
  // the partition's next owner. An exception ends consume() with it, after
  // the other messages being handled were drained; what did not finish is
  // redelivered after a restart.
  std::function<net::awaitable<bool>(Message)> handle;
  // Each message as it arrives, before it waits for its turn.
  std::function<void(const Message&)> arrived;
  // A message past max_waiting_per_key: finished without being handled.
  std::function<void(const Message&)> overflow;
  // Backpressure from outside: while it says true, the partitions are paused.
  std::function<net::awaitable<bool>()> hold;
  // The messages being handled, and those consumed and unfinished, when either changes.
  std::function<void(std::size_t handling, std::size_t buffered)> load;
};

// Consumes until cancelled; then stops polling, drops the messages still
// waiting, gives those being handled `drain` to finish (then cancels them),
// commits what finished and returns. Revoked partitions: their waiting
// messages are dropped, and nothing of theirs is committed afterwards. The
// consumer is left open (close() it to leave the group).
net::awaitable<void> consume(Consumer& consumer, ConsumeOptions options, ConsumeHandlers handlers);

}  // namespace kiebot::kafka
