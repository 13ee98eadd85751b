// Accounts storage: every mutation is one Lua script on one user's keys.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "kiebot/base/errors.hpp"
#include "kiebot/base/ids.hpp"
#include "kiebot/base/money.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::redis {
class Client;
struct Reply;
}  // namespace kiebot::redis

namespace kiebot::accounts {

// How an acknowledged mutation survives a crash of Redis (ACCOUNTS_DURABILITY).
enum class Durability {
  fsync,     // Redis fsyncs its AOF before answering (appendfsync always): required at start
  replica,   // after each mutation, WAIT for min_replicas within replica_timeout, else 503
  everysec,  // an explicit opt-in: up to the last second of acknowledged money may be lost
};

// A mutation was applied on the primary but not acknowledged by enough
// replicas in time: answered 503, and the caller retries it with its key.
class NotReplicated : public TransientError {
 public:
  using TransientError::TransientError;
};

struct Settings {
  Durability durability = Durability::fsync;
  std::int64_t min_replicas = 1;
  std::chrono::milliseconds replica_timeout{500};
  std::int64_t free_per_day = 5;
  std::int64_t referral_bonus = 10;
  std::int64_t referral_daily_cap = 20;           // rewarded referrals per referrer per UTC day
  std::chrono::seconds referral_new_window{600};  // a referee first seen longer ago is not new
  std::int64_t gift_min = 1'000;                  // kopecks
  std::int64_t gift_max = 3'000;                  // kopecks
  std::int64_t default_admin_limit = 10'000;      // kopecks
  std::int64_t ledger_max = 1'000;                // entries kept per user (approximately)
  std::chrono::seconds hold_ttl{3600};
  std::optional<std::int64_t> owner_id;
};

// An answer for the API: an HTTP status and its JSON body. Errors carry
// {"error","message"} and whatever the script added (balance, remaining...).
struct Outcome {
  int status = 200;
  nlohmann::json body;
};

using Args = std::vector<std::string>;

class Store {
 public:
  Store(redis::Client& redis, Settings settings);

  const Settings& settings() const { return settings_; }

  net::awaitable<Outcome> user(UserId user_id);
  net::awaitable<Outcome> hold(UserId user_id, std::string kind, Kopecks amount, std::string key,
                               std::optional<std::int64_t> ttl_s);
  // action: "commit" or "release" (the API), "expire" (the sweeper).
  net::awaitable<Outcome> settle(HoldId hold_id, std::string action);
  // An admin_grant names its admin: counted against their limit first
  // (the owner has none), in both ledgers.
  net::awaitable<Outcome> credit(UserId user_id, Kopecks amount, std::string reason, std::string key, std::string ref,
                                 std::optional<std::int64_t> admin_id = std::nullopt);
  // May leave the balance below zero (a refunded payment already spent).
  net::awaitable<Outcome> debit(UserId user_id, Kopecks amount, std::string reason, std::string key, std::string ref,
                                std::optional<std::int64_t> admin_id);
  net::awaitable<Outcome> hold_info(HoldId hold_id);
  net::awaitable<Outcome> gift(UserId user_id);
  net::awaitable<Outcome> language(UserId user_id, std::string language);
  net::awaitable<Outcome> referral(UserId user_id, UserId referrer_id);
  net::awaitable<Outcome> admin(UserId user_id, std::string action, Kopecks limit);
  net::awaitable<Outcome> admins();
  net::awaitable<Outcome> ledger(UserId user_id, std::int64_t limit);
  net::awaitable<Outcome> stats();
  // Every user's balance recomputed from checkpoint and ledger, held and
  // free bank checked against the last entry; the summary is kept for
  // /v1/stats. `drifting` lists up to 100 users with any difference.
  net::awaitable<Outcome> audit();

  // Writes the batched global views (stats counters, expiry index). The
  // per-user scripts are the source of truth; these are updated in batches
  // so that a hold or commit costs one Redis script and nothing else.
  net::awaitable<void> flush();
  // Releases holds whose deadline passed (from the global expiry index);
  // returns how many it looked at.
  net::awaitable<std::size_t> expire_due(std::size_t max);
  // Throws PermanentError (a configuration to fix) unless Redis persists as `settings().durability`
  // requires (AOF, and appendfsync always for fsync).
  net::awaitable<void> require_durability();

 private:
  void count(const char* field, std::int64_t by);

  struct Pending {
    std::map<std::string, std::int64_t> counts;
    std::vector<std::pair<std::int64_t, std::string>> index_add;  // expires_ms, hold id
    std::vector<std::string> index_remove;
  };
  net::awaitable<redis::Reply> run(const char* const& source, std::string user_key, Args args);

  redis::Client& redis_;
  Settings settings_;
  Pending pending_;
};

}  // namespace kiebot::accounts
