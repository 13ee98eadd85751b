// The accounts binary's config, start-up and audit (see app.hpp).
#include "app.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <stdexcept>

#include "api.hpp"
#include "kiebot/base/log.hpp"
#include "sweeper.hpp"

namespace kiebot::accounts {

namespace {

void read_settings(Config& config, Settings& settings) {
  settings.gift_min = config.integer("GIFT_MIN", 1'000, "smallest gift, kopecks", 1, 100'000'000);
  settings.gift_max = config.integer("GIFT_MAX", 3'000, "largest gift, kopecks", 1, 100'000'000);
  settings.free_per_day = config.integer("FREE_PER_DAY", 5, "free generations per user per UTC day", 0, 1'000);
  settings.referral_bonus =
      config.integer("REFERRAL_BONUS", 10, "free generations a referral gives both users", 0, 1'000);
  settings.referral_daily_cap = config.integer(
      "REFERRAL_DAILY_CAP", 20, "referrals rewarded per referrer per UTC day (more still join)", 0, 1'000'000);
  settings.referral_new_window = std::chrono::seconds(
      config.integer("REFERRAL_NEW_WINDOW_S", 600,
                     "a referee is new when first seen this recently and with an empty ledger", 1, 86'400));
  settings.default_admin_limit = config.integer("ADMIN_DEFAULT_LIMIT", 10'000,
                                                "spending limit of admins from ADMIN_IDS, kopecks", 0, 1'000'000'000);
  settings.hold_ttl = std::chrono::seconds(
      config.integer("HOLD_TTL_S", 3'600, "seconds before an unsettled hold is released", 1, 7 * 86'400));
  settings.ledger_max = config.integer("LEDGER_MAX_LEN", 1'000, "ledger entries kept per user", 10, 1'000'000);
}

std::optional<Durability> parse_durability(const std::string& name) {
  if (name == "fsync") return Durability::fsync;
  if (name == "replica") return Durability::replica;
  if (name == "everysec") return Durability::everysec;
  return std::nullopt;
}

}  // namespace

std::optional<int> read_config(ServiceRuntime& rt, AppConfig& out) {
  auto& config = rt.config();
  rt.read_endpoints(8083, "HTTP API, health and metrics; 0 = any free port", "Redis (AOF on) holding all accounts");
  auto token =
      config.optional("ACCOUNTS_TOKEN", "one bearer token with every scope (local runs); or ACCOUNTS_TOKENS", true);
  auto tokens = config.optional(
      "ACCOUNTS_TOKENS", "callers and their scopes: name:token:scope,scope;... (docs/accounts-api.md, Callers)", true);
  rt.read_identity();
  out.allow_volatile = config.flag("ACCOUNTS_ALLOW_VOLATILE", false, "1: accept a Redis without AOF (tests only)");
  auto durability =
      config.str("ACCOUNTS_DURABILITY", "fsync",
                 "fsync (Redis must have appendfsync always), replica (WAIT for ACCOUNTS_MIN_REPLICAS after "
                 "each change, else 503) or everysec (may lose the last second of money on a crash)");
  auto min_replicas =
      config.integer("ACCOUNTS_MIN_REPLICAS", 1, "replica durability: replicas that must have a change", 1, 16);
  auto replica_timeout =
      config.integer("ACCOUNTS_REPLICA_TIMEOUT_MS", 500, "replica durability: how long WAIT waits", 10, 60'000);
  out.admin_ids = config.id_list("ADMIN_IDS", "Telegram user ids made admins at start (with ADMIN_DEFAULT_LIMIT)");
  auto owner = config.integer("OWNER_ID", 0, "Telegram user id of the owner: an admin without limit; 0 = none", 0,
                              (std::int64_t{1} << 53) - 1);
  auto& settings = out.settings;
  read_settings(config, settings);
  if (owner > 0) settings.owner_id = owner;
  if (auto parsed = parse_durability(durability)) {
    settings.durability = *parsed;
  } else if (!config.help_requested()) {
    return rt.config_error("ACCOUNTS_DURABILITY must be fsync, replica or everysec");
  }
  settings.min_replicas = min_replicas;
  settings.replica_timeout = std::chrono::milliseconds(replica_timeout);
  if (settings.gift_min > settings.gift_max && !config.help_requested()) {
    return rt.config_error("GIFT_MIN must not exceed GIFT_MAX");
  }
  if (config.help_requested() || out.audit_mode) return std::nullopt;
  try {
    if (tokens && !tokens->empty()) out.callers = Callers::parse(*tokens);
    if (token && !token->empty()) out.callers.add(Caller{"default", *token, {"*"}});
  } catch (const std::invalid_argument& e) {
    return rt.config_error(std::string("ACCOUNTS_TOKENS: ") + e.what());
  }
  if (out.callers.all().empty()) return rt.config_error("ACCOUNTS_TOKEN or ACCOUNTS_TOKENS is required");
  return std::nullopt;
}

std::vector<std::string> caller_tokens(const Callers& callers) {
  std::vector<std::string> tokens;
  for (const auto& caller : callers.all()) tokens.push_back(caller.token);
  return tokens;
}

void log_callers(const Callers& callers) {
  auto names = nlohmann::json::array();
  for (const auto& caller : callers.all()) names.push_back({{"name", caller.name}, {"scopes", caller.scopes}});
  log::info("accounts_callers", {{"callers", std::move(names)}});
}

namespace {

struct Startup {
  redis::Client* redis;
  Store* store;
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
  s->lifecycle->spawn("sweeper", run_sweeper(*s->store, std::chrono::milliseconds(250)));
}

net::awaitable<void> audit_all(redis::Client* redis, Store* store, int* rc) {
  try {
    if (!co_await redis->wait_connected(std::chrono::seconds(10))) {
      std::cerr << "accounts audit: Redis is not reachable at REDIS_URL\n";
      co_return;
    }
    auto report = co_await store->audit();
    std::cout << report.body.dump(2) << "\n";
    *rc = report.status == 200 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "accounts audit: " << e.what() << "\n";
  }
}

}  // namespace

void start_service(ServiceRuntime& rt, Store& store, AppConfig& config) {
  // Owned by the io_context's lifetime: the tasks that use it end before run() returns.
  auto startup =
      std::make_shared<Startup>(Startup{&rt.redis(), &store, &rt.lifecycle(), config.allow_volatile, config.admin_ids});
  http::ServerOptions options;
  options.body_limit = 64 * 1024;
  options.body_limit_status = 400;  // as documented for every bad input
  auto* redis = &rt.redis();
  auto readiness = [startup, redis] {
    return std::vector<std::pair<std::string, bool>>{{"redis", redis->connected()}, {"started", startup->ready}};
  };
  rt.serve(make_router(store, std::move(config.callers), readiness), options);
  rt.spawn("startup", start_up(startup.get()));
}

int run_audit(ServiceRuntime& rt, Store& store) {
  int rc = 3;
  rt.spawn("audit", audit_all(&rt.redis(), &store, &rc));
  rt.lifecycle().run();
  rt.redis().stop();
  return rc;
}

}  // namespace kiebot::accounts
