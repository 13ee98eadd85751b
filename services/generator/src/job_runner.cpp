// One step of a claimed job: submit, check, deliver, settle, report. Each
// sub-step leaves a marker in the job's record, so a replica continuing a
// job another one left does not repeat what was done.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cmath>

#include "generator.hpp"
#include "delivery.hpp"
#include "generator_metrics.hpp"
#include "job_step.hpp"
#include "kie_client.hpp"
#include "kiebot/base/errors.hpp"
#include "kiebot/base/json.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/redis/rate_limiter.hpp"
#include "kiebot/redis/redis.hpp"
#include "kiebot/runtime/backoff.hpp"
#include "kiebot/telegram/telegram.hpp"
#include "messages.hpp"
#include "settlement.hpp"

namespace kiebot::generator {

using nlohmann::json;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

bool delivered_to_chat(const std::string& outcome) {
  return !outcome.empty() && outcome != "failed" && outcome != "chat_unavailable";
}

}  // namespace

net::awaitable<bool> Generator::save(Step& s, Fields fields) {
  auto local = fields;
  if (!co_await s_.store.update(s.id(), std::move(fields))) {
    log::warn("claim_lost", {{"job_id", s.id()}, {"message", "another replica has this job now"}});
    co_return false;
  }
  for (auto& [k, v] : local) s.fields[k] = std::move(v);
  co_return true;
}

net::awaitable<void> Generator::run_job(Claimed claimed) {
  struct Release {
    Generator* g;
    ~Release() {
      --g->inflight_;
      Metrics::get().inflight.set(static_cast<double>(g->inflight_));
      g->wake();
    }
  } release{this};
  Step s;
  s.claimed = std::move(claimed);
  auto fields = co_await s_.store.load(s.id());
  if (!fields) {
    co_await s_.store.finish(s.id());
    co_return;
  }
  s.fields = std::move(*fields);
  auto parsed = parse_job(s.field("job"));
  if (auto* reason = std::get_if<std::string>(&parsed)) {
    log::error("job_record_unreadable", {{"job_id", s.id()}, {"reason", *reason}});
    co_await s_.store.finish(s.id());
    co_return;
  }
  s.job = std::move(std::get<Job>(parsed));
  auto started = std::chrono::steady_clock::now();
  auto state = s.field("state");
  // The claim is extended while the step runs (a Telegram flood wait or a
  // large upload can outlast it); whichever ends first stops the other.
  std::exception_ptr failure;
  co_await (guarded_step(&s, &failure) || keep_claim(s.id()));
  if (failure) {
    co_await step_failed(s, std::move(failure));
    co_return;
  }
  log::debug(
      "job_step",
      {{"job_id", s.id()},
       {"from", state},
       {"to", s.field("state")},
       {"ms",
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count()}});
}

net::awaitable<void> Generator::guarded_step(Step* s, std::exception_ptr* failure) {
  // `||` waits for the first branch that succeeds: a step that threw would
  // leave keep_claim running forever, so it never throws.
  try {
    co_await step(*s);
  } catch (...) {
    *failure = std::current_exception();
  }
}

// A transient failure (Redis, Kafka or the network away) leaves the job
// claimed: the claim runs out and the step is tried again, here or on
// another replica. Anything else would fail the same way again, so it is
// not retried: reported (a bug loudly), and the job fails at once, its hold
// released and its user told. A bug on the way to failing is left to the
// claim, and reported again each time.
net::awaitable<void> Generator::step_failed(Step& s, std::exception_ptr failure) {
  json context = {{"job_id", s.id()}, {"state", s.field("state")}, {"model", s.job.model}};
  auto kind = report_error("job_step_failed", failure, context);
  if (kind == ErrorKind::cancelled) std::rethrow_exception(failure);
  if (kind == ErrorKind::transient || s.field("state") == "failing") co_return;
  std::exception_ptr again;
  try {
    std::string failure_code = "internal_error";
    std::string failure_reason = kind == ErrorKind::bug ? "an internal error" : error_message(failure);
    co_await fail(s, std::move(failure_code), std::move(failure_reason));
  } catch (...) {
    again = std::current_exception();
  }
  if (again) report_error("job_fail_failed", again, context);
}

net::awaitable<void> Generator::keep_claim(std::string job_id) {
  auto every = s_.store.claim_ttl() / 3;
  while (co_await sleep_for(every)) {
    bool ours = false;
    try {
      ours = co_await s_.store.extend(job_id);
    } catch (const redis::Error&) {
      report_error("claim_extend_failed", std::current_exception(), {{"job_id", job_id}});
      continue;
    }
    // Lost: another replica continues the job; this step's writes are
    // refused from now on, so it is left to finish on its own.
    if (!ours) break;
  }
  // Never ends on its own while the claim is ours: the step ends the race.
  auto executor = co_await net::this_coro::executor;
  net::steady_timer forever(executor, net::steady_timer::time_point::max());
  co_await forever.async_wait(net::as_tuple(net::use_awaitable));
}

net::awaitable<void> Generator::step(Step& s) {
  auto state = s.field("state");
  if (state == "succeeded" || state == "failed") {
    co_await s_.store.finish(s.id());
    co_return;
  }
  bool early = state == "accepted" || state == "submitting" || state == "running";
  if (early && unix_ms() > s.job.deadline_ms()) {
    {
      std::string failure_code = "timeout";
      std::string failure_reason = "the job's deadline passed";
      co_await fail(s, std::move(failure_code), std::move(failure_reason));
    }
  } else if (state == "accepted") {
    co_await submit(s);
  } else if (state == "submitting") {
    co_await adopt(s);
  } else if (state == "running") {
    co_await check(s);
  } else if (state == "delivering") {
    auto urls = parse_untrusted(s.field("result_urls"));
    std::vector<std::string> list;
    if (urls.is_array()) {
      for (const auto& u : urls) list.push_back(u.get<std::string>());
    }
    co_await succeed(s, std::move(list));
  } else if (state == "failing") {
    {
      std::string failure_code = s.field("error_code");
      std::string failure_reason = s.field("error_message");
      co_await fail(s, std::move(failure_code), std::move(failure_reason));
    }
  } else {
    log::error("job_state_unknown", {{"job_id", s.id()}, {"state", state}});
    co_await s_.store.finish(s.id());
  }
}

net::awaitable<void> Generator::check(Step& s) {
  auto started = std::chrono::steady_clock::now();
  auto task_id = s.field("task_id");
  auto task = co_await s_.kie.record_info(api_of(s.job), std::move(task_id));
  Metrics::get().kie_seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (task.kind == TaskState::Kind::success) {
    Metrics::kie_answer("recordInfo", "success");
    auto refusal = co_await vet_results(task.result_urls);
    if (!refusal.empty()) {
      Metrics::get().unsafe_result_urls.inc();
      log::warn("unsafe_result_url", {{"job_id", s.id()}, {"reason", refusal}});
      std::string failure_code = "unsafe_result_url";
      co_await fail(s, std::move(failure_code), std::move(refusal));
      co_return;
    }
    json urls = task.result_urls;
    Fields delivering{
        {"state", "delivering"}, {"result_urls", urls.dump()}, {"cost_time_ms", std::to_string(task.cost_time_ms)}};
    if (!task.result_info.empty()) delivering["result_info"] = info_to_json(task.result_info).dump();
    if (!co_await save(s, std::move(delivering))) co_return;
    co_await succeed(s, std::move(task.result_urls));
    co_return;
  }
  if (task.kind == TaskState::Kind::fail) {
    Metrics::kie_answer("recordInfo", "fail");
    log::warn("kie_task_failed",
              {{"job_id", s.id()}, {"fail_code", task.fail_code}, {"fail_message", task.fail_message}});
    {
      std::string failure_code = "kie_failed";
      std::string failure_reason = task.fail_code + ": " + task.fail_message;
      co_await fail(s, std::move(failure_code), std::move(failure_reason));
    }
    co_return;
  }
  Metrics::kie_answer("recordInfo", task.kind == TaskState::Kind::pending ? "pending" : "error");
  if (task.kind == TaskState::Kind::unknown) log::warn("kie_check_failed", {{"job_id", s.id()}, {"error", task.error}});
  // 3 s growing by half each check to 30 s, never past the deadline.
  auto checks = s.number("checks") + 1;
  auto delay =
      std::min<double>(static_cast<double>(options_.first_check.count()) * std::pow(1.5, static_cast<double>(checks)),
                       static_cast<double>(options_.max_check.count()));
  auto next = std::min<std::int64_t>(unix_ms() + static_cast<std::int64_t>(delay), s.job.deadline_ms() + 1);
  Fields counted{{"checks", std::to_string(checks)}};
  if (!co_await save(s, std::move(counted))) co_return;
  co_await s_.store.reschedule(s.id(), next);
}

net::awaitable<bool> Generator::settle_hold(Step& s, Settlement settlement) {
  auto settled = co_await settle(s_.accounts, *s.job.hold_id, settlement);
  auto action = to_string(settlement);
  std::string outcome;
  switch (settled.kind) {
    case Settled::Kind::done:
      outcome = action;
      break;
    case Settled::Kind::conflict:
      // e.g. committed after the hold expired: logged, never retried.
      outcome = "conflict";
      log::error("hold_conflict",
                 {{"job_id", s.id()}, {"hold_id", *s.job.hold_id}, {"action", action}, {"answer", settled.body}});
      break;
    case Settled::Kind::not_found:
      outcome = "not_found";
      log::error("hold_not_found", {{"job_id", s.id()}, {"hold_id", *s.job.hold_id}, {"action", action}});
      break;
    case Settled::Kind::retry:
      if (settled.status >= 400 && status_kind(settled.status) == ErrorKind::permanent) {
        // Refused (a token or a scope to fix): reported as a permanent
        // failure, and still retried, since money is never left unsettled.
        auto refused = std::make_exception_ptr(PermanentError("accounts answered " + std::to_string(settled.status)));
        report_error("hold_settle_refused", refused,
                     {{"job_id", s.id()}, {"action", action}, {"answer", settled.body}});
      } else {
        log::warn("hold_settle_failed",
                  {{"job_id", s.id()}, {"action", action}, {"status", settled.status}, {"answer", settled.body}});
      }
      co_return false;
  }
  Fields marker{{"hold_settled", outcome}};
  co_return co_await save(s, std::move(marker));
}

net::awaitable<void> Generator::settle_later(Step& s) {
  // The job stays in its state with the commit (or release) pending in its
  // record, and is retried until accounts answers: never "failed, moved on".
  auto attempts = s.number("settle_attempts") + 1;
  Fields counted{{"settle_attempts", std::to_string(attempts)}};
  if (!co_await save(s, std::move(counted))) co_return;
  auto delay = backoff_delay(std::chrono::seconds(1), std::chrono::seconds(60), static_cast<int>(attempts - 1));
  Metrics::get().settle_retries.inc();
  co_await s_.store.reschedule(s.id(), unix_ms() + delay.count());
}

net::awaitable<bool> Generator::publish_result(Step& s, bool succeeded) {
  json urls = parse_untrusted(s.field("result_urls"));
  json event = {{"v", 1},
                {"job_id", s.id()},
                {"status", succeeded ? "succeeded" : "failed"},
                {"model", s.job.model},
                {"result_urls", urls.is_array() ? urls : json::array()},
                {"task_id", s.field("task_id")},
                {"delivered", delivered_to_chat(s.field("delivered"))},
                {"delivery", s.field("delivered")},
                {"timings", {{"created_ms", s.job.created_ms}, {"finished_ms", unix_ms()}}}};
  if (s.job.user_id) event["user_id"] = *s.job.user_id;
  if (s.job.chat_id) event["chat_id"] = *s.job.chat_id;
  if (auto submitted = s.number("submitted_ms")) event["timings"]["submitted_ms"] = submitted;
  if (auto kie_ms = s.number("cost_time_ms")) event["timings"]["kie_ms"] = kie_ms;          // KIE's own time
  if (auto accepted = s.number("accepted_ms")) event["timings"]["accepted_ms"] = accepted;  // recorded from gen.jobs
  event["error"] =
      succeeded ? json(nullptr) : json{{"code", s.field("error_code")}, {"message", s.field("error_message")}};
  bool sent = false;
  try {
    auto value = event.dump();
    kafka::Headers headers;  // explicit: see to_dlq
    co_await s_.producer.send(options_.results_topic, s.id(), std::move(value), std::move(headers));
    sent = true;
  } catch (const kafka::Error&) {
    report_error("result_publish_failed", std::current_exception(), {{"job_id", s.id()}});
  }
  if (!sent) co_return false;
  Fields marker{{"published", "1"}};
  co_return co_await save(s, std::move(marker));
}

net::awaitable<void> Generator::succeed(Step& s, std::vector<std::string> urls) {
  auto delivered = s.field("delivered");
  if (s.job.chat_id && (delivered.empty() || delivered == "sending" || delivered == "waiting")) {
    if (delivered == "sending") {
      // The replica sending it died mid-send: Telegram may have shown it.
      // Sent again (a result twice beats a paid result lost), and counted.
      Metrics::get().deliveries_repeated.inc();
      log::warn("delivery_repeated", {{"job_id", s.id()}, {"chat_id", *s.job.chat_id}});
    } else {
      Fields sending{{"delivered", "sending"}};
      if (!co_await save(s, std::move(sending))) co_return;
    }
    auto info = info_from_json(parse_untrusted(s.field("result_info")));
    auto first = static_cast<std::size_t>(std::max<std::int64_t>(s.number("delivery_next"), 0));
    auto sent = co_await deliver(s.job, urls, std::move(info), first);
    if (!co_await delivery_ended(s, std::move(sent))) co_return;
  }
  // (No co_await inside && or ?: : g++ 12 miscompiles or crashes on it.)
  if (s.job.hold_id && s.field("hold_settled").empty()) {
    bool settled = co_await settle_hold(s, Settlement::commit);
    if (!settled) {
      co_await settle_later(s);
      co_return;
    }
  }
  if (s.field("published").empty()) {
    bool published = co_await publish_result(s, true);
    if (!published) {
      co_await s_.store.reschedule(s.id(), unix_ms() + 2'000);
      co_return;
    }
  }
  Fields done{{"state", "succeeded"}, {"finished_ms", std::to_string(unix_ms())}};
  if (!co_await save(s, std::move(done))) co_return;
  co_await s_.store.finish(s.id());
  Metrics::finished("succeeded", s.job.model, "");
  log::info("job_succeeded", {{"job_id", s.id()}, {"model", s.job.model}, {"delivered", s.field("delivered")}});
}

net::awaitable<void> Generator::fail(Step& s, std::string code, std::string reason) {
  if (s.field("state") != "failing") {
    Fields failing{{"state", "failing"}, {"error_code", code}, {"error_message", reason}};
    if (!co_await save(s, std::move(failing))) co_return;
  }
  if (s.job.hold_id && s.field("hold_settled").empty()) {
    bool settled = co_await settle_hold(s, Settlement::release);
    if (!settled) {
      co_await settle_later(s);
      co_return;
    }
  }
  if (s.job.chat_id && s.field("notified").empty()) {
    json params = {{"chat_id", *s.job.chat_id}, {"text", message(s.job.language, code)}};
    std::string data = "retry:" + s.id();
    if (data.size() <= 64) {
      params["reply_markup"] = {
          {"inline_keyboard",
           json::array({json::array({{{"text", message(s.job.language, "try_again")}, {"callback_data", data}}})})}};
    }
    co_await s_.limiter.acquire(s.job.chat_id->value(), std::chrono::seconds(30));
    auto sent = co_await s_.telegram.call("sendMessage", std::move(params));
    Metrics::delivery("failure_notice", sent.ok ? "ok" : "failed");
    Fields marker{{"notified", sent.ok ? "1" : "failed"}};
    if (!co_await save(s, std::move(marker))) co_return;
    auto failed_text = message(s.job.language, code);
    co_await edit_status(s.job, std::move(failed_text));
  }
  if (s.field("published").empty()) {
    bool published = co_await publish_result(s, false);
    if (!published) {
      co_await s_.store.reschedule(s.id(), unix_ms() + 2'000);
      co_return;
    }
  }
  Fields done{{"state", "failed"}, {"finished_ms", std::to_string(unix_ms())}};
  if (!co_await save(s, std::move(done))) co_return;
  co_await s_.store.finish(s.id());
  Metrics::finished("failed", s.job.model, code);
  log::info("job_failed", {{"job_id", s.id()}, {"model", s.job.model}, {"code", code}, {"reason", reason}});
}

}  // namespace kiebot::generator
