// The generator binary's config (every variable it reads, see --help).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "generator.hpp"
#include "kie_budget.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/redis/rate_limiter.hpp"
#include "kiebot/service/service_runtime.hpp"

namespace kiebot::generator {

struct AppConfig {
  std::string token;
  std::string telegram_base;
  std::string kie_key;
  std::string kie_base;
  std::string accounts_url;
  std::string accounts_token;
  std::chrono::milliseconds claim_ttl{60'000};
  std::chrono::milliseconds create_timeout{30'000};
  RateLimits limits;
  KieBudgetLimits kie_budget;
  GeneratorOptions options;
};

// Reads the variables into `out`; an exit code when one is inconsistent
// (the runtime's start() reports missing and malformed ones).
std::optional<int> read_config(ServiceRuntime& rt, AppConfig& out);

// Result downloads: large and slow, unlike API calls.
http::ClientOptions download_options();

// Consumes gen.jobs, then leaves the group at once (not after a session timeout).
net::awaitable<void> consume_then_leave(Generator* generator, kafka::Consumer* consumer);

}  // namespace kiebot::generator
