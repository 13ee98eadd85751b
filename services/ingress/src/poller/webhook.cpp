// Webhook receiver and registrar (see webhook.hpp).
#include "webhook.hpp"
#include "kiebot/base/clock.hpp"
#include "kiebot/base/json.hpp"

#include <nlohmann/json.hpp>

#include "bot_api.hpp"
#include "ingress_metrics.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/http/router.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/redis/lease.hpp"
#include "kiebot/runtime/backoff.hpp"
#include "kiebot/runtime/lifecycle.hpp"
#include "poller.hpp"

namespace kiebot::ingress {

WebhookReceiver::WebhookReceiver(kafka::Producer& producer, const Lease& lease, std::string secret, std::string topic)
    : producer_(producer), lease_(lease), secret_(std::move(secret)), topic_(std::move(topic)) {}

void WebhookReceiver::add_routes(http::Router& router) {
  // Telegram's secret is checked on the headers, before the body is read.
  router.add("POST", kWebhookPath, http::Handler([this](http::Request r) { return handle(std::move(r)); }),
             http::secret_header_guard("X-Telegram-Bot-Api-Secret-Token", "", secret_, 403,
                                       [] { Metrics::get().webhook_forbidden.inc(); }));
}

net::awaitable<http::Response> WebhookReceiver::handle(http::Request request) {
  auto& m = Metrics::get();
  RawUpdate update;
  try {
    update = scan_update(request.body);
  } catch (const ScanError& e) {
    m.webhook_invalid.inc();
    co_return http::Response::error(400, "invalid_update", e.what());
  }
  m.received.inc();
  std::vector<RawUpdate> one{update};
  auto messages = to_messages(one, topic_, lease_.held() ? lease_.epoch() : 0, unix_ms());
  bool sent = false;
  try {
    co_await producer_.send_batch(std::move(messages));
    sent = true;
  } catch (const kafka::Error& e) {
    log::error("webhook_publish_failed", {{"update_id", update.update_id}, {"error", e.what()}});
  }
  if (!sent) {
    m.webhook_failed.inc();
    // Telegram retries a failed delivery, so the update is not lost.
    co_return http::Response::error(503, "kafka_unavailable", "the update could not be stored; retry later");
  }
  m.published.inc();
  co_return http::Response::json(200, nlohmann::json::object());
}

WebhookRegistrar::WebhookRegistrar(BotApi& api, WebhookOptions options) : api_(api), options_(std::move(options)) {}

net::awaitable<bool> WebhookRegistrar::register_webhook() {
  nlohmann::json params = {{"url", options_.url},
                           {"secret_token", options_.secret},
                           {"allowed_updates", allowed_updates()},
                           {"drop_pending_updates", false}};
  auto body = params.dump();
  auto answer = co_await api_.call("setWebhook", std::move(body), std::chrono::seconds(10));
  if (answer.kind == Answer::Kind::unauthorized) {
    throw ExitError(2, "Telegram refused TELEGRAM_BOT_TOKEN (" + std::to_string(answer.status) + " " +
                           answer.description + "): check the token with @BotFather and TELEGRAM_API_BASE");
  }
  if (answer.kind != Answer::Kind::ok) {
    log::error("set_webhook_failed", {{"status", answer.status}, {"description", answer.description}});
    co_return false;
  }
  log::info("webhook_set", {{"url", options_.url}});
  co_return true;
}

net::awaitable<void> WebhookRegistrar::run(std::int64_t epoch) {
  log::info("webhook_registrar", {{"epoch", epoch}});
  Backoff backoff(std::chrono::seconds(1), std::chrono::seconds(60));
  while (!co_await register_webhook()) {
    if (!co_await sleep_for(backoff.next())) co_return;
  }
  std::int64_t reported_error_date = 0;
  while (co_await sleep_for(options_.check_every)) {
    std::string empty = "{}";
    auto info = co_await api_.call("getWebhookInfo", std::move(empty), std::chrono::seconds(10));
    if (info.kind != Answer::Kind::ok) continue;
    auto answer = parse_untrusted(info.body);
    if (!answer.is_object() || !answer.contains("result") || !answer["result"].is_object()) continue;
    const auto& result = answer["result"];
    if (result.value("url", "") != options_.url) {
      log::warn("webhook_changed", {{"url", result.value("url", "")}, {"message", "setting it again"}});
      co_await register_webhook();
    }
    auto error_date = result.value("last_error_date", std::int64_t{0});
    if (error_date != reported_error_date && result.contains("last_error_message")) {
      reported_error_date = error_date;
      log::warn("webhook_delivery_errors", {{"last_error_message", result["last_error_message"]},
                                            {"last_error_date", error_date},
                                            {"pending_update_count", result.value("pending_update_count", 0)}});
    }
  }
}

}  // namespace kiebot::ingress
