// A Redis lease with a fencing epoch: at most one holder does the work.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "kiebot/common/net.hpp"

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
// ttl/10 with jitter.
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

 private:
  net::awaitable<std::int64_t> try_acquire();
  net::awaitable<void> keep_renewing(std::string token, std::chrono::steady_clock::time_point acquired_at);
  net::awaitable<void> release(std::string token);

  redis::Client& redis_;
  LeaseOptions options_;
  std::string key_;
  std::string epoch_key_;
  bool held_ = false;
  std::int64_t epoch_ = 0;
};

}  // namespace kiebot
