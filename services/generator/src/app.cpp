// The generator binary's config and helpers (see app.hpp).
#include "app.hpp"

#include <stdexcept>

#include "kiebot/http/fetch_policy.hpp"
#include "payment.hpp"

namespace kiebot::generator {

namespace {

void read_limits(Config& config, AppConfig& out) {
  auto max_inflight = config.integer("MAX_INFLIGHT", 500, "job steps one replica runs at once", 1, 100'000);
  auto max_pending =
      config.integer("MAX_PENDING", 100'000, "unfinished jobs (all replicas) before consumption pauses", 1, 10'000'000);
  auto claim_ttl = config.integer("CLAIM_TTL_MS", 60'000,
                                  "how long a claim lasts: a dead replica's jobs resume after it", 1'000, 3'600'000);
  auto first_check = config.integer("FIRST_CHECK_MS", 3'000, "first recordInfo check after submission", 100, 600'000);
  auto max_check = config.integer("MAX_CHECK_MS", 30'000, "longest wait between recordInfo checks", 100, 600'000);
  auto global_rate =
      config.integer("TELEGRAM_GLOBAL_RATE", 30, "messages per second to all chats (all replicas)", 1, 100'000);
  auto chat_interval =
      config.integer("TELEGRAM_CHAT_INTERVAL_MS", 1'100,
                     "ms between messages to one private chat (all replicas; Telegram allows about 1 s)", 1, 60'000);
  auto create_timeout =
      config.integer("KIE_CREATE_TIMEOUT_MS", 30'000,
                     "how long createTask may take; after it the submit is ambiguous and never repeated", 500, 600'000);
  auto max_upload = config.integer("TELEGRAM_MAX_UPLOAD_BYTES", 50 << 20,
                                   "largest result uploaded to Telegram (50 MB; a local Bot API server takes 2000 MB); "
                                   "larger ones are sent as links",
                                   1, std::int64_t{2000} << 20);
  auto unpaid_sources =
      config.str("GENERATOR_UNPAID_SOURCES", "",
                 "comma-separated job sources that may run without a hold (docs/jobs.md); empty: none");
  auto kie_rate = config.integer("KIE_RATE_LIMIT", 20,
                                 "new KIE tasks per KIE_RATE_WINDOW_MS for the whole account (all replicas)", 1, 100'000);
  auto kie_window = config.integer("KIE_RATE_WINDOW_MS", 10'500,
                                   "the window of KIE_RATE_LIMIT (KIE: 20 per 10 s; a margin for clock skew)", 100,
                                   3'600'000);
  auto adopt_wait = config.integer("ADOPT_WAIT_MS", 600'000,
                                   "how long a submission without an answer waits for KIE's callback before failing",
                                   1'000, 86'400'000);
  auto& options = out.options;
  options.max_inflight = static_cast<std::size_t>(max_inflight);
  options.max_pending = max_pending;
  options.first_check = std::chrono::milliseconds(first_check);
  options.max_check = std::chrono::milliseconds(max_check);
  options.adopt_wait = std::chrono::milliseconds(adopt_wait);
  options.unpaid_sources = parse_sources(unpaid_sources);
  options.max_upload_bytes = static_cast<std::size_t>(max_upload);
  out.claim_ttl = std::chrono::milliseconds(claim_ttl);
  out.create_timeout = std::chrono::milliseconds(create_timeout);
  out.kie_budget = {static_cast<int>(kie_rate), std::chrono::milliseconds(kie_window)};
  out.limits = telegram_rate_limits(global_rate, chat_interval);
}

}  // namespace

std::optional<int> read_config(ServiceRuntime& rt, AppConfig& out) {
  auto& config = rt.config();
  rt.read_endpoints(8082, "health, metrics and KIE callbacks; 0 = any free port", "Redis holding jobs and claims",
                    true);
  out.token = config.required("TELEGRAM_BOT_TOKEN", "the bot token, to deliver results", true);
  out.telegram_base = config.str("TELEGRAM_API_BASE", "https://api.telegram.org", "Bot API server");
  out.kie_key = config.required("KIE_API_KEY", "KIE API key", true);
  out.kie_base = config.str("KIE_API_BASE", "https://api.kie.ai", "KIE API server");
  auto kie_upload = config.str("KIE_UPLOAD_BASE", "https://kieai.redpandaai.co",
                               "KIE file storage; results may be fetched from its origin");
  auto fetch_allow = config.str("FETCH_ALLOW_ORIGINS", "",
                                "comma-separated scheme://host:port that result fetches may reach even when private "
                                "(KIE's origins always may); others must be public addresses");
  auto public_base =
      config.optional("PUBLIC_BASE_URL", "public URL of this service for KIE callbacks; unset = polling only");
  auto callback_secret =
      config.optional("CALLBACK_SECRET", "HMAC key signing callback URLs (required with PUBLIC_BASE_URL)", true);
  auto webhook_key = config.optional(
      "KIE_WEBHOOK_HMAC_KEY", "KIE's webhook HMAC key: callbacks without KIE's signature are refused (unset = not checked)",
      true);
  out.accounts_url = config.str("ACCOUNTS_URL", "http://127.0.0.1:8083", "accounts service");
  out.accounts_token = config.required("ACCOUNTS_TOKEN", "bearer token for accounts", true);
  rt.read_identity();
  read_limits(config, out);
  if (!config.help_requested() && public_base && !public_base->empty() &&
      (!callback_secret || callback_secret->empty())) {
    return rt.config_error("CALLBACK_SECRET is required when PUBLIC_BASE_URL is set");
  }
  out.options.owner = rt.instance();
  out.options.public_base_url = public_base.value_or("");
  out.options.callback_secret = callback_secret.value_or("");
  out.options.webhook_hmac_key = webhook_key.value_or("");
  auto fetch_policy = std::make_shared<http::FetchPolicy>();
  try {
    *fetch_policy =
        http::configured_fetch_policy({{"KIE_API_BASE", out.kie_base}, {"KIE_UPLOAD_BASE", kie_upload}}, fetch_allow);
  } catch (const std::invalid_argument& e) {
    if (!config.help_requested()) return rt.config_error(e.what());
  }
  out.options.fetch_policy = fetch_policy;
  return std::nullopt;
}

http::ClientOptions download_options() {
  http::ClientOptions options;
  options.max_response_bytes = 64u << 20;
  options.timeout = std::chrono::seconds(60);
  return options;
}

net::awaitable<void> consume_then_leave(Generator* generator, kafka::Consumer* consumer) {
  struct Leave {
    kafka::Consumer* c;
    ~Leave() { c->close(); }  // the group rebalances at once, not after a session timeout
  } leave{consumer};
  co_await generator->consume(*consumer);
}

}  // namespace kiebot::generator
