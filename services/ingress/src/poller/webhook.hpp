// Webhook mode: every replica accepts POST /telegram/webhook and publishes
// the update before answering 200; the lease holder registers the webhook.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "kiebot/http/http.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot {
class Lease;
namespace kafka {
class Producer;
}
namespace http {
class Router;
}
}  // namespace kiebot

namespace kiebot::ingress {

class BotApi;

constexpr const char* kWebhookPath = "/telegram/webhook";

class WebhookReceiver {
 public:
  WebhookReceiver(kafka::Producer& producer, const Lease& lease, std::string secret, std::string topic);
  // Adds POST /telegram/webhook.
  void add_routes(http::Router& router);
  // 403 without the secret header, 400 for a body that is not an update,
  // 503 when Kafka did not acknowledge (Telegram retries), else 200.
  net::awaitable<http::Response> handle(http::Request request);

 private:
  kafka::Producer& producer_;
  const Lease& lease_;
  std::string secret_;
  std::string topic_;
};

struct WebhookOptions {
  std::string url;     // TELEGRAM_WEBHOOK_URL, ending in /telegram/webhook
  std::string secret;  // TELEGRAM_WEBHOOK_SECRET
  std::chrono::seconds check_every{60};
};

// The lease holder's work in webhook mode: setWebhook (retried with
// backoff), then a periodic getWebhookInfo that sets it again if someone
// changed it and logs Telegram's last delivery error.
class WebhookRegistrar {
 public:
  WebhookRegistrar(BotApi& api, WebhookOptions options);
  net::awaitable<void> run(std::int64_t epoch);

 private:
  net::awaitable<bool> register_webhook();

  BotApi& api_;
  WebhookOptions options_;
};

}  // namespace kiebot::ingress
