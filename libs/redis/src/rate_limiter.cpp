// Redis token buckets shared by all replicas (see rate_limiter.hpp).
#include "kiebot/redis/rate_limiter.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "kiebot/base/log.hpp"
#include "kiebot/redis/redis.hpp"
#include "kiebot/runtime/backoff.hpp"

namespace kiebot {

namespace {

// KEYS: global bucket, chat bucket. ARGV: global rate/s, global burst,
// chat rate/s, chat burst. Takes a token from both and returns 0, or takes
// nothing and returns the milliseconds until both have one. Time comes
// from Redis, so replicas with skewed clocks share one view.
const redis::Script& take_script() {
  static const redis::Script s(R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function level(key, rate, burst)
  local state = redis.call('HMGET', key, 'tokens', 'ms')
  local tokens = tonumber(state[1]) or burst
  local ms = tonumber(state[2]) or now
  return math.min(burst, tokens + (now - ms) * rate / 1000)
end
local g_rate, g_burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local c_rate, c_burst = tonumber(ARGV[3]), tonumber(ARGV[4])
local g = level(KEYS[1], g_rate, g_burst)
local c = level(KEYS[2], c_rate, c_burst)
if g >= 1 and c >= 1 then
  redis.call('HSET', KEYS[1], 'tokens', g - 1, 'ms', now)
  redis.call('HSET', KEYS[2], 'tokens', c - 1, 'ms', now)
  redis.call('PEXPIRE', KEYS[1], 60000)
  redis.call('PEXPIRE', KEYS[2], math.ceil(c_burst / c_rate * 1000) + 1000)
  return 0
end
local wait = 0
if g < 1 then wait = math.max(wait, math.ceil((1 - g) * 1000 / g_rate)) end
if c < 1 then wait = math.max(wait, math.ceil((1 - c) * 1000 / c_rate)) end
return wait
)lua");
  return s;
}

std::string number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", value);
  return buf;
}

}  // namespace

RateLimiter::RateLimiter(redis::Client& redis, std::string prefix, RateLimits limits)
    : redis_(redis), prefix_("{" + prefix + "}"), limits_(limits) {}

net::awaitable<bool> RateLimiter::acquire(std::int64_t chat_id, std::chrono::milliseconds max_wait) {
  const auto& chat = chat_id < 0 ? limits_.group_chat : limits_.private_chat;
  auto give_up = std::chrono::steady_clock::now() + max_wait;
  while (true) {
    std::int64_t wait_ms = 0;
    bool asked = false;
    try {
      std::vector<std::string> keys{prefix_ + ":global", prefix_ + ":chat:" + std::to_string(chat_id)};
      std::vector<std::string> args{number(limits_.global.per_second), number(limits_.global.burst),
                                    number(chat.per_second), number(chat.burst)};
      auto reply = co_await redis_.eval(take_script(), std::move(keys), std::move(args));
      if (reply.type == redis::Reply::Type::integer) {
        wait_ms = reply.integer;
        asked = true;
      }
    } catch (const redis::Error& e) {
      log::warn("rate_limiter_unavailable", {{"error", e.what()}});
    }
    if (!asked || wait_ms == 0) co_return true;
    auto wait = std::chrono::milliseconds(wait_ms);
    if (std::chrono::steady_clock::now() + wait > give_up) co_return false;
    if (!co_await sleep_for(wait)) co_return false;
  }
}

RateLimits telegram_rate_limits(std::int64_t global_per_second, std::int64_t chat_interval_ms) {
  RateLimits limits;
  limits.global = {static_cast<double>(global_per_second), static_cast<double>(global_per_second)};
  limits.private_chat = {1'000.0 / static_cast<double>(chat_interval_ms), 3};
  return limits;
}

std::string telegram_limits_prefix(const std::string& bot_token) {
  return "tg-limits:" + bot_token.substr(0, bot_token.find(':'));
}

}  // namespace kiebot
