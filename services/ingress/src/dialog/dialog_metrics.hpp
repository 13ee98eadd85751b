// The dialog's Prometheus series (served at /metrics with the poller's).
#pragma once

#include <string>

#include "kiebot/base/metrics.hpp"

namespace kiebot::dialog {

struct Metrics {
  static Metrics& get();

  void update(const std::string& kind);         // updates handled, by kind
  void outcome(const std::string& result);      // ok, duplicate, retried, failed, unreadable
  void submissions(const std::string& result);  // free, admin, paid, refused, publish_failed
  void payments(const std::string& result);
  void admin(const std::string& action);
  void money(const std::string& result);  // done, queued, retried, refused

  metrics::Counter& callbacks_answered;
  metrics::Counter& callbacks_answered_by_watchdog;
  metrics::Counter& expired_callbacks;
  metrics::Counter& duplicate_submissions;
  metrics::Counter& gifts;
  metrics::Counter& referrals;
  metrics::Counter& results;
  metrics::Gauge& chats_in_flight;
  metrics::Gauge& updates_buffered;
  metrics::Gauge& money_pending;
  metrics::Gauge& money_oldest_age;
  metrics::Histogram& handle_seconds;
};

}  // namespace kiebot::dialog
