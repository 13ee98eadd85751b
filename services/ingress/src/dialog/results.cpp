// gen.results -> the dialog's job records (see results.hpp).
#include "kiebot/common/json.hpp"
#include "results.hpp"

#include <nlohmann/json.hpp>

#include "dialog_metrics.hpp"
#include "kiebot/common/backoff.hpp"
#include "kiebot/common/kafka.hpp"
#include "kiebot/common/log.hpp"
#include "kiebot/common/redis.hpp"
#include "store.hpp"

namespace kiebot::dialog {

net::awaitable<void> follow_results(kafka::Consumer& consumer, Store& store) {
  Backoff backoff(std::chrono::milliseconds(200), std::chrono::seconds(5));
  while (true) {
    auto messages = co_await consumer.poll(200, std::chrono::milliseconds(500));
    if (messages.empty()) continue;
    for (const auto& message : messages) {
      auto event = parse_untrusted(message.value);
      if (!event.is_object()) continue;
      auto job_id = string_field(event, "job_id");
      auto user_id = int_field(event, "user_id");
      if (!job_id.starts_with("dlg-") || user_id <= 0) continue;
      // Retried until Redis takes it: the consumer's position is past it.
      while (true) {
        std::string failure;
        try {
          auto status = string_field(event, "status") == "succeeded" ? "succeeded" : "failed";
          co_await store.finish_job(user_id, job_id, status);
          Metrics::get().results.inc();
        } catch (const redis::Error& e) {
          failure = e.what();
        }
        if (failure.empty()) break;
        log::warn("result_record_failed", {{"job_id", job_id}, {"error", failure}});
        if (!co_await sleep_for(backoff.next())) co_return;
      }
      backoff.reset();
    }
    std::string commit_failure;
    try {
      co_await consumer.commit(std::move(messages));
    } catch (const kafka::Error& e) {
      commit_failure = e.what();
    }
    if (!commit_failure.empty()) log::info("results_commit_failed", {{"error", commit_failure}});
  }
}

}  // namespace kiebot::dialog
