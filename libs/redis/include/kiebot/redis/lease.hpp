// A Redis lease with a fencing epoch: at most one holder does the work.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>

#include "kiebot/runtime/net.hpp"

namespace kiebot::redis {
class Client;
}

namespace kiebot {

struct LeaseOptions {
  std::string name;   // keys: {lease:<name>} and {lease:<name>}:epoch (one cluster slot)
  std::string owner;  // this replica, e.g. INSTANCE_ID
  std::chrono::milliseconds ttl{10'000};
  // The holder gives up this long before its TTL could run out, so that it
  // has stopped before anyone else can acquire ("to avoid brain split").
  std::chrono::milliseconds safety{2'000};
};

// Acquire: SET NX PX ttl and INCR epoch in one script; renew every ttl/3 by
// compare-and-pexpire; release by compare-and-delete. Standbys retry every
// min(ttl/10, 250 ms) plus up to as much jitter.
class Lease {
 public:
  using Work = std::function<net::awaitable<void>(std::int64_t epoch)>;

  Lease(redis::Client& redis, LeaseOptions options);

  // Runs until cancelled: whenever this replica holds the lease, runs
  // `work(epoch)`, and cancels it when the lease is lost or cannot be
  // renewed in time. On cancellation `work` is cancelled too, and once it
  // returns the lease is released so a standby takes over at once.
  net::awaitable<void> run(Work work);

  bool held() const { return held_; }
  std::int64_t epoch() const { return epoch_; }
  // Held, and renewed recently enough that no one else can hold it: check
  // right before any action the lease guards (a holder frozen past its TTL
  // must not act on resuming, even before its renewal loop has noticed).
  bool valid() const { return held_ && std::chrono::steady_clock::now() < valid_until_; }
  // The key whose value is the current fencing epoch, for scripts that
  // refuse writes from a stale holder.
  const std::string& epoch_key() const { return epoch_key_; }

 private:
  net::awaitable<std::int64_t> try_acquire();
  static net::awaitable<void> run_work(const Work* work, std::int64_t epoch, std::exception_ptr* failure);
  net::awaitable<void> keep_renewing(std::string token, std::chrono::steady_clock::time_point acquired_at);
  net::awaitable<void> release(std::string token);

  redis::Client& redis_;
  LeaseOptions options_;
  std::string key_;
  std::string epoch_key_;
  bool held_ = false;
  std::int64_t epoch_ = 0;
  std::chrono::steady_clock::time_point valid_until_{};
};

}  // namespace kiebot
