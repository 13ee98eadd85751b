// generator: reads config and wires the jobs consumer, the tracker, KIE,
// Telegram, accounts, Kafka, Redis and the callback endpoint.
#include <boost/asio/this_coro.hpp>

#include <iostream>

#include "accounts_client.hpp"
#include "generator.hpp"
#include "generator_metrics.hpp"
#include "job_store.hpp"
#include "payment.hpp"
#include "kie_client.hpp"
#include "dialog/catalog.hpp"
#include "kiebot/common/config.hpp"
#include "kiebot/common/fetch_policy.hpp"
#include "kiebot/common/health.hpp"
#include "kiebot/common/http_client.hpp"
#include "kiebot/common/http_server.hpp"
#include "kiebot/common/kafka.hpp"
#include "kiebot/common/lifecycle.hpp"
#include "kiebot/common/log.hpp"
#include "kiebot/common/rate_limiter.hpp"
#include "kiebot/common/redis.hpp"
#include "kiebot/common/telegram.hpp"

using namespace kiebot;

namespace {

int config_error(const std::string& message) {
  std::cerr << "generator: config error: " << message << "\n";
  return 2;
}

net::awaitable<void> consume_then_leave(generator::Generator* g, kafka::Consumer* consumer) {
  struct Leave {
    kafka::Consumer* c;
    ~Leave() { c->close(); }  // the group rebalances at once, not after a session timeout
  } leave{consumer};
  co_await g->consume(*consumer);
}

}  // namespace

int main(int argc, char** argv) {
  Config config("generator", "runs gen.jobs on KIE and delivers the results, exactly once, on any number of replicas",
                argc, argv);
  auto port = config.port("HTTP_PORT", 8082, "health, metrics and KIE callbacks; 0 = any free port");
  auto redis_url = config.str("REDIS_URL", "redis://127.0.0.1:6379/0", "Redis holding jobs and claims");
  auto brokers = config.str("KAFKA_BROKERS", "127.0.0.1:9092", "Kafka bootstrap servers");
  config.describe("KAFKA_CFG_<NAME>", "librdkafka property, e.g. KAFKA_CFG_SECURITY_PROTOCOL=sasl_ssl");
  auto token = config.required("TELEGRAM_BOT_TOKEN", "the bot token, to deliver results", true);
  auto telegram_base = config.str("TELEGRAM_API_BASE", "https://api.telegram.org", "Bot API server");
  auto kie_key = config.required("KIE_API_KEY", "KIE API key", true);
  auto kie_base = config.str("KIE_API_BASE", "https://api.kie.ai", "KIE API server");
  auto kie_upload = config.str("KIE_UPLOAD_BASE", "https://kieai.redpandaai.co",
                               "KIE file storage; results may be fetched from its origin");
  auto fetch_allow = config.str("FETCH_ALLOW_ORIGINS", "",
                                "comma-separated scheme://host:port that result fetches may reach even when private "
                                "(KIE's origins always may); others must be public addresses");
  auto public_base = config.optional("PUBLIC_BASE_URL", "public URL of this service for KIE callbacks; unset = polling only");
  auto callback_secret = config.optional("CALLBACK_SECRET", "HMAC key signing callback URLs (required with PUBLIC_BASE_URL)", true);
  auto accounts_url = config.str("ACCOUNTS_URL", "http://127.0.0.1:8083", "accounts service");
  auto accounts_token = config.required("ACCOUNTS_TOKEN", "bearer token for accounts", true);
  auto instance = config.instance_id();
  auto level = config.log_level();
  auto max_inflight = config.integer("MAX_INFLIGHT", 500, "job steps one replica runs at once", 1, 100'000);
  auto max_pending = config.integer("MAX_PENDING", 100'000, "unfinished jobs (all replicas) before consumption pauses", 1, 10'000'000);
  auto claim_ttl = config.integer("CLAIM_TTL_MS", 60'000, "how long a claim lasts: a dead replica's jobs resume after it", 1'000, 3'600'000);
  auto first_check = config.integer("FIRST_CHECK_MS", 3'000, "first recordInfo check after submission", 100, 600'000);
  auto max_check = config.integer("MAX_CHECK_MS", 30'000, "longest wait between recordInfo checks", 100, 600'000);
  auto global_rate = config.integer("TELEGRAM_GLOBAL_RATE", 30, "messages per second to all chats (all replicas)", 1, 100'000);
  auto chat_interval = config.integer("TELEGRAM_CHAT_INTERVAL_MS", 1'100,
                                      "ms between messages to one private chat (all replicas; Telegram allows about 1 s)",
                                      1, 60'000);
  auto create_timeout = config.integer("KIE_CREATE_TIMEOUT_MS", 30'000,
                                       "how long createTask may take; after it the submit is ambiguous and never repeated",
                                       500, 600'000);
  auto max_upload = config.integer("TELEGRAM_MAX_UPLOAD_BYTES", 50 << 20,
                                   "largest result uploaded to Telegram (50 MB; a local Bot API server takes 2000 MB); "
                                   "larger ones are sent as links",
                                   1, std::int64_t{2000} << 20);
  auto unpaid_sources = config.str("GENERATOR_UNPAID_SOURCES", "",
                                   "comma-separated job sources that may run without a hold (docs/jobs.md); empty: none");
  auto adopt_wait = config.integer("ADOPT_WAIT_MS", 600'000,
                                   "how long a submission without an answer waits for KIE's callback before failing",
                                   1'000, 86'400'000);
  if (!config.help_requested() && public_base && !public_base->empty() && (!callback_secret || callback_secret->empty())) {
    return config_error("CALLBACK_SECRET is required when PUBLIC_BASE_URL is set");
  }
  auto fetch_policy = std::make_shared<http::FetchPolicy>();
  try {
    *fetch_policy = http::configured_fetch_policy({{"KIE_API_BASE", kie_base}, {"KIE_UPLOAD_BASE", kie_upload}}, fetch_allow);
  } catch (const std::invalid_argument& e) {
    if (!config.help_requested()) return config_error(e.what());
  }
  if (auto code = config.finish()) return *code;
  log::init({"generator", instance, log::parse_level(level), config.secrets()});
  generator::Metrics::get();

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
  auto kafka_properties = kafka::properties_from_env(environment_with_prefix("KAFKA_CFG_"));
  kafka::ProducerOptions producer_options;
  producer_options.brokers = brokers;
  producer_options.properties = kafka_properties;
  producer_options.name = "generator";
  kafka::Producer producer(io.get_executor(), producer_options);
  kafka::ConsumerOptions consumer_options;
  consumer_options.brokers = brokers;
  consumer_options.group_id = "generator";
  consumer_options.topics = {"gen.jobs"};
  consumer_options.properties = kafka_properties;
  consumer_options.name = "generator-jobs";
  kafka::Consumer consumer(io.get_executor(), consumer_options);

  http::Client http_client(io.get_executor());
  http::ClientOptions download_options;
  download_options.max_response_bytes = 64u << 20;
  download_options.timeout = std::chrono::seconds(60);
  http::Client downloads(io.get_executor(), download_options);
  generator::JobStore store(*redis, instance, std::chrono::milliseconds(claim_ttl));
  // Telegram's limits hold per bot, so the buckets are keyed by the bot id.
  RateLimits limits;
  limits.global = {static_cast<double>(global_rate), static_cast<double>(global_rate)};
  // A little slower than Telegram's one a second, so that network jitter
  // between this decision and Telegram's own count never tips it over.
  limits.private_chat = {1'000.0 / static_cast<double>(chat_interval), 3};
  RateLimiter limiter(*redis, "tg-limits:" + token.substr(0, token.find(':')), limits);
  generator::KieClient kie(http_client, kie_base, kie_key, std::chrono::milliseconds(create_timeout));
  telegram::Client telegram(http_client, telegram_base, token);
  generator::AccountsClient accounts(http_client, accounts_url, accounts_token);
  generator::GeneratorOptions options;
  options.owner = instance;
  options.public_base_url = public_base.value_or("");
  options.callback_secret = callback_secret.value_or("");
  options.max_inflight = static_cast<std::size_t>(max_inflight);
  options.max_pending = max_pending;
  options.first_check = std::chrono::milliseconds(first_check);
  options.max_check = std::chrono::milliseconds(max_check);
  options.adopt_wait = std::chrono::milliseconds(adopt_wait);
  options.unpaid_sources = generator::parse_sources(unpaid_sources);
  options.fetch_policy = fetch_policy;
  options.max_upload_bytes = static_cast<std::size_t>(max_upload);
  generator::Generator gen(io.get_executor(),
                           {store, limiter, kie, telegram, accounts, producer, downloads, dialog::builtin_catalog()}, options);

  Lifecycle lifecycle(io, std::chrono::seconds(10));
  http::Router router;
  add_health_routes(router, [&] {
    return std::vector<std::pair<std::string, bool>>{{"redis", redis->connected()}, {"kafka", producer.brokers_up()}};
  });
  router.add("POST", "/kie/callback/{job_id}", http::Handler([&gen](http::Request r) { return gen.callback(std::move(r)); }));
  http::ServerOptions server_options;
  server_options.port = port;
  server_options.name = "generator";
  http::Server server(io.get_executor(), std::move(router), server_options);
  server.bind();
  lifecycle.spawn("http", server.run());
  lifecycle.spawn("jobs", consume_then_leave(&gen, &consumer));
  lifecycle.spawn("tracker", gen.track());
  int rc = lifecycle.run();
  redis->stop();
  log::info("stopped", {{"exit_code", rc}});
  return rc;
}
