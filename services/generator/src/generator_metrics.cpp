// Generator metric registration.
#include "generator_metrics.hpp"

namespace kiebot::generator {

Metrics& Metrics::get() {
  auto& r = metrics::registry();
  static Metrics m{
      r.counter("generator_jobs_accepted_total", "Jobs recorded from gen.jobs"),
      r.counter("generator_jobs_duplicate_total", "gen.jobs messages whose job id was seen before (not started again)"),
      r.counter("generator_dlq_total", "Invalid gen.jobs messages sent to gen.jobs.dlq"),
      r.gauge("generator_inflight", "Job steps this replica is running"),
      r.gauge("generator_consumer_paused", "1 while consumption is paused by backpressure"),
      r.counter("generator_claims_taken_over_total", "Jobs continued after another replica's claim expired"),
      r.counter("generator_tasks_adopted_total", "Tasks of unanswered submissions found through their verified callback"),
      r.counter("generator_deliveries_repeated_total",
                "Results sent again because the replica sending them died mid-send (the user may see them twice)"),
      r.counter("generator_deliveries_postponed_total",
                "Deliveries put off (rescheduled) because Telegram asked to wait longer than a step holds a job"),
      r.counter("generator_deliveries_undeliverable_total",
                "Results not delivered because the user blocked the bot or the chat is gone (the hold is committed)"),
      r.counter("generator_callbacks_total", "KIE callbacks with a good signature"),
      r.counter("generator_callbacks_forbidden_total", "KIE callbacks refused for their signature"),
      r.counter("generator_retries_total", "createTask attempts retried (429, 455, 5xx, not sent)"),
      r.counter("generator_kie_budget_waits_total",
                "New tasks put off because KIE's limit (KIE_RATE_LIMIT per KIE_RATE_WINDOW_MS, all replicas) was spent"),
      r.counter("generator_kie_credits_exhausted_total", "createTask answered 402: KIE's account is empty (page someone)"),
      r.counter("generator_hold_settle_retries_total",
                "commits and releases accounts did not answer, retried with backoff until it does"),
      r.counter("generator_unsafe_result_urls_total",
                "Jobs failed because a result URL pointed where fetches may not go (private, loopback, metadata...)"),
      r.histogram("generator_kie_seconds", "KIE API call latency"),
  };
  return m;
}

void Metrics::finished(const std::string& status, const std::string& model, const std::string& code) {
  metrics::registry()
      .counter("generator_jobs_finished_total", "Finished jobs by status, model and error code",
               {{"status", status}, {"model", model}, {"code", code}})
      .inc();
}

void Metrics::kie_answer(const std::string& call, const std::string& outcome) {
  metrics::registry()
      .counter("generator_kie_answers_total", "KIE answers by call and outcome", {{"call", call}, {"outcome", outcome}})
      .inc();
}

void Metrics::unpaid(const std::string& source, bool allowed) {
  metrics::registry()
      .counter("generator_unpaid_jobs_total", "Jobs without a hold: run (an allowlisted source) or refused",
               {{"source", allowed ? source : "other"}, {"result", allowed ? "run" : "refused"}})
      .inc();
}

void Metrics::payment_refused(const std::string& reason) {
  metrics::registry()
      .counter("generator_payment_refused_total", "Jobs failed before KIE because their hold did not pay for them",
               {{"reason", reason}})
      .inc();
}

void Metrics::input_refused(bool sold) {
  metrics::registry()
      .counter("generator_invalid_input_total", "Jobs failed before KIE: a model the catalog does not sell, or an invalid input",
               {{"reason", sold ? "input" : "model_not_sold"}})
      .inc();
}

void Metrics::delivery(const std::string& method, const std::string& outcome) {
  metrics::registry()
      .counter("generator_deliveries_total", "Result deliveries by method and outcome",
               {{"method", method}, {"outcome", outcome}})
      .inc();
}

}  // namespace kiebot::generator
