// Consuming gen.jobs, claiming due jobs, and KIE callbacks (see generator.hpp).
#include "kiebot/common/secrets.hpp"
#include "generator.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "generator_metrics.hpp"
#include "kie_answers.hpp"
#include "kiebot/common/backoff.hpp"
#include "kiebot/common/errors.hpp"
#include "kiebot/common/kafka.hpp"
#include "kiebot/common/log.hpp"
#include "kiebot/common/redis.hpp"

namespace kiebot::generator {

using nlohmann::json;

namespace {

// created_ms outside [now - 24 h, now + 5 min] is refused.
constexpr std::chrono::milliseconds kMaxJobAge = std::chrono::hours(24);
constexpr std::chrono::milliseconds kMaxClockSkew = std::chrono::minutes(5);

}  // namespace

std::string sign_job(const std::string& secret, const std::string& job_id) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(job_id.data()), job_id.size(), digest, &length);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

Generator::Generator(net::any_io_executor executor, Services services, GeneratorOptions options)
    : executor_(executor), s_(services), options_(std::move(options)), wake_(executor) {
  while (!options_.public_base_url.empty() && options_.public_base_url.back() == '/') options_.public_base_url.pop_back();
}

std::string Generator::callback_url(const std::string& job_id) const {
  if (options_.public_base_url.empty()) return {};
  return options_.public_base_url + "/kie/callback/" + job_id + "?sig=" + sign_job(options_.callback_secret, job_id);
}

net::awaitable<void> Generator::to_dlq(kafka::Message message, std::string reason) {
  json dlq = {{"v", 1},           {"reason", reason},          {"topic", message.topic},
              {"partition", message.partition}, {"offset", message.offset}, {"value", message.value},
              {"failed_ms", unix_ms()}};
  auto value = dlq.dump(-1, ' ', false, json::error_handler_t::replace);
  kafka::Headers headers;  // passed explicitly: g++ 12 frees default-argument temporaries twice in co_await
  co_await s_.producer.send(options_.dlq_topic, message.key, std::move(value), std::move(headers));
  Metrics::get().dlq.inc();
  log::warn("job_dead_lettered", {{"reason", reason}, {"partition", message.partition}, {"offset", message.offset}});
}

net::awaitable<void> Generator::reject(kafka::Message message, Job job, std::string reason) {
  co_await to_dlq(message, reason);
  json event = {{"v", 1},
                {"job_id", job.id},
                {"status", "failed"},
                {"model", job.model},
                {"result_urls", json::array()},
                {"delivered", false},
                {"error", {{"code", reason}, {"message", "refused before it ran; nothing was charged"}}},
                {"timings", {{"created_ms", job.created_ms}, {"finished_ms", unix_ms()}}}};
  if (job.user_id) event["user_id"] = *job.user_id;
  auto value = event.dump(-1, ' ', false, json::error_handler_t::replace);
  kafka::Headers headers;
  co_await s_.producer.send(options_.results_topic, job.id, std::move(value), std::move(headers));
  log::warn("job_refused", {{"job_id", job.id}, {"reason", reason}, {"source", job.source}});
}

net::awaitable<void> Generator::consume(kafka::Consumer& consumer) {
  auto& m = Metrics::get();
  Backoff backoff(std::chrono::milliseconds(200), std::chrono::seconds(5));
  std::int64_t pending = 0;
  auto pending_checked = std::chrono::steady_clock::now() - std::chrono::seconds(10);
  while (true) {
    // Backpressure: nothing new while this replica is full, or while the
    // unfinished jobs (all replicas) reach max_pending.
    if (std::chrono::steady_clock::now() - pending_checked > std::chrono::seconds(1)) {
      try {
        pending = co_await s_.store.pending();
        pending_checked = std::chrono::steady_clock::now();
      } catch (const redis::Error&) {
        report_error("pending_check_failed", std::current_exception());
      }
    }
    if (inflight_ >= options_.max_inflight || pending >= options_.max_pending) {
      m.paused.set(1);
      if (!co_await sleep_for(options_.tick)) co_return;
      continue;
    }
    m.paused.set(0);
    auto messages = co_await consumer.poll(100, std::chrono::milliseconds(500));
    if (messages.empty()) continue;
    for (const auto& message : messages) {
      // A message is retried until it is recorded or dead-lettered: the
      // consumer's position has moved past it, so skipping it would lose it.
      // Only transient failures are retried; a message whose recording
      // meets a bug or a refusal would meet it again, so it is dead-lettered.
      bool dead = false;
      while (true) {
        std::exception_ptr failure;
        try {
          if (dead) {
            co_await to_dlq(message, "unrecordable");
          } else {
            auto parsed = parse_job(message.value);
            if (auto* reason = std::get_if<std::string>(&parsed)) {
              co_await to_dlq(message, *reason);
            } else if (auto now = unix_ms(); std::get<Job>(parsed).created_ms < now - kMaxJobAge.count() ||
                                               std::get<Job>(parsed).created_ms > now + kMaxClockSkew.count()) {
              // Often Unix seconds where ms are meant: it would fail at once as
              // past its deadline, and nobody would learn why.
              co_await reject(message, std::get<Job>(parsed), "implausible_created_ms");
            } else if (!std::get<Job>(parsed).hold_id &&
                       !options_.unpaid_sources.contains(std::get<Job>(parsed).source)) {
              Metrics::unpaid(std::get<Job>(parsed).source, false);
              co_await reject(message, std::get<Job>(parsed), "unpaid_job");
            } else {
              auto& job = std::get<Job>(parsed);
              if (!job.hold_id) Metrics::unpaid(job.source, true);
              bool fresh = co_await s_.store.record(job.id, job.to_json().dump(), job.deadline_ms());
              (fresh ? m.accepted : m.duplicates).inc();
              if (!fresh) log::info("job_duplicate", {{"job_id", job.id}});
              ++pending;
            }
          }
        } catch (...) {
          failure = std::current_exception();
        }
        if (!failure) break;
        json context = {{"partition", message.partition}, {"offset", message.offset}, {"dead_lettering", dead}};
        auto kind = report_error("job_record_failed", failure, context);
        if (kind == ErrorKind::cancelled) std::rethrow_exception(failure);
        if (kind != ErrorKind::transient) {
          if (dead) break;  // not even the dead-letter topic takes it: the bug lines above keep it
          dead = true;
          continue;
        }
        if (!co_await sleep_for(backoff.next())) co_return;
      }
      backoff.reset();
    }
    wake();
    std::string commit_failure;
    try {
      co_await consumer.commit(std::move(messages));
    } catch (const kafka::Error& e) {
      commit_failure = e.what();
    }
    // A commit refused during a rebalance is harmless: the jobs are in
    // Redis, and whoever gets the partition sees them again as duplicates.
    if (!commit_failure.empty()) log::warn("jobs_commit_failed", {{"error", commit_failure}});
  }
}

net::awaitable<void> Generator::track() {
  auto& m = Metrics::get();
  Backoff backoff(std::chrono::milliseconds(200), std::chrono::seconds(5));
  auto state = co_await net::this_coro::cancellation_state;
  while (state.cancelled() == net::cancellation_type::none) {
    try {
      std::size_t claimed_count = 0;
      std::size_t limit = std::min<std::size_t>(options_.max_inflight - std::min(inflight_, options_.max_inflight), 100);
      if (limit > 0) {
        std::vector<Claimed> claimed;
        bool failed = false;
        try {
          claimed = co_await s_.store.claim_due(limit);
        } catch (const redis::Error&) {
          failed = true;
          report_error("claim_failed", std::current_exception());
        }
        if (failed) {
          if (!co_await sleep_for(backoff.next())) break;
          continue;
        }
        backoff.reset();
        claimed_count = claimed.size();
        for (auto& c : claimed) {
          if (c.taken_over) {
            m.taken_over.inc();
            log::warn("claim_taken_over", {{"job_id", c.job_id}});
          }
          ++inflight_;
          m.inflight.set(static_cast<double>(inflight_));
          net::co_spawn(executor_, run_job(std::move(c)), log::on_failure("job_step_failed"));
        }
      }
      if (claimed_count == limit && limit > 0) continue;  // more may be due
      wake_.expires_after(options_.tick);
      co_await wake_.async_wait(net::as_tuple(net::use_awaitable));
    } catch (const boost::system::system_error&) {
      break;  // cancelled between two waits
    }
  }
  // Stopping: no new claims; the steps in progress finish and hand their
  // jobs back. What does not finish within the drain is left to expire
  // and is continued by another replica.
  co_await net::this_coro::reset_cancellation_state();
  log::info("tracker_draining", {{"inflight", inflight_}});
  while (inflight_ > 0) {
    net::steady_timer t(executor_, std::chrono::milliseconds(20));
    auto [ec] = co_await t.async_wait(net::as_tuple(net::use_awaitable));
    if (ec) log::warn("tracker_drain_interrupted", {{"error", ec.message()}, {"inflight", inflight_}});
  }
  log::info("tracker_drained");
}

net::awaitable<http::Response> Generator::callback(http::Request request) {
  auto job_id = request.params.at("job_id");
  auto sig = request.query("sig").value_or("");
  if (options_.callback_secret.empty() || !same_secret(sig, sign_job(options_.callback_secret, job_id))) {
    Metrics::get().callbacks_forbidden.inc();
    co_return http::Response::error(403, "forbidden", "bad callback signature");
  }
  Metrics::get().callbacks.inc();
  // The body names the task; it is used only to find a task whose
  // submission had no answer, and then verified through recordInfo.
  auto task_id = callback_task_id(request.body);
  bool known = false;
  try {
    known = co_await s_.store.poke(job_id, std::move(task_id));
  } catch (const redis::Error&) {
    report_error("callback_poke_failed", std::current_exception(), {{"job_id", job_id}});
    co_return http::Response::error(503, "unavailable", "try again");
  }
  if (known) wake();
  co_return http::Response::json(200, {{"ok", true}, {"known", known}});
}

}  // namespace kiebot::generator
