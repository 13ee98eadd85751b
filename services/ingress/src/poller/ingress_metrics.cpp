// Metric registration and the update -> Kafka message mapping.
#include "ingress_metrics.hpp"

namespace kiebot::ingress {

Metrics& Metrics::get() {
  auto& r = metrics::registry();
  // Publish-to-confirm latency sits in single milliseconds; the buckets are
  // fine-grained where the 20 ms objective is.
  std::vector<double> publish_buckets{0.001, 0.002, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05,
                                      0.1,   0.25,  0.5,   1,      2.5,  5,     10,   30};
  static Metrics m{
      r.counter("ingress_updates_received_total", "Updates received from Telegram (getUpdates or webhook)"),
      r.counter("ingress_updates_published_total", "Updates acknowledged by Kafka on tg.updates"),
      r.counter("ingress_batches_total", "getUpdates batches published and confirmed"),
      r.gauge("ingress_offset", "Next update_id this replica asks Telegram for"),
      r.counter("ingress_telegram_conflicts_total", "409 Conflict from getUpdates", {{"cause", "other_poller"}}),
      r.counter("ingress_telegram_conflicts_total", "409 Conflict from getUpdates", {{"cause", "webhook_active"}}),
      r.counter("ingress_telegram_throttled_total", "429 Too Many Requests from Telegram"),
      r.counter("ingress_telegram_errors_total", "getUpdates failures other than 409 and 429 (5xx, timeouts, network)"),
      r.counter("ingress_publish_failures_total", "Batch publishes Kafka did not acknowledge in time (retried)"),
      r.counter("ingress_fenced_total", "Batches dropped because this replica no longer held the lease"),
      r.counter("ingress_failovers_total", "Times this replica took over polling from another replica"),
      r.counter("ingress_updates_skipped_total",
                "Updates received again after a takeover that the previous holder had already published"),
      r.histogram("ingress_publish_seconds", "From a batch's arrival to its offset stored (publish-to-confirm)", {},
                  publish_buckets),
      r.counter("ingress_webhook_requests_total", "Webhook requests", {{"result", "accepted"}}),
      r.counter("ingress_webhook_requests_total", "Webhook requests", {{"result", "forbidden"}}),
      r.counter("ingress_webhook_requests_total", "Webhook requests", {{"result", "invalid"}}),
      r.counter("ingress_webhook_requests_total", "Webhook requests", {{"result", "kafka_failed"}}),
  };
  return m;
}

std::vector<kafka::OutMessage> to_messages(const std::vector<RawUpdate>& updates, const std::string& topic,
                                           std::int64_t epoch, std::int64_t received_at_ms, std::int64_t authorized_ms) {
  std::vector<kafka::OutMessage> out;
  out.reserve(updates.size());
  auto epoch_text = std::to_string(epoch);
  auto received_text = std::to_string(received_at_ms);
  for (const auto& u : updates) {
    kafka::OutMessage m;
    m.topic = topic;
    if (u.key != 0) m.key = std::to_string(u.key);
    m.value = std::string(u.json);
    m.headers = {{"update_id", std::to_string(u.update_id)}, {"epoch", epoch_text}, {"received_at_ms", received_text}};
    m.timestamp_ms = authorized_ms;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace kiebot::ingress
