// Dialog metrics (see dialog_metrics.hpp).
#include "dialog_metrics.hpp"

namespace kiebot::dialog {

namespace {
metrics::Registry& r() {
  return metrics::registry();
}
}  // namespace

Metrics& Metrics::get() {
  static Metrics m{
      r().counter("dialog_callbacks_answered_total", "callback queries answered by their handler"),
      r().counter("dialog_callbacks_answered_by_watchdog_total",
                  "callback queries answered empty because their chat was busy"),
      r().counter("dialog_expired_callbacks_total", "presses of stale, foreign or forged buttons"),
      r().counter("dialog_duplicate_submissions_total", "the same generation submitted twice within the window"),
      r().counter("dialog_gifts_total", "gift wheels spun"),
      r().counter("dialog_referrals_total", "referrals joined"),
      r().counter("dialog_results_total", "gen.results events applied to users' history"),
      r().gauge("dialog_chats_in_flight", "chats with an update being handled"),
      r().gauge("dialog_updates_buffered", "updates consumed and not yet handled"),
      r().gauge("money_operations_pending", "money operations waiting for accounts (payments, refunds, grants)"),
      r().gauge("money_operations_oldest_age_seconds", "age of the oldest pending money operation (0: none)"),
      r().histogram("dialog_handle_seconds", "time to handle one update"),
  };
  return m;
}

void Metrics::update(const std::string& kind) {
  r().counter("dialog_updates_total", "updates handled by kind", {{"kind", kind}}).inc();
}
void Metrics::outcome(const std::string& result) {
  r().counter("dialog_update_outcomes_total", "updates by outcome (failed: retries exhausted, user apologized to)",
              {{"result", result}})
      .inc();
}
void Metrics::submissions(const std::string& result) {
  r().counter("dialog_submissions_total", "generation submissions by payer or refusal", {{"result", result}}).inc();
}
void Metrics::payments(const std::string& result) {
  r().counter("dialog_payments_total", "Stars payment events", {{"result", result}}).inc();
}
void Metrics::money(const std::string& result) {
  r().counter("money_operations_total", "money operations by outcome (queued: accounts did not answer at once)",
              {{"result", result}})
      .inc();
}
void Metrics::admin(const std::string& action) {
  r().counter("dialog_admin_actions_total", "admin actions (denied: by a non-admin)", {{"action", action}}).inc();
}

}  // namespace kiebot::dialog
