// ingress: reads config and wires the Telegram poller (or webhook receiver),
// the lease, Kafka, Redis and the health endpoints.
#include <nlohmann/json.hpp>

#include <iostream>

#include "kiebot/common/config.hpp"
#include "kiebot/common/health.hpp"
#include "kiebot/common/http_client.hpp"
#include "kiebot/common/http_server.hpp"
#include "kiebot/common/kafka.hpp"
#include "kiebot/common/lease.hpp"
#include "kiebot/common/lifecycle.hpp"
#include "kiebot/common/log.hpp"
#include "kiebot/common/redis.hpp"
#include "poller/bot_api.hpp"
#include "poller/ingress_metrics.hpp"
#include "poller/offset_store.hpp"
#include "poller/poller.hpp"
#include "poller/webhook.hpp"

using namespace kiebot;

namespace {

int config_error(const std::string& message) {
  std::cerr << "ingress: config error: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Config config("ingress", "the Telegram edge: one getUpdates session behind a Redis lease, updates into Kafka",
                argc, argv);
  auto port = config.port("HTTP_PORT", 8081, "health, metrics and the webhook endpoint; 0 = any free port");
  auto redis_url = config.str("REDIS_URL", "redis://127.0.0.1:6379/0", "Redis holding the lease and the offset");
  auto brokers = config.str("KAFKA_BROKERS", "127.0.0.1:9092", "Kafka bootstrap servers");
  config.describe("KAFKA_CFG_<NAME>", "librdkafka property, e.g. KAFKA_CFG_SECURITY_PROTOCOL=sasl_ssl");
  auto token = config.required("TELEGRAM_BOT_TOKEN", "the bot token from @BotFather", true);
  auto api_base = config.str("TELEGRAM_API_BASE", "https://api.telegram.org", "Bot API server");
  auto instance = config.instance_id();
  auto level = config.log_level();
  auto lease_ttl = config.integer("LEASE_TTL_MS", 10'000, "polling lease TTL, ms", 1'000, 600'000);
  auto long_poll = config.integer("LONG_POLL_S", 25, "getUpdates long-poll timeout, s", 0, 50);
  auto mode = config.str("TELEGRAM_MODE", "polling", "polling (getUpdates) or webhook");
  auto delete_webhook = config.flag("TELEGRAM_DELETE_WEBHOOK", false, "1: in polling mode, delete a webhook that blocks getUpdates");
  auto webhook_url = config.optional("TELEGRAM_WEBHOOK_URL", "webhook mode: the public HTTPS URL of /telegram/webhook");
  auto webhook_secret = config.optional("TELEGRAM_WEBHOOK_SECRET", "webhook mode: 1-256 of A-Z a-z 0-9 _ -", true);
  auto publish_timeout = config.integer("PUBLISH_TIMEOUT_MS", 10'000, "how long Kafka may take to acknowledge, ms",
                                        1'000, 300'000);
  if (!config.help_requested()) {
    if (mode != "polling" && mode != "webhook") return config_error("TELEGRAM_MODE must be polling or webhook");
    if (mode == "webhook" && (!webhook_url || webhook_url->empty())) {
      return config_error("TELEGRAM_WEBHOOK_URL is required when TELEGRAM_MODE=webhook");
    }
    if (mode == "webhook" && (!webhook_secret || webhook_secret->empty() || webhook_secret->size() > 256 ||
                              webhook_secret->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                                "0123456789_-") != std::string::npos)) {
      return config_error("TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_MODE=webhook: 1-256 of A-Z a-z 0-9 _ -");
    }
  }
  if (auto code = config.finish()) return *code;
  log::init({"ingress", instance, log::parse_level(level), config.secrets()});

  ingress::Metrics::get();  // every series from the start, at 0
  net::io_context io(1);
  redis::Options redis_options;
  redis_options.url = redis_url;
  std::unique_ptr<redis::Client> redis;
  try {
    redis = std::make_unique<redis::Client>(io.get_executor(), redis_options);
  } catch (const redis::Error& e) {
    return config_error(e.what());
  }
  redis->start();
  kafka::ProducerOptions producer_options;
  producer_options.brokers = brokers;
  producer_options.properties = kafka::properties_from_env(environment_with_prefix("KAFKA_CFG_"));
  // A batch is produced whole and then awaited: lingering would only add
  // its delay to every getUpdates cycle (KAFKA_CFG_LINGER_MS overrides).
  producer_options.properties.try_emplace("linger.ms", "0");
  producer_options.delivery_timeout = std::chrono::milliseconds(publish_timeout);
  producer_options.name = "ingress";
  kafka::Producer producer(io.get_executor(), producer_options);
  http::Client http_client(io.get_executor());
  ingress::BotApi api(http_client, api_base, token);

  // One lease per bot: the bot id is the token's part before ':'.
  auto bot_id = token.substr(0, token.find(':'));
  LeaseOptions lease_options;
  lease_options.name = "telegram:" + bot_id;
  lease_options.owner = instance;
  lease_options.ttl = std::chrono::milliseconds(lease_ttl);
  lease_options.safety = std::min(std::chrono::milliseconds(2'000), lease_options.ttl / 5);
  Lease lease(*redis, lease_options);
  ingress::OffsetStore offsets(*redis, "{lease:" + lease_options.name + "}:offset", lease.epoch_key());

  // A batch in flight at SIGTERM may wait for Kafka up to its publish timeout.
  Lifecycle lifecycle(io, std::chrono::milliseconds(publish_timeout) + std::chrono::seconds(5));
  ingress::PollerOptions poller_options;
  poller_options.owner = instance;
  poller_options.long_poll = std::chrono::seconds(long_poll);
  poller_options.delete_webhook = delete_webhook;
  ingress::Poller poller(api, producer, lease, offsets, poller_options, [&lifecycle] { return lifecycle.stopping(); });
  ingress::WebhookReceiver receiver(producer, lease, webhook_secret.value_or(""), poller_options.topic);
  ingress::WebhookRegistrar registrar(api, {webhook_url.value_or(""), webhook_secret.value_or("")});

  http::Router router;
  add_health_routes(
      router, [&] { return std::vector<std::pair<std::string, bool>>{{"redis", redis->connected()}, {"kafka", producer.brokers_up()}}; },
      [&] {
        return nlohmann::json{{"mode", mode}, {"instance", instance},
                              {"lease", {{"held", lease.held()}, {"epoch", lease.epoch()}}}};
      });
  if (mode == "webhook") receiver.add_routes(router);
  http::ServerOptions server_options;
  server_options.port = port;
  server_options.name = "ingress";
  server_options.body_limit = 1 << 20;
  http::Server server(io.get_executor(), std::move(router), server_options);
  server.bind();
  lifecycle.spawn("http", server.run());
  if (mode == "polling") {
    lifecycle.spawn("poller", lease.run([&poller](std::int64_t epoch) { return poller.run(epoch); }));
  } else {
    lifecycle.spawn("webhook_registrar", lease.run([&registrar](std::int64_t epoch) { return registrar.run(epoch); }));
  }
  int rc = lifecycle.run();
  redis->stop();
  log::info("stopped", {{"exit_code", rc}});
  return rc;
}
