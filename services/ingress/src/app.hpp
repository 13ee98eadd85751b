// The ingress binary's own wiring: its config, the Telegram edge (poller or
// webhook behind the lease) and the dialog's consumers. main.cpp uses these;
// the dialog is used only through its public interface.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "dialog/dialog.hpp"
#include "dialog/dispatcher.hpp"
#include "dialog/store.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/redis/lease.hpp"
#include "kiebot/redis/rate_limiter.hpp"
#include "kiebot/service/service_runtime.hpp"
#include "poller/bot_api.hpp"
#include "poller/offset_store.hpp"
#include "poller/poller.hpp"
#include "poller/webhook.hpp"

namespace kiebot::ingress {

struct AppConfig {
  std::string token;
  std::string api_base;
  std::chrono::milliseconds lease_ttl{10'000};
  std::chrono::seconds long_poll{25};
  std::string mode = "polling";
  bool delete_webhook = false;
  std::string webhook_url;
  std::string webhook_secret;
  std::chrono::milliseconds publish_timeout{10'000};
  bool dialog_on = true;
  std::string accounts_url;
  std::string accounts_token;
  std::string admin_api_token;
  std::chrono::seconds state_ttl{86'400};
  dialog::DispatcherOptions dispatcher;
  RateLimits limits;
  dialog::DialogOptions dialog;
};

// Reads every variable ingress takes (see --help) into `out`; an exit code
// when one is inconsistent (the runtime's start() reports the rest).
std::optional<int> read_config(ServiceRuntime& rt, AppConfig& out);

// The producer of tg.updates and the dialog's jobs.
kafka::ProducerOptions producer_options(const ServiceRuntime& rt, const AppConfig& config);

// The Telegram edge: in polling mode the lease holder polls getUpdates into
// Kafka; in webhook mode it keeps the webhook registered and any replica
// receives updates.
class Edge {
 public:
  Edge(ServiceRuntime& rt, const AppConfig& config, kafka::Producer& producer, http::Client& http_client);
  // Facts for /readyz: the mode, this instance and whether it holds the lease.
  std::function<nlohmann::json()> details();
  void add_routes(http::Router& router);
  void start(ServiceRuntime& rt);

 private:
  const AppConfig& config_;
  std::string instance_;
  BotApi api_;
  Lease lease_;
  OffsetStore offsets_;
  Poller poller_;
  WebhookReceiver receiver_;
  WebhookRegistrar registrar_;
};

// With DIALOG=1: consumes tg.updates into the dialog and gen.results into
// its store, and runs the money queue.
class DialogConsumers {
 public:
  DialogConsumers(ServiceRuntime& rt, const AppConfig& config, dialog::Dialog& dialog, dialog::Store& store);
  ~DialogConsumers();

 private:
  std::unique_ptr<dialog::Dispatcher> dispatcher_;
  std::unique_ptr<kafka::Consumer> results_;
};

}  // namespace kiebot::ingress
