// gen.results -> the dialog's job records (see results.hpp).
#include "results.hpp"
#include "kiebot/base/json.hpp"

#include <nlohmann/json.hpp>

#include "dialog_metrics.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/kafka/consume.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/redis/redis.hpp"
#include "kiebot/runtime/backoff.hpp"
#include "store.hpp"

namespace kiebot::dialog {

namespace {

// True once the result is recorded (or is not the dialog's); false when
// cancelled first.
net::awaitable<bool> record_result(Store* store, kafka::Message message) {
  auto event = parse_untrusted(message.value);
  if (!event.is_object()) co_return true;
  auto job_id = string_field(event, "job_id");
  auto user_id = int_field(event, "user_id");
  if (!job_id.starts_with("dlg-") || user_id <= 0) co_return true;
  Backoff backoff(std::chrono::milliseconds(200), std::chrono::seconds(5));
  // Retried until Redis takes it: the partition's later results wait for it.
  while (true) {
    std::string failure;
    try {
      auto status = string_field(event, "status") == "succeeded" ? "succeeded" : "failed";
      co_await store->finish_job(user_id, job_id, status);
      Metrics::get().results.inc();
    } catch (const redis::Error& e) {
      failure = e.what();
    }
    if (failure.empty()) co_return true;
    log::warn("result_record_failed", {{"job_id", job_id}, {"error", failure}});
    if (!co_await sleep_for(backoff.next())) co_return false;
  }
}

}  // namespace

net::awaitable<void> follow_results(kafka::Consumer& consumer, Store& store) {
  kafka::ConsumeOptions options;
  options.name = "dialog-results";
  options.max_batch = 200;
  options.poll_wait = std::chrono::milliseconds(500);
  options.max_buffered = 200;
  options.drain = std::chrono::seconds(2);
  kafka::ConsumeHandlers handlers;
  handlers.handle = [store = &store](kafka::Message message) { return record_result(store, std::move(message)); };
  co_await kafka::consume(consumer, std::move(options), std::move(handlers));
}

}  // namespace kiebot::dialog
