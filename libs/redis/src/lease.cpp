// Redis lease with fencing epochs (see lease.hpp).
#include "kiebot/redis/lease.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <random>

#include "kiebot/base/log.hpp"
#include "kiebot/base/metrics.hpp"
#include "kiebot/redis/redis.hpp"

namespace kiebot {

namespace {

using Clock = std::chrono::steady_clock;
using namespace boost::asio::experimental::awaitable_operators;

// KEYS: lease, epoch. ARGV: owner, ttl_ms. Returns the new epoch or nil.
const redis::Script& acquire_script() {
  static const redis::Script s(R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '#' .. epoch, 'PX', ARGV[2])
return epoch
)lua");
  return s;
}

// KEYS: lease. ARGV: token, ttl_ms. 1 when still ours and extended.
const redis::Script& renew_script() {
  static const redis::Script s(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
)lua");
  return s;
}

// KEYS: lease. ARGV: token. 1 when it was ours and is gone.
const redis::Script& release_script() {
  static const redis::Script s(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua");
  return s;
}

net::awaitable<void> sleep_until(Clock::time_point at) {
  auto executor = co_await net::this_coro::executor;
  net::steady_timer t(executor, at);
  co_await t.async_wait(net::use_awaitable);
}

bool is_cancellation(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& error) {
    return error.code() == net::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

}  // namespace

Lease::Lease(redis::Client& redis, LeaseOptions options)
    : redis_(redis),
      options_(std::move(options)),
      key_("{lease:" + options_.name + "}"),
      epoch_key_("{lease:" + options_.name + "}:epoch") {
  if (options_.safety >= options_.ttl) options_.safety = options_.ttl / 5;
}

net::awaitable<std::int64_t> Lease::try_acquire() {
  std::vector<std::string> keys{key_, epoch_key_};
  std::vector<std::string> args{options_.owner, std::to_string(options_.ttl.count())};
  auto reply = co_await redis_.eval(acquire_script(), std::move(keys), std::move(args));
  co_return reply.type == redis::Reply::Type::integer ? reply.integer : 0;
}

net::awaitable<void> Lease::keep_renewing(std::string token, Clock::time_point acquired_at) {
  // The TTL counts from when the acquiring command was sent, at the latest.
  auto last_renewed = acquired_at;
  const auto give_up_after = options_.ttl - options_.safety;
  bool failing = false;
  while (true) {
    // Renew every ttl/3, retry a failed renewal every ttl/10, and never
    // sleep past the moment this holder must have stopped.
    auto deadline = last_renewed + give_up_after;
    auto next = Clock::now() + (failing ? options_.ttl / 10 : options_.ttl / 3);
    co_await sleep_until(std::min(next, deadline));
    auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) break;
    try {
      auto started = Clock::now();
      auto timeout =
          std::max(std::chrono::duration_cast<std::chrono::milliseconds>(left), std::chrono::milliseconds(1));
      std::vector<std::string> command{
          "EVALSHA", renew_script().sha1(), "1", key_, token, std::to_string(options_.ttl.count())};
      auto reply = co_await redis_.exec(std::move(command), timeout);
      if (reply.is_error() && reply.str.starts_with("NOSCRIPT")) {
        std::vector<std::string> keys{key_};
        std::vector<std::string> args{token, std::to_string(options_.ttl.count())};
        reply = co_await redis_.eval(renew_script(), std::move(keys), std::move(args));
      }
      if (reply.type == redis::Reply::Type::integer && reply.integer == 1) {
        last_renewed = started;
        valid_until_ = last_renewed + give_up_after;
        failing = false;
        continue;
      }
      valid_until_ = {};
      log::error("lease_lost", {{"lease", options_.name}, {"epoch", epoch_}});
      co_return;
    } catch (const redis::Error& e) {
      failing = true;
      log::warn("lease_renew_failed", {{"lease", options_.name}, {"error", e.what()}});
    }
  }
  log::error("lease_expiring", {{"lease", options_.name},
                                {"epoch", epoch_},
                                {"message", "could not renew in time: stopping before the TTL runs out"}});
}

net::awaitable<void> Lease::release(std::string token) {
  try {
    std::vector<std::string> keys{key_};
    std::vector<std::string> args{token};
    co_await redis_.eval(release_script(), std::move(keys), std::move(args));
    log::info("lease_released", {{"lease", options_.name}, {"epoch", epoch_}});
  } catch (const redis::Error& e) {
    log::warn("lease_release_failed", {{"lease", options_.name}, {"error", e.what()}});
  }
}

net::awaitable<void> Lease::run_work(const Work* work, std::int64_t epoch, std::exception_ptr* failure) {
  try {
    co_await (*work)(epoch);
  } catch (...) {
    *failure = std::current_exception();
  }
}

net::awaitable<void> Lease::run(Work work) {
  auto& reg = metrics::registry();
  metrics::Labels labels{{"lease", options_.name}};
  auto& held_gauge = reg.gauge("lease_held", "1 while this replica holds the lease", labels);
  auto& epoch_gauge = reg.gauge("lease_epoch", "Fencing epoch of the last acquisition", labels);
  auto& acquisitions = reg.counter("lease_acquisitions_total", "Times this replica acquired the lease", labels);
  std::mt19937_64 rng{std::random_device{}()};
  // Standbys retry every ttl/10, but at least every 250 ms, plus as much
  // jitter: a released lease (a deploy) is taken over within half a second
  // even with a long TTL, for two cheap Redis calls a second per standby.
  const auto retry = std::min(options_.ttl / 10, std::chrono::milliseconds(250));
  std::uniform_int_distribution<long> jitter(0, std::max<long>(1, retry.count()));
  while (true) {
    std::int64_t epoch = 0;
    auto asked_at = Clock::now();
    try {
      epoch = co_await try_acquire();
    } catch (const redis::Error& e) {
      log::warn("lease_acquire_failed", {{"lease", options_.name}, {"error", e.what()}});
    }
    if (epoch == 0) {
      co_await sleep_until(Clock::now() + retry + std::chrono::milliseconds(jitter(rng)));
      continue;
    }
    auto token = options_.owner + "#" + std::to_string(epoch);
    held_ = true;
    epoch_ = epoch;
    valid_until_ = asked_at + options_.ttl - options_.safety;
    held_gauge.set(1);
    epoch_gauge.set(static_cast<double>(epoch));
    acquisitions.inc();
    log::info("lease_acquired", {{"lease", options_.name}, {"epoch", epoch}, {"owner", options_.owner}});
    // Whichever ends first cancels the other: losing the lease stops the
    // work; the work ending (cancelled by shutdown, or failed) stops the
    // renewals. `||` waits for the first *successful* branch, so the work
    // is wrapped to never throw: a failed work would otherwise leave the
    // lease renewed forever by a replica that does nothing.
    std::exception_ptr failure;
    try {
      co_await (run_work(&work, epoch, &failure) || keep_renewing(token, asked_at));
    } catch (const boost::system::system_error&) {
      // Both branches cancelled: shutdown, handled below.
    }
    if (failure && is_cancellation(failure)) failure = nullptr;  // the lease was lost, or shutdown
    held_ = false;
    held_gauge.set(0);
    auto state = co_await net::this_coro::cancellation_state;
    bool cancelled = state.cancelled() != net::cancellation_type::none;
    co_await net::this_coro::reset_cancellation_state();
    co_await release(token);
    if (cancelled) co_return;
    if (failure) std::rethrow_exception(failure);
  }
}

}  // namespace kiebot
