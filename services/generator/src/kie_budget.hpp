// KIE's limit on new tasks (about 20 per 10 seconds per account; beyond it
// KIE answers 429 and queues nothing), shared by every generator replica and
// every API family through Redis: a sliding window of the last tasks'
// times in one sorted set ({gen}:kie-budget). A replica takes a slot before
// createTask or Suno's generate; without one the job waits, due again when
// the oldest slot frees, instead of every replica retrying its own 429s.
#pragma once

#include <chrono>
#include <string>

#include "kiebot/runtime/net.hpp"

namespace kiebot::redis {
class Client;
}

namespace kiebot::generator {

struct KieBudgetLimits {
  int tasks = 20;                                      // KIE_RATE_LIMIT
  std::chrono::milliseconds window{10'500};            // KIE_RATE_WINDOW_MS (KIE's 10 s and a margin)
};

class KieBudget {
 public:
  KieBudget(redis::Client& redis, KieBudgetLimits limits);

  // Zero when a new task may be created now (its slot is taken), else how
  // long until a slot frees. When Redis cannot be asked the task goes ahead:
  // KIE's own 429 is still handled.
  net::awaitable<std::chrono::milliseconds> take(std::string job_id);

  static const char* key();

 private:
  redis::Client& redis_;
  KieBudgetLimits limits_;
};

}  // namespace kiebot::generator
