// The shared budget of new KIE tasks (see kie_budget.hpp).
#include "kie_budget.hpp"

#include "kiebot/base/clock.hpp"
#include "kiebot/base/errors.hpp"
#include "kiebot/redis/redis.hpp"

#include <nlohmann/json.hpp>

namespace kiebot::generator {

namespace {

// KEYS: the window. ARGV: now_ms, window_ms, limit, member.
// 0 when a slot was taken, else the milliseconds until the oldest frees.
const redis::Script& take_script() {
  static const redis::Script s(R"lua(
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
)lua");
  return s;
}

}  // namespace

const char* KieBudget::key() {
  return "{gen}:kie-budget";
}

KieBudget::KieBudget(redis::Client& redis, KieBudgetLimits limits) : redis_(redis), limits_(limits) {}

net::awaitable<std::chrono::milliseconds> KieBudget::take(std::string job_id) {
  auto now = unix_ms();
  std::vector<std::string> keys{key()};
  std::vector<std::string> args{std::to_string(now), std::to_string(limits_.window.count()),
                                std::to_string(limits_.tasks), job_id + "@" + std::to_string(now)};
  try {
    auto reply = co_await redis_.eval(take_script(), std::move(keys), std::move(args));
    if (reply.type == redis::Reply::Type::integer) co_return std::chrono::milliseconds(reply.integer);
  } catch (const redis::Error&) {
    report_error("kie_budget_unavailable", std::current_exception(), {{"job_id", job_id}});
  }
  co_return std::chrono::milliseconds(0);
}

}  // namespace kiebot::generator
