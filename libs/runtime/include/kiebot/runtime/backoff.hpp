// Exponential backoff with full jitter, and a sleep that reports cancellation.
#pragma once

#include <chrono>
#include <cstdint>

#include "kiebot/runtime/net.hpp"

namespace kiebot {

// The delay before retry number `attempt` (0-based): a ceiling growing from
// `min` doubling up to `max`, the delay drawn from [ceiling/2, ceiling]. For
// retries whose count is kept elsewhere (e.g. in Redis, across replicas).
std::chrono::milliseconds backoff_delay(std::chrono::milliseconds min, std::chrono::milliseconds max, int attempt);

// Delays grow from `min` doubling up to `max`; each one is drawn uniformly
// from [ceiling/2, ceiling] so that replicas retrying together spread out.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max);
  std::chrono::milliseconds next();
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  int attempt_ = 0;
};

// Sleeps for `duration`; false when cancelled first. Never throws for
// cancellation, so callers decide what a cancelled wait means.
net::awaitable<bool> sleep_for(std::chrono::milliseconds duration);

}  // namespace kiebot
