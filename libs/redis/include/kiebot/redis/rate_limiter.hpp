// A rate limiter shared by every replica through Redis: token buckets for
// Telegram's limits (about 30 messages a second overall, one a second per
// private chat with short bursts, 20 a minute per group).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "kiebot/runtime/net.hpp"

namespace kiebot::redis {
class Client;
}

namespace kiebot {

struct RateLimit {
  double per_second = 1;
  double burst = 1;
};

struct RateLimits {
  RateLimit global{30, 30};
  RateLimit private_chat{1.0 / 1.1, 3};  // a margin under Telegram's one a second
  RateLimit group_chat{20.0 / 60.0, 20};
};

// TELEGRAM_GLOBAL_RATE (messages a second) and TELEGRAM_CHAT_INTERVAL_MS as
// limits: a little slower than Telegram's one a second per chat, so that
// network jitter between this decision and Telegram's own count never tips it over.
RateLimits telegram_rate_limits(std::int64_t global_per_second, std::int64_t chat_interval_ms);

// The limiter's key prefix for a bot: Telegram's limits hold per bot, and
// the bot id is the token's part before ':'.
std::string telegram_limits_prefix(const std::string& bot_token);

class RateLimiter {
 public:
  // Keys: <prefix>:global and <prefix>:chat:<id>, one hash slot ({prefix}).
  RateLimiter(redis::Client& redis, std::string prefix, RateLimits limits = {});

  // Waits until a message to `chat_id` may be sent under both the global and
  // the chat's bucket, and takes a token from each. False when that would
  // take longer than `max_wait` (nothing is taken). When Redis cannot be
  // asked, it lets the message go: Telegram's own 429s are still honoured.
  net::awaitable<bool> acquire(std::int64_t chat_id, std::chrono::milliseconds max_wait);

 private:
  redis::Client& redis_;
  std::string prefix_;
  RateLimits limits_;
};

}  // namespace kiebot
