// The delivering step's end: what a delivery's outcome means for the job.
// A chat that cannot take messages ends the delivery (the result was made
// and KIE charged for it, so the hold is committed as for a delivered one);
// a long flood wait puts the delivery off durably, from the first result
// still to send, and frees this replica for other jobs meanwhile.
#include "delivery.hpp"
#include "generator.hpp"
#include "generator_metrics.hpp"
#include "job_step.hpp"
#include "kiebot/base/clock.hpp"
#include "kiebot/base/log.hpp"
#include "messages.hpp"

namespace kiebot::generator {

net::awaitable<bool> Generator::delivery_ended(Step& s, Delivery sent) {
  if (sent.outcome == kUnsafeResultUrl) {
    // A download was redirected (or re-resolved) to a refused address.
    Metrics::get().unsafe_result_urls.inc();
    Fields marker{{"delivered", "failed"}};
    if (!co_await save(s, std::move(marker))) co_return false;
    std::string failure_code = kUnsafeResultUrl;
    std::string failure_reason = "a result download was refused by the fetch policy";
    co_await fail(s, std::move(failure_code), std::move(failure_reason));
    co_return false;
  }
  if (sent.outcome == "later") {
    auto waits = s.number("delivery_waits") + 1;
    if (waits <= kMaxDeliveryWaits) {
      Fields waiting{{"delivered", "waiting"},
                     {"delivery_next", std::to_string(sent.next)},
                     {"delivery_waits", std::to_string(waits)}};
      if (!co_await save(s, std::move(waiting))) co_return false;
      Metrics::get().deliveries_postponed.inc();
      log::info("delivery_postponed",
                {{"job_id", s.id()}, {"retry_after_s", sent.retry_after_s}, {"next", sent.next}, {"waits", waits}});
      co_await s_.store.reschedule(s.id(), unix_ms() + sent.retry_after_s * 1000);
      co_return false;
    }
    log::warn("delivery_abandoned", {{"job_id", s.id()}, {"waits", waits - 1}});
    sent.outcome = "failed";
  }
  Fields marker{{"delivered", sent.outcome}};
  if (!co_await save(s, std::move(marker))) co_return false;
  if (sent.outcome == "chat_unavailable") {
    Metrics::get().deliveries_undeliverable.inc();
    log::info("delivery_chat_unavailable", {{"job_id", s.id()}, {"chat_id", *s.job.chat_id}, {"model", s.job.model}});
    co_return true;  // no status message to edit there either
  }
  auto done_text = message(s.job.language, "done");
  co_await edit_status(s.job, std::move(done_text));
  co_return true;
}

}  // namespace kiebot::generator
