// accounts: reads config, wires Redis, the store, the API and the sweeper.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <string_view>

#include "api.hpp"
#include "kiebot/common/config.hpp"
#include "kiebot/common/http_server.hpp"
#include "kiebot/common/lifecycle.hpp"
#include "kiebot/common/log.hpp"
#include "kiebot/common/redis.hpp"
#include "store.hpp"
#include "sweeper.hpp"

using namespace kiebot;

namespace {

struct Startup {
  redis::Client* redis;
  accounts::Store* store;
  Lifecycle* lifecycle;
  bool allow_volatile;
  std::vector<std::int64_t> admin_ids;
  bool ready = false;
};

// Waits for Redis, refuses a Redis without AOF, seeds ADMIN_IDS, then
// starts the sweeper. Throws (the process exits 1) when Redis is volatile.
net::awaitable<void> start_up(Startup* s) {
  while (!co_await s->redis->wait_connected(std::chrono::seconds(5))) {
    log::warn("waiting_for_redis");
  }
  if (s->allow_volatile) {
    log::warn("volatile_storage", {{"message", "ACCOUNTS_ALLOW_VOLATILE=1: AOF not required (tests only)"}});
  } else {
    co_await s->store->require_durability();
  }
  for (auto id : s->admin_ids) {
    co_await s->store->admin(UserId(id), "ensure", Kopecks(s->store->settings().default_admin_limit));
  }
  s->ready = true;
  log::info("accounts_ready", {{"admins_seeded", s->admin_ids.size()}});
  s->lifecycle->spawn("sweeper", accounts::run_sweeper(*s->store, std::chrono::milliseconds(250)));
}

}  // namespace

namespace {

// `accounts audit`: recomputes every user from the ledger, prints the report
// (JSON) on stdout, and exits 0 without drift, 1 with drift, 3 on an error.
net::awaitable<int> audit_all(redis::Client* redis, accounts::Store* store) {
  if (!co_await redis->wait_connected(std::chrono::seconds(10))) {
    std::cerr << "accounts audit: Redis is not reachable at REDIS_URL\n";
    co_return 3;
  }
  auto report = co_await store->audit();
  std::cout << report.body.dump(2) << "\n";
  co_return report.status == 200 ? 0 : 1;
}

int run_audit(net::io_context& io, redis::Client& redis, accounts::Store& store) {
  int rc = 3;
  net::co_spawn(io, audit_all(&redis, &store), [&](std::exception_ptr e, int code) {
    rc = code;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::cerr << "accounts audit: " << ex.what() << "\n";
        rc = 3;
      }
    }
    redis.stop();
    io.stop();
  });
  io.run();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  bool audit_mode = argc > 1 && std::string_view(argv[1]) == "audit";
  Config config("accounts",
                "owns balances, holds, admins, free generations, gifts and languages; `accounts audit` recomputes "
                "every account from its ledger and exits 1 on drift",
                argc, argv);
  auto port = config.port("HTTP_PORT", 8083, "HTTP API, health and metrics; 0 = any free port");
  auto redis_url = config.str("REDIS_URL", "redis://127.0.0.1:6379/0", "Redis (AOF on) holding all accounts");
  auto token = config.optional("ACCOUNTS_TOKEN", "one bearer token with every scope (local runs); or ACCOUNTS_TOKENS", true);
  auto tokens = config.optional("ACCOUNTS_TOKENS",
                                "callers and their scopes: name:token:scope,scope;... (docs/accounts-api.md, Callers)", true);
  auto instance = config.instance_id();
  auto level = config.log_level();
  auto allow_volatile = config.flag("ACCOUNTS_ALLOW_VOLATILE", false, "1: accept a Redis without AOF (tests only)");
  auto durability = config.str("ACCOUNTS_DURABILITY", "fsync",
                               "fsync (Redis must have appendfsync always), replica (WAIT for ACCOUNTS_MIN_REPLICAS after "
                               "each change, else 503) or everysec (may lose the last second of money on a crash)");
  auto min_replicas = config.integer("ACCOUNTS_MIN_REPLICAS", 1, "replica durability: replicas that must have a change", 1, 16);
  auto replica_timeout = config.integer("ACCOUNTS_REPLICA_TIMEOUT_MS", 500, "replica durability: how long WAIT waits", 10, 60'000);
  auto admin_ids = config.id_list("ADMIN_IDS", "Telegram user ids made admins at start (with ADMIN_DEFAULT_LIMIT)");
  auto owner = config.integer("OWNER_ID", 0, "Telegram user id of the owner: an admin without limit; 0 = none", 0,
                              (std::int64_t{1} << 53) - 1);
  accounts::Settings settings;
  settings.gift_min = config.integer("GIFT_MIN", 1'000, "smallest gift, kopecks", 1, 100'000'000);
  settings.gift_max = config.integer("GIFT_MAX", 3'000, "largest gift, kopecks", 1, 100'000'000);
  settings.free_per_day = config.integer("FREE_PER_DAY", 5, "free generations per user per UTC day", 0, 1'000);
  settings.referral_bonus = config.integer("REFERRAL_BONUS", 10, "free generations a referral gives both users", 0, 1'000);
  settings.referral_daily_cap =
      config.integer("REFERRAL_DAILY_CAP", 20, "referrals rewarded per referrer per UTC day (more still join)", 0, 1'000'000);
  settings.referral_new_window = std::chrono::seconds(config.integer(
      "REFERRAL_NEW_WINDOW_S", 600, "a referee is new when first seen this recently and with an empty ledger", 1, 86'400));
  settings.default_admin_limit =
      config.integer("ADMIN_DEFAULT_LIMIT", 10'000, "spending limit of admins from ADMIN_IDS, kopecks", 0, 1'000'000'000);
  settings.hold_ttl = std::chrono::seconds(
      config.integer("HOLD_TTL_S", 3'600, "seconds before an unsettled hold is released", 1, 7 * 86'400));
  settings.ledger_max = config.integer("LEDGER_MAX_LEN", 1'000, "ledger entries kept per user", 10, 1'000'000);
  if (owner > 0) settings.owner_id = owner;
  if (durability == "fsync") {
    settings.durability = accounts::Durability::fsync;
  } else if (durability == "replica") {
    settings.durability = accounts::Durability::replica;
  } else if (durability == "everysec") {
    settings.durability = accounts::Durability::everysec;
  } else if (!config.help_requested()) {
    std::cerr << "accounts: config error: ACCOUNTS_DURABILITY must be fsync, replica or everysec\n";
    return 2;
  }
  settings.min_replicas = min_replicas;
  settings.replica_timeout = std::chrono::milliseconds(replica_timeout);
  if (settings.gift_min > settings.gift_max && !config.help_requested()) {
    std::cerr << "accounts: config error: GIFT_MIN must not exceed GIFT_MAX\n";
    return 2;
  }
  accounts::Callers callers;
  if (!config.help_requested() && !audit_mode) {
    try {
      if (tokens && !tokens->empty()) callers = accounts::Callers::parse(*tokens);
      if (token && !token->empty()) callers.add(accounts::Caller{"default", *token, {"*"}});
    } catch (const std::invalid_argument& e) {
      std::cerr << "accounts: config error: ACCOUNTS_TOKENS: " << e.what() << "\n";
      return 2;
    }
    if (callers.all().empty()) {
      std::cerr << "accounts: config error: ACCOUNTS_TOKEN or ACCOUNTS_TOKENS is required\n";
      return 2;
    }
  }
  if (auto code = config.finish()) return *code;
  auto secrets = config.secrets();
  for (const auto& caller : callers.all()) secrets.push_back(caller.token);
  log::init({"accounts", instance, log::parse_level(level), std::move(secrets)});
  auto caller_names = nlohmann::json::array();
  for (const auto& caller : callers.all()) caller_names.push_back({{"name", caller.name}, {"scopes", caller.scopes}});
  log::info("accounts_callers", {{"callers", std::move(caller_names)}});

  net::io_context io(1);
  redis::Options redis_options;
  redis_options.url = redis_url;
  std::unique_ptr<redis::Client> redis;
  try {
    redis = std::make_unique<redis::Client>(io.get_executor(), redis_options);
  } catch (const redis::Error& e) {
    std::cerr << "accounts: config error: " << e.what() << "\n";
    return 2;
  }
  redis->start();
  accounts::Store store(*redis, settings);
  if (audit_mode) return run_audit(io, *redis, store);
  Lifecycle lifecycle(io, std::chrono::seconds(10));
  Startup startup{redis.get(), &store, &lifecycle, allow_volatile, admin_ids};

  http::ServerOptions options;
  options.port = port;
  options.name = "accounts";
  options.body_limit = 64 * 1024;
  options.body_limit_status = 400;  // as documented for every bad input
  auto readiness = [&startup, &redis] {
    return std::vector<std::pair<std::string, bool>>{{"redis", redis->connected()}, {"started", startup.ready}};
  };
  http::Server server(io.get_executor(), accounts::make_router(store, std::move(callers), readiness), options);
  server.bind();
  lifecycle.spawn("http", server.run());
  lifecycle.spawn("startup", start_up(&startup));
  int rc = lifecycle.run();
  redis->stop();
  log::info("stopped", {{"exit_code", rc}});
  return rc;
}
