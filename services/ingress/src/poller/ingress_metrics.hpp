// The poller's and the webhook receiver's metrics (GET /metrics).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kiebot/base/metrics.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "update_scan.hpp"

namespace kiebot::ingress {

struct Metrics {
  metrics::Counter& received;
  metrics::Counter& published;
  metrics::Counter& batches;
  metrics::Gauge& offset;
  metrics::Counter& conflicts_other_poller;
  metrics::Counter& conflicts_webhook;
  metrics::Counter& throttled;
  metrics::Counter& telegram_errors;
  metrics::Counter& publish_failures;
  metrics::Counter& fenced;
  metrics::Counter& failovers;
  metrics::Counter& skipped;
  metrics::Histogram& publish_seconds;
  metrics::Counter& webhook_accepted;
  metrics::Counter& webhook_forbidden;
  metrics::Counter& webhook_invalid;
  metrics::Counter& webhook_failed;

  static Metrics& get();
};

// The Kafka messages for updates: key = chat (or user) id, value = the
// update exactly as received, headers update_id, epoch, received_at_ms.
// Their timestamp is `authorized_ms`: when the publish was checked against
// the lease (0: when produced).
std::vector<kafka::OutMessage> to_messages(const std::vector<RawUpdate>& updates, const std::string& topic,
                                           std::int64_t epoch, std::int64_t received_at_ms,
                                           std::int64_t authorized_ms = 0);

}  // namespace kiebot::ingress
