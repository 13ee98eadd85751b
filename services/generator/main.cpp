// generator: declares its config and parts (the jobs consumer, the tracker,
// KIE, Telegram, accounts, Kafka, Redis and the callback endpoint).
#include "app.hpp"
#include "kiebot/catalog/catalog.hpp"
#include "generator.hpp"
#include "generator_metrics.hpp"
#include "job_store.hpp"
#include "kie_client.hpp"
#include "kiebot/accounts_client/client.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/http/health.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/redis/rate_limiter.hpp"
#include "kiebot/service/service_runtime.hpp"
#include "kiebot/telegram/telegram.hpp"

using namespace kiebot;

int main(int argc, char** argv) {
  ServiceRuntime rt("generator",
                    "runs gen.jobs on KIE and delivers the results, exactly once, on any number of replicas", argc,
                    argv);
  generator::AppConfig config;
  if (auto code = generator::read_config(rt, config)) return *code;
  if (auto code = rt.start()) return *code;
  generator::Metrics::get();

  auto ex = rt.executor();
  kafka::Producer producer(ex, rt.producer_options("generator"));
  kafka::Consumer consumer(ex, rt.consumer_options("generator", {"gen.jobs"}, "generator-jobs"));
  http::Client http_client(ex);
  http::Client downloads(ex, generator::download_options());
  generator::JobStore store(rt.redis(), rt.instance(), config.claim_ttl);
  RateLimiter limiter(rt.redis(), telegram_limits_prefix(config.token), config.limits);
  generator::KieClient kie(http_client, config.kie_base, config.kie_key, config.create_timeout);
  generator::KieBudget budget(rt.redis(), config.kie_budget);
  telegram::Client telegram(http_client, config.telegram_base, config.token);
  accounts_api::Client accounts(http_client, config.accounts_url, config.accounts_token, std::chrono::seconds(10));
  generator::Generator gen(
      ex, {store, limiter, kie, budget, telegram, accounts, producer, downloads, catalog::builtin_catalog()}, config.options);

  http::Router router;
  add_health_routes(router, rt.readiness(&producer));
  router.add("POST", "/kie/callback/{job_id}",
             http::Handler([&gen](http::Request r) { return gen.callback(std::move(r)); }));
  rt.serve(std::move(router));
  rt.spawn("jobs", generator::consume_then_leave(&gen, &consumer));
  rt.spawn("tracker", gen.track());
  return rt.run();
}
