// ingress: declares its config and parts: the Telegram edge (poller or
// webhook behind the lease), the dialog, Kafka, Redis and accounts.
#include "app.hpp"
#include "dialog/dialog.hpp"
#include "dialog/money_queue.hpp"
#include "dialog/routes.hpp"
#include "dialog/store.hpp"
#include "kiebot/accounts_client/client.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/http/health.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/redis/rate_limiter.hpp"
#include "kiebot/service/service_runtime.hpp"
#include "kiebot/telegram/telegram.hpp"
#include "poller/ingress_metrics.hpp"

using namespace kiebot;

int main(int argc, char** argv) {
  ServiceRuntime rt(
      "ingress", "the Telegram edge (one getUpdates session behind a Redis lease, updates into Kafka) and the dialog",
      argc, argv);
  ingress::AppConfig config;
  if (auto code = ingress::read_config(rt, config)) return *code;
  // A batch in flight at SIGTERM may wait for Kafka up to its publish timeout.
  if (auto code = rt.start(config.publish_timeout + std::chrono::seconds(5))) return *code;
  ingress::Metrics::get();  // every series from the start, at 0

  auto ex = rt.executor();
  kafka::Producer producer(ex, ingress::producer_options(rt, config));
  http::Client http_client(ex);
  ingress::Edge edge(rt, config, producer, http_client);
  // The dialog: every replica consumes tg.updates and runs the conversation.
  RateLimiter limiter(rt.redis(), telegram_limits_prefix(config.token), config.limits);  // shared with the generator
  telegram::Client telegram(http_client, config.api_base, config.token);
  accounts_api::Client accounts(http_client, config.accounts_url, config.accounts_token, std::chrono::seconds(5));
  dialog::Store store(rt.redis(), config.state_ttl);
  dialog::MoneyQueue money(rt.redis());
  dialog::Dialog dialog({telegram, limiter, accounts, store, money, producer, http_client, dialog::builtin_catalog(),
                         dialog::builtin_texts()},
                        config.dialog);

  http::Router router;
  add_health_routes(router, rt.readiness(&producer), edge.details());
  edge.add_routes(router);
  if (config.dialog_on) dialog::add_routes(router, store, config.admin_api_token);
  http::ServerOptions server_options;
  server_options.body_limit = 1 << 20;
  rt.serve(std::move(router), server_options);
  edge.start(rt);
  ingress::DialogConsumers consumers(rt, config, dialog, store);
  return rt.run();
}
