// ingress: reads config and wires the Telegram poller (or webhook receiver),
// the lease, the dialog, Kafka, Redis, accounts and the health endpoints.
#include <nlohmann/json.hpp>

#include <iostream>

#include "kiebot/common/config.hpp"
#include "kiebot/common/fetch_policy.hpp"
#include "kiebot/common/health.hpp"
#include "kiebot/common/http_client.hpp"
#include "kiebot/common/http_server.hpp"
#include "kiebot/common/kafka.hpp"
#include "kiebot/common/lease.hpp"
#include "kiebot/common/lifecycle.hpp"
#include "kiebot/common/log.hpp"
#include "kiebot/common/rate_limiter.hpp"
#include "kiebot/common/redis.hpp"
#include "kiebot/common/telegram.hpp"
#include "dialog/accounts_api.hpp"
#include "dialog/dialog.hpp"
#include "dialog/dispatcher.hpp"
#include "dialog/money_queue.hpp"
#include "dialog/results.hpp"
#include "dialog/routes.hpp"
#include "dialog/store.hpp"
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
  Config config("ingress", "the Telegram edge (one getUpdates session behind a Redis lease, updates into Kafka) and the dialog",
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
  auto dialog_on = config.flag("DIALOG", true, "1: run the conversation from tg.updates; 0: only the Telegram edge");
  auto accounts_url = config.str("ACCOUNTS_URL", "http://127.0.0.1:8083", "accounts service");
  auto accounts_token = dialog_on ? config.required("ACCOUNTS_TOKEN", "bearer token for accounts", true) : std::string();
  auto kie_key = config.optional("KIE_API_KEY", "KIE key: users' photos go to KIE's file upload; the owner sees KIE's credits", true);
  auto kie_base = config.str("KIE_API_BASE", "https://api.kie.ai", "KIE API");
  auto kie_upload = config.str("KIE_UPLOAD_BASE", "https://kieai.redpandaai.co", "KIE file upload API");
  auto admin_api_token = config.optional(
      "ADMIN_API_TOKEN", "bearer token of the internal admin API (GET /dialog/users/{id}/jobs); unset = off", true);
  auto stars_rate = config.integer("STARS_PER_100_RUB", 160, "Telegram Stars charged per 100 roubles of top-up", 1, 100'000);
  auto fetch_allow = config.str("FETCH_ALLOW_ORIGINS", "",
                                "comma-separated scheme://host:port that file fetches may reach even when private "
                                "(Telegram's and KIE's origins always may); others must be public addresses");
  auto max_running = config.integer("MAX_RUNNING_PER_USER", 5, "generations one user may have running", 1, 1'000);
  auto referral_bonus = config.integer("REFERRAL_BONUS", 10, "free generations a referral gives (as accounts' REFERRAL_BONUS)", 0, 1'000);
  auto max_chats = config.integer("DIALOG_MAX_CHATS", 256, "chats whose updates are handled at the same time", 1, 100'000);
  auto max_waiting = config.integer("DIALOG_MAX_WAITING_PER_CHAT", 20,
                                    "one chat's waiting updates; beyond, they are dropped with a \"slow down\" reply a minute",
                                    1, 100'000);
  auto state_ttl = config.integer("DIALOG_STATE_TTL_S", 86'400, "how long an idle conversation keeps its form", 60, 2'592'000);
  auto job_deadline = config.integer("JOB_DEADLINE_S", 900, "generation timeout written into each job", 10, 86'400);
  auto global_rate = config.integer("TELEGRAM_GLOBAL_RATE", 30, "messages per second to all chats (all replicas)", 1, 100'000);
  auto chat_interval = config.integer("TELEGRAM_CHAT_INTERVAL_MS", 1'100,
                                      "ms between messages to one private chat (all replicas; Telegram allows about 1 s)", 1, 60'000);
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
  // The dialog fetches files only from Telegram's file endpoint; an
  // operator's own Bot API server or KIE may sit at private addresses.
  auto fetch_policy = std::make_shared<http::FetchPolicy>();
  try {
    *fetch_policy = http::configured_fetch_policy(
        {{"TELEGRAM_API_BASE", api_base}, {"KIE_API_BASE", kie_base}, {"KIE_UPLOAD_BASE", kie_upload}}, fetch_allow);
  } catch (const std::invalid_argument& e) {
    if (!config.help_requested()) return config_error(e.what());
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

  // The dialog: every replica consumes tg.updates and runs the conversation.
  auto kafka_properties = kafka::properties_from_env(environment_with_prefix("KAFKA_CFG_"));
  RateLimits limits;
  limits.global = {static_cast<double>(global_rate), static_cast<double>(global_rate)};
  limits.private_chat = {1'000.0 / static_cast<double>(chat_interval), 3};
  RateLimiter limiter(*redis, "tg-limits:" + bot_id, limits);  // shared with the generator
  telegram::Client telegram(http_client, api_base, token);
  dialog::AccountsApi accounts(http_client, accounts_url, accounts_token);
  dialog::Store store(*redis, std::chrono::seconds(state_ttl));
  dialog::MoneyQueue money(*redis);
  dialog::DialogOptions dialog_options;
  dialog_options.stars_per_100_rub = stars_rate;
  dialog_options.max_running = max_running;
  dialog_options.referral_bonus = referral_bonus;
  dialog_options.deadline_s = job_deadline;
  dialog_options.kie_api_base = kie_base;
  dialog_options.kie_upload_base = kie_upload;
  dialog_options.kie_key = kie_key.value_or("");
  dialog_options.fetch_policy = fetch_policy;
  dialog::Dialog dialog({telegram, limiter, accounts, store, money, producer, http_client, dialog::builtin_catalog(),
                         dialog::builtin_texts()},
                        dialog_options);
  kafka::ConsumerOptions updates_options;
  updates_options.brokers = brokers;
  updates_options.group_id = "ingress-dialog";
  updates_options.topics = {poller_options.topic};
  updates_options.properties = kafka_properties;
  updates_options.name = "dialog-updates";
  dialog::DispatcherOptions dispatcher_options;
  dispatcher_options.max_chats = static_cast<std::size_t>(max_chats);
  dispatcher_options.max_waiting_per_chat = static_cast<std::size_t>(max_waiting);
  std::unique_ptr<dialog::Dispatcher> dispatcher;
  std::unique_ptr<kafka::Consumer> results;
  if (dialog_on) {
    dispatcher = std::make_unique<dialog::Dispatcher>(io.get_executor(), updates_options, dialog, store, dispatcher_options);
    auto results_options = updates_options;
    results_options.group_id = "ingress-dialog-results";
    results_options.topics = {"gen.results"};
    results_options.name = "dialog-results";
    results = std::make_unique<kafka::Consumer>(io.get_executor(), results_options);
  }

  http::Router router;
  add_health_routes(
      router, [&] { return std::vector<std::pair<std::string, bool>>{{"redis", redis->connected()}, {"kafka", producer.brokers_up()}}; },
      [&] {
        return nlohmann::json{{"mode", mode}, {"instance", instance},
                              {"lease", {{"held", lease.held()}, {"epoch", lease.epoch()}}}};
      });
  if (mode == "webhook") receiver.add_routes(router);
  if (dialog_on) dialog::add_routes(router, store, admin_api_token.value_or(""));
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
  if (dialog_on) {
    lifecycle.spawn("dialog", dialog.start(*dispatcher));
    lifecycle.spawn("dialog_results", dialog::follow_results(*results, store));
    lifecycle.spawn("money_queue", dialog.run_money_queue());
  }
  int rc = lifecycle.run();
  redis->stop();
  log::info("stopped", {{"exit_code", rc}});
  return rc;
}
