// The generator's metrics (GET /metrics).
#pragma once

#include <string>

#include "kiebot/base/metrics.hpp"

namespace kiebot::generator {

struct Metrics {
  metrics::Counter& accepted;
  metrics::Counter& duplicates;
  metrics::Counter& dlq;
  metrics::Gauge& inflight;
  metrics::Gauge& paused;
  metrics::Counter& taken_over;
  metrics::Counter& adopted;
  metrics::Counter& deliveries_repeated;
  metrics::Counter& deliveries_postponed;
  metrics::Counter& deliveries_undeliverable;
  metrics::Counter& callbacks;
  metrics::Counter& callbacks_forbidden;
  metrics::Counter& retries;
  metrics::Counter& kie_budget_waits;
  metrics::Counter& kie_credits_exhausted;
  metrics::Counter& settle_retries;
  metrics::Counter& unsafe_result_urls;
  metrics::Histogram& kie_seconds;

  static Metrics& get();
  // Labelled families, looked up per use.
  static void finished(const std::string& status, const std::string& model, const std::string& code);
  static void kie_answer(const std::string& call, const std::string& outcome);
  static void delivery(const std::string& method, const std::string& outcome);
  // Jobs without a hold, by source (refused ones under "other": a source
  // is the publisher's text, and must not make a series each).
  static void unpaid(const std::string& source, bool allowed);
  // Jobs whose hold did not pay for them, by reason code.
  static void payment_refused(const std::string& reason);
  static void input_refused(bool sold);
};

}  // namespace kiebot::generator
