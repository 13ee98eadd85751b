// Submitting a job to KIE once, and recovering a submission whose answer
// never came (see docs/generator.md).
#include "generator.hpp"
#include "generator_metrics.hpp"
#include "job_step.hpp"
#include "kie_budget.hpp"
#include "kie_client.hpp"
#include "kiebot/base/errors.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/catalog/catalog.hpp"
#include "kiebot/runtime/backoff.hpp"
#include "messages.hpp"
#include "payment.hpp"
#include "settlement.hpp"

namespace kiebot::generator {

net::awaitable<void> Generator::job_to_dlq(Step& s, std::string reason) {
  kafka::Message original;
  original.topic = "gen.jobs";
  original.key = s.id();
  original.value = s.field("job");
  co_await to_dlq(std::move(original), std::move(reason));
}

net::awaitable<bool> Generator::check_payment(Step& s) {
  if (!s.job.hold_id || !s.field("hold_checked").empty()) co_return true;
  auto lookup = co_await look_up_hold(s_.accounts, *s.job.hold_id);
  std::optional<std::string> problem;
  if (lookup.kind == HoldLookup::Kind::retry) {
    auto attempts = s.number("hold_checks") + 1;
    auto delay = backoff_delay(std::chrono::seconds(1), std::chrono::seconds(30), static_cast<int>(attempts));
    if (lookup.status >= 400 && status_kind(lookup.status) == ErrorKind::permanent) {
      // Refused (a token or a scope to fix): reported, and looked at again
      // until the deadline like any other failure to verify.
      auto refused = std::make_exception_ptr(PermanentError("accounts answered " + std::to_string(lookup.status)));
      report_error("hold_check_refused", refused, {{"job_id", s.id()}});
    } else {
      log::warn("hold_check_failed", {{"job_id", s.id()}, {"status", lookup.status}, {"error", lookup.error}});
    }
    if (unix_ms() + delay.count() < s.job.deadline_ms()) {
      Fields counted{{"hold_checks", std::to_string(attempts)}};
      if (!co_await save(s, std::move(counted))) co_return false;
      co_await s_.store.reschedule(s.id(), unix_ms() + delay.count());
      co_return false;
    }
    problem = "hold_unverified";
  } else if (lookup.kind == HoldLookup::Kind::not_found) {
    problem = "hold_not_found";
  } else {
    problem = hold_problem(s.job, lookup.hold, s_.catalog);
  }
  if (!problem) {
    Fields checked{{"hold_checked", "1"}};
    co_return co_await save(s, std::move(checked));
  }
  // Not this job's to settle: the hold (perhaps someone else's) is left
  // alone, and a chat named by an unpaid job is not written to.
  Metrics::get().payment_refused(*problem);
  co_await job_to_dlq(s, *problem);
  Fields hands_off{{"hold_settled", "not_checked"}, {"notified", "skipped"}};
  if (!co_await save(s, std::move(hands_off))) co_return false;
  std::string reason = "the job's hold does not pay for it: " + *problem;
  co_await fail(s, *problem, std::move(reason));
  co_return false;
}

KieApi Generator::api_of(const Job& job) const {
  const auto* model = s_.catalog.by_id(job.model);
  // (Every catalog model's family is known: the generator checks at start.)
  return kie_api_named(model == nullptr ? "market" : model->api).value_or(KieApi::market);
}

net::awaitable<bool> Generator::check_input(Step& s) {
  const auto* model = s_.catalog.by_id(s.job.model);
  std::string code = model == nullptr ? "model_not_sold" : "invalid_input";
  auto problem = model == nullptr ? "model: " + s.job.model + " is not in the catalog"
                                  : s_.catalog.input_problem(*model, s.job.input);
  if (problem.empty() && kie_family(api_of(s.job)).callback_required && options_.public_base_url.empty()) {
    // KIE's Suno and Runway APIs refuse a task without callBackUrl: a
    // configuration to fix here, not the job's fault.
    code = "kie_callback_required";
    problem = "KIE's " + std::string(kie_family(api_of(s.job)).name) +
              " API requires a callback URL: set PUBLIC_BASE_URL (and CALLBACK_SECRET)";
    log::error("kie_callback_url_missing", {{"job_id", s.id()}, {"message", problem}});
  }
  if (problem.empty()) co_return true;
  if (code != "kie_callback_required") Metrics::input_refused(model != nullptr);
  log::warn("job_input_invalid", {{"job_id", s.id()}, {"model", s.job.model}, {"reason", problem}});
  co_await job_to_dlq(s, code + ": " + problem);
  co_await fail(s, std::move(code), std::move(problem));
  co_return false;
}

net::awaitable<void> Generator::submit(Step& s) {
  if (!co_await check_payment(s)) co_return;
  if (!co_await check_input(s)) co_return;
  if (auto wait = co_await s_.budget.take(s.id()); wait.count() > 0) {
    // KIE's limit is spent for now (all replicas together): due again when
    // a slot frees, spread a little so that the waiting jobs do not all
    // come back in the same millisecond.
    Metrics::get().kie_budget_waits.inc();
    auto due = unix_ms() + wait.count() + static_cast<std::int64_t>(s.id().size() % 7) * 50;
    if (due >= s.job.deadline_ms()) {
      co_await fail(s, "timeout", "KIE's limit of new tasks stayed spent until the deadline");
      co_return;
    }
    co_await s_.store.reschedule(s.id(), due);
    co_return;
  }
  Fields marker{{"state", "submitting"}, {"submitting_ms", std::to_string(unix_ms())}};
  if (!co_await save(s, std::move(marker))) co_return;
  auto started = std::chrono::steady_clock::now();
  auto callback = callback_url(s.id());
  auto result = co_await s_.kie.create_task(api_of(s.job), s.job.model, s.job.input, std::move(callback));
  Metrics::get().kie_seconds.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  switch (result.kind) {
    case Submitted::Kind::created:
      co_await submitted(s, std::move(result));
      co_return;
    case Submitted::Kind::retry:
      co_await submit_later(s, std::move(result));
      co_return;
    case Submitted::Kind::ambiguous:
      Metrics::kie_answer("createTask", "ambiguous");
      log::error("kie_submit_ambiguous", {{"job_id", s.id()}, {"error", result.message}});
      co_await adopt(s);
      co_return;
    case Submitted::Kind::no_credits:
    case Submitted::Kind::rejected:
    case Submitted::Kind::unauthorized:
      co_await submit_refused(s, std::move(result));
      co_return;
  }
}

net::awaitable<void> Generator::submitted(Step& s, Submitted result) {
  Metrics::kie_answer("createTask", "created");
  Fields running{{"state", "running"},
                 {"task_id", result.task_id},
                 {"submitted_ms", std::to_string(unix_ms())},
                 {"checks", "0"}};
  if (!co_await save(s, std::move(running))) co_return;
  log::info("job_submitted", {{"job_id", s.id()}, {"task_id", result.task_id}, {"model", s.job.model}});
  auto generating = message(s.job.language, "generating");
  co_await edit_status(s.job, std::move(generating));
  auto first = options_.public_base_url.empty() ? options_.first_check : options_.max_check;
  co_await s_.store.reschedule(s.id(), unix_ms() + first.count());
}

net::awaitable<void> Generator::submit_later(Step& s, Submitted result) {
  Metrics::kie_answer("createTask", "retry_" + std::to_string(result.code));
  Metrics::get().retries.inc();
  auto attempts = s.number("attempts") + 1;
  auto delay = backoff_delay(std::chrono::seconds(1), std::chrono::seconds(60), static_cast<int>(attempts));
  auto next = unix_ms() + delay.count();
  log::warn("job_submit_retry",
            {{"job_id", s.id()}, {"code", result.code}, {"message", result.message}, {"attempt", attempts}});
  if (next >= s.job.deadline_ms()) {
    std::string failure_code = "timeout";
    std::string failure_reason = "KIE kept refusing new tasks until the deadline";
    co_await fail(s, std::move(failure_code), std::move(failure_reason));
    co_return;
  }
  Fields retry{{"state", "accepted"}, {"attempts", std::to_string(attempts)}};
  if (!co_await save(s, std::move(retry))) co_return;
  co_await s_.store.reschedule(s.id(), next);
}

// KIE said no for good: its account is empty, our input is wrong, or our key is.
net::awaitable<void> Generator::submit_refused(Step& s, Submitted result) {
  std::string failure_code, failure_reason;
  if (result.kind == Submitted::Kind::no_credits) {
    Metrics::kie_answer("createTask", "no_credits");
    Metrics::get().kie_credits_exhausted.inc();
    log::error("kie_credits_exhausted",
               {{"job_id", s.id()}, {"message", "KIE's account has no credits left: top it up"}});
    failure_code = "kie_credits";
    failure_reason = result.message;
  } else if (result.kind == Submitted::Kind::rejected) {
    Metrics::kie_answer("createTask", "rejected");
    log::error("kie_rejected_input",
               {{"job_id", s.id()}, {"model", s.job.model}, {"code", result.code}, {"message", result.message}});
    failure_code = "invalid_input";
    failure_reason = result.message;
  } else {
    Metrics::kie_answer("createTask", "unauthorized");
    log::error("kie_unauthorized", {{"job_id", s.id()}, {"message", "KIE refused KIE_API_KEY"}});
    failure_code = "kie_rejected";
    failure_reason = "KIE refused the API key";
  }
  co_await fail(s, std::move(failure_code), std::move(failure_reason));
}

// A replica stopped between sending createTask and recording its answer,
// or KIE's answer never came: KIE may have a paid task for this job. It is
// never submitted again. With callbacks, KIE names the task when it ends;
// a task whose recorded callBackUrl is this job's signed URL is adopted.
// Without one within ADOPT_WAIT_MS (or without callbacks at all) the job
// fails and its hold is released: the user is not charged, and a task KIE
// may still run costs KIE credits only.
net::awaitable<void> Generator::adopt(Step& s) {
  auto named = s.field("callback_task_id");
  if (!named.empty()) {
    auto task = co_await s_.kie.record_info(api_of(s.job), named);
    if (task.kind != TaskState::Kind::unknown && !task.callback_url.empty() &&
        task.callback_url == callback_url(s.id())) {
      Metrics::get().adopted.inc();
      log::warn("job_task_adopted", {{"job_id", s.id()}, {"task_id", named}});
      Fields running{
          {"state", "running"}, {"task_id", named}, {"submitted_ms", std::to_string(unix_ms())}, {"checks", "0"}};
      if (!co_await save(s, std::move(running))) co_return;
      co_await check(s);
      co_return;
    }
    log::warn("callback_task_unverified", {{"job_id", s.id()}, {"task_id", named}});
  }
  auto wait_until = std::min(s.job.deadline_ms(), s.number("submitting_ms") + options_.adopt_wait.count());
  if (!options_.public_base_url.empty() && unix_ms() < wait_until) {
    // Wait for KIE's callback (it pokes the job); look again now and then.
    co_await s_.store.reschedule(s.id(), std::min(unix_ms() + options_.max_check.count(), wait_until + 1));
    co_return;
  }
  std::string failure_code = "ambiguous_submit";
  std::string failure_reason = "the submission's outcome is unknown (no answer from KIE, or a replica stopped)";
  co_await fail(s, std::move(failure_code), std::move(failure_reason));
}

}  // namespace kiebot::generator
