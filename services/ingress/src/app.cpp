// The ingress binary's config, edge and dialog consumers (see app.hpp).
#include "app.hpp"

#include <algorithm>
#include <stdexcept>

#include "dialog/results.hpp"
#include "kiebot/http/fetch_policy.hpp"

namespace kiebot::ingress {

namespace {

// Returns FETCH_ALLOW_ORIGINS, which the fetch policy needs once every base URL is known.
std::string read_dialog_config(Config& config, AppConfig& out) {
  auto stars_rate =
      config.integer("STARS_PER_100_RUB", 160, "Telegram Stars charged per 100 roubles of top-up", 1, 100'000);
  auto fetch_allow = config.str("FETCH_ALLOW_ORIGINS", "",
                                "comma-separated scheme://host:port that file fetches may reach even when private "
                                "(Telegram's and KIE's origins always may); others must be public addresses");
  auto max_running = config.integer("MAX_RUNNING_PER_USER", 5, "generations one user may have running", 1, 1'000);
  auto referral_bonus =
      config.integer("REFERRAL_BONUS", 10, "free generations a referral gives (as accounts' REFERRAL_BONUS)", 0, 1'000);
  auto max_chats =
      config.integer("DIALOG_MAX_CHATS", 256, "chats whose updates are handled at the same time", 1, 100'000);
  auto max_waiting = config.integer(
      "DIALOG_MAX_WAITING_PER_CHAT", 20,
      "one chat's waiting updates; beyond, they are dropped with a \"slow down\" reply a minute", 1, 100'000);
  auto state_ttl =
      config.integer("DIALOG_STATE_TTL_S", 86'400, "how long an idle conversation keeps its form", 60, 2'592'000);
  auto job_deadline = config.integer("JOB_DEADLINE_S", 900, "generation timeout written into each job", 10, 86'400);
  auto upload_reuse = config.integer("KIE_UPLOAD_REUSE_S", 72'000,
                                     "how long a file uploaded to KIE is used again before a new upload (KIE deletes "
                                     "uploads after 24 h to 3 days)",
                                     1, 259'200);
  auto global_rate =
      config.integer("TELEGRAM_GLOBAL_RATE", 30, "messages per second to all chats (all replicas)", 1, 100'000);
  auto chat_interval =
      config.integer("TELEGRAM_CHAT_INTERVAL_MS", 1'100,
                     "ms between messages to one private chat (all replicas; Telegram allows about 1 s)", 1, 60'000);
  out.dialog.stars_per_100_rub = stars_rate;
  out.dialog.max_running = max_running;
  out.dialog.referral_bonus = referral_bonus;
  out.dialog.deadline_s = job_deadline;
  out.dialog.upload_reuse = std::chrono::seconds(upload_reuse);
  out.dispatcher.max_chats = static_cast<std::size_t>(max_chats);
  out.dispatcher.max_waiting_per_chat = static_cast<std::size_t>(max_waiting);
  out.state_ttl = std::chrono::seconds(state_ttl);
  out.limits = telegram_rate_limits(global_rate, chat_interval);
  return fetch_allow;
}

std::optional<std::string> check_mode(const AppConfig& c) {
  if (c.mode != "polling" && c.mode != "webhook") return "TELEGRAM_MODE must be polling or webhook";
  if (c.mode != "webhook") return std::nullopt;
  if (c.webhook_url.empty()) return "TELEGRAM_WEBHOOK_URL is required when TELEGRAM_MODE=webhook";
  const auto& secret = c.webhook_secret;
  if (secret.empty() || secret.size() > 256 ||
      secret.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
          std::string::npos) {
    return "TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_MODE=webhook: 1-256 of A-Z a-z 0-9 _ -";
  }
  return std::nullopt;
}

}  // namespace

std::optional<int> read_config(ServiceRuntime& rt, AppConfig& out) {
  auto& config = rt.config();
  rt.read_endpoints(8081, "health, metrics and the webhook endpoint; 0 = any free port",
                    "Redis holding the lease and the offset", true);
  out.token = config.required("TELEGRAM_BOT_TOKEN", "the bot token from @BotFather", true);
  out.api_base = config.str("TELEGRAM_API_BASE", "https://api.telegram.org", "Bot API server");
  rt.read_identity();
  out.lease_ttl =
      std::chrono::milliseconds(config.integer("LEASE_TTL_MS", 10'000, "polling lease TTL, ms", 1'000, 600'000));
  out.long_poll = std::chrono::seconds(config.integer("LONG_POLL_S", 25, "getUpdates long-poll timeout, s", 0, 50));
  out.mode = config.str("TELEGRAM_MODE", "polling", "polling (getUpdates) or webhook");
  out.delete_webhook =
      config.flag("TELEGRAM_DELETE_WEBHOOK", false, "1: in polling mode, delete a webhook that blocks getUpdates");
  out.webhook_url =
      config.optional("TELEGRAM_WEBHOOK_URL", "webhook mode: the public HTTPS URL of /telegram/webhook").value_or("");
  out.webhook_secret =
      config.optional("TELEGRAM_WEBHOOK_SECRET", "webhook mode: 1-256 of A-Z a-z 0-9 _ -", true).value_or("");
  out.publish_timeout = std::chrono::milliseconds(
      config.integer("PUBLISH_TIMEOUT_MS", 10'000, "how long Kafka may take to acknowledge, ms", 1'000, 300'000));
  out.dialog_on = config.flag("DIALOG", true, "1: run the conversation from tg.updates; 0: only the Telegram edge");
  out.accounts_url = config.str("ACCOUNTS_URL", "http://127.0.0.1:8083", "accounts service");
  if (out.dialog_on) out.accounts_token = config.required("ACCOUNTS_TOKEN", "bearer token for accounts", true);
  auto kie_key = config.optional("KIE_API_KEY",
                                 "KIE key: users' photos go to KIE's file upload; the owner sees KIE's credits", true);
  auto kie_base = config.str("KIE_API_BASE", "https://api.kie.ai", "KIE API");
  auto kie_upload = config.str("KIE_UPLOAD_BASE", "https://kieai.redpandaai.co", "KIE file upload API");
  out.admin_api_token =
      config
          .optional("ADMIN_API_TOKEN",
                    "bearer token of the internal admin API (GET /dialog/users/{id}/jobs); unset = off", true)
          .value_or("");
  auto fetch_allow = read_dialog_config(config, out);
  out.dialog.kie_api_base = kie_base;
  out.dialog.kie_upload_base = kie_upload;
  out.dialog.kie_key = kie_key.value_or("");
  if (!config.help_requested()) {
    if (auto error = check_mode(out)) return rt.config_error(*error);
  }
  // The dialog fetches files only from Telegram's file endpoint; an
  // operator's own Bot API server or KIE may sit at private addresses.
  auto fetch_policy = std::make_shared<http::FetchPolicy>();
  try {
    *fetch_policy = http::configured_fetch_policy(
        {{"TELEGRAM_API_BASE", out.api_base}, {"KIE_API_BASE", kie_base}, {"KIE_UPLOAD_BASE", kie_upload}},
        fetch_allow);
  } catch (const std::invalid_argument& e) {
    if (!config.help_requested()) return rt.config_error(e.what());
  }
  out.dialog.fetch_policy = fetch_policy;
  return std::nullopt;
}

kafka::ProducerOptions producer_options(const ServiceRuntime& rt, const AppConfig& config) {
  auto options = rt.producer_options("ingress");
  // A batch is produced whole and then awaited: lingering would only add
  // its delay to every getUpdates cycle (KAFKA_CFG_LINGER_MS overrides).
  options.properties.try_emplace("linger.ms", "0");
  options.delivery_timeout = config.publish_timeout;
  return options;
}

namespace {

// One lease per bot: the bot id is the token's part before ':'.
LeaseOptions lease_options(const AppConfig& config, const std::string& instance) {
  LeaseOptions options;
  options.name = "telegram:" + config.token.substr(0, config.token.find(':'));
  options.owner = instance;
  options.ttl = config.lease_ttl;
  options.safety = std::min(std::chrono::milliseconds(2'000), options.ttl / 5);
  return options;
}

PollerOptions poller_options(const AppConfig& config, const std::string& instance) {
  PollerOptions options;
  options.owner = instance;
  options.long_poll = config.long_poll;
  options.delete_webhook = config.delete_webhook;
  return options;
}

}  // namespace

Edge::Edge(ServiceRuntime& rt, const AppConfig& config, kafka::Producer& producer, http::Client& http_client)
    : config_(config),
      instance_(rt.instance()),
      api_(http_client, config.api_base, config.token),
      lease_(rt.redis(), lease_options(config, instance_)),
      offsets_(rt.redis(), "{lease:" + lease_options(config, instance_).name + "}:offset", lease_.epoch_key()),
      poller_(api_, producer, lease_, offsets_, poller_options(config, instance_), [&rt] { return rt.stopping(); }),
      receiver_(producer, lease_, config.webhook_secret, poller_options(config, instance_).topic),
      registrar_(api_, {config.webhook_url, config.webhook_secret}) {}

std::function<nlohmann::json()> Edge::details() {
  return [this] {
    return nlohmann::json{{"mode", config_.mode},
                          {"instance", instance_},
                          {"lease", {{"held", lease_.held()}, {"epoch", lease_.epoch()}}}};
  };
}

void Edge::add_routes(http::Router& router) {
  if (config_.mode == "webhook") receiver_.add_routes(router);
}

void Edge::start(ServiceRuntime& rt) {
  if (config_.mode == "polling") {
    rt.spawn("poller", lease_.run([this](std::int64_t epoch) { return poller_.run(epoch); }));
  } else {
    rt.spawn("webhook_registrar", lease_.run([this](std::int64_t epoch) { return registrar_.run(epoch); }));
  }
}

DialogConsumers::DialogConsumers(ServiceRuntime& rt, const AppConfig& config, dialog::Dialog& dialog,
                                 dialog::Store& store) {
  if (!config.dialog_on) return;
  auto updates = rt.consumer_options("ingress-dialog", {PollerOptions{}.topic}, "dialog-updates");
  dispatcher_ = std::make_unique<dialog::Dispatcher>(rt.executor(), updates, dialog, store, config.dispatcher);
  results_ = std::make_unique<kafka::Consumer>(
      rt.executor(), rt.consumer_options("ingress-dialog-results", {"gen.results"}, "dialog-results"));
  rt.spawn("dialog", dialog.start(*dispatcher_));
  rt.spawn("dialog_results", dialog::follow_results(*results_, store));
  rt.spawn("money_queue", dialog.run_money_queue());
}

DialogConsumers::~DialogConsumers() = default;

}  // namespace kiebot::ingress
