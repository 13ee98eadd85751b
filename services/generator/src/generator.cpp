// Consuming gen.jobs, claiming due jobs, and KIE callbacks (see generator.hpp).
#include "generator.hpp"
#include "kiebot/base/base64.hpp"
#include "kiebot/base/secrets.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "generator_metrics.hpp"
#include "kie_answers.hpp"
#include "kie_client.hpp"
#include "kiebot/catalog/catalog.hpp"
#include "kiebot/base/errors.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/kafka/consume.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/redis/redis.hpp"
#include "kiebot/runtime/backoff.hpp"

namespace kiebot::generator {

using nlohmann::json;

namespace {

// created_ms outside [now - 24 h, now + 5 min] is refused.
constexpr std::chrono::milliseconds kMaxJobAge = std::chrono::hours(24);
constexpr std::chrono::milliseconds kMaxClockSkew = std::chrono::minutes(5);

// The raw HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256(const std::string& key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

}  // namespace

std::string kie_webhook_signature(const std::string& key, const std::string& task_id, const std::string& timestamp) {
  return base64_encode(hmac_sha256(key, task_id + "." + timestamp));
}

bool kie_webhook_valid(const std::string& key, const std::string& task_id, const std::string& timestamp,
                       const std::string& signature, std::int64_t now_s) {
  if (task_id.empty() || timestamp.empty() || timestamp.size() > 12 ||
      timestamp.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  auto sent_s = std::stoll(timestamp);
  if (sent_s < now_s - 300 || sent_s > now_s + 300) return false;
  return same_secret(signature, kie_webhook_signature(key, task_id, timestamp));
}

std::string sign_job(const std::string& secret, const std::string& job_id) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : hmac_sha256(secret, job_id)) {
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  }
  return out;
}

Generator::Generator(net::any_io_executor executor, Services services, GeneratorOptions options)
    : executor_(executor), s_(services), options_(std::move(options)), wake_(executor), steps_(executor, "job_steps") {
  while (!options_.public_base_url.empty() && options_.public_base_url.back() == '/')
    options_.public_base_url.pop_back();
  // A catalog model of a family this generator cannot call is a startup error.
  for (const auto& model : s_.catalog.models()) {
    if (!kie_api_named(model.api)) {
      throw std::invalid_argument("catalog: " + model.id + ".api: no KIE client for the family " + model.api);
    }
  }
}

std::string Generator::callback_url(const std::string& job_id) const {
  if (options_.public_base_url.empty()) return {};
  return options_.public_base_url + "/kie/callback/" + job_id + "?sig=" + sign_job(options_.callback_secret, job_id);
}

net::awaitable<void> Generator::to_dlq(kafka::Message message, std::string reason) {
  json dlq = {{"v", 1},
              {"reason", reason},
              {"topic", message.topic},
              {"partition", message.partition},
              {"offset", message.offset},
              {"value", message.value},
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

net::awaitable<bool> Generator::full() {
  auto now = std::chrono::steady_clock::now();
  if (now - pending_checked_ > std::chrono::seconds(1)) {
    try {
      pending_ = co_await s_.store.pending();
      pending_checked_ = now;
    } catch (const redis::Error&) {
      report_error("pending_check_failed", std::current_exception());
    }
  }
  bool full = inflight_ >= options_.max_inflight || pending_ >= options_.max_pending;
  Metrics::get().paused.set(full ? 1 : 0);
  co_return full;
}

net::awaitable<void> Generator::take_once(kafka::Message message) {
  auto& m = Metrics::get();
  auto parsed = parse_job(message.value);
  if (auto* reason = std::get_if<std::string>(&parsed)) {
    co_await to_dlq(message, *reason);
    co_return;
  }
  auto& job = std::get<Job>(parsed);
  if (auto now = unix_ms(); job.created_ms < now - kMaxJobAge.count() || job.created_ms > now + kMaxClockSkew.count()) {
    // Often Unix seconds where ms are meant: it would fail at once as past
    // its deadline, and nobody would learn why.
    co_await reject(message, job, "implausible_created_ms");
  } else if (!job.hold_id && !options_.unpaid_sources.contains(job.source)) {
    Metrics::unpaid(job.source, false);
    co_await reject(message, job, "unpaid_job");
  } else {
    if (!job.hold_id) Metrics::unpaid(job.source, true);
    bool fresh = co_await s_.store.record(job.id, job.to_json().dump(), job.deadline_ms());
    (fresh ? m.accepted : m.duplicates).inc();
    if (!fresh) log::info("job_duplicate", {{"job_id", job.id}});
    ++pending_;
  }
}

net::awaitable<bool> Generator::take(kafka::Message message) {
  Backoff backoff(std::chrono::milliseconds(200), std::chrono::seconds(5));
  // Retried until it is recorded or dead-lettered: its offset is committed
  // only then, and the later ones of its partition wait for it. Only
  // transient failures are retried; a message whose recording meets a bug or
  // a refusal would meet it again, so it is dead-lettered.
  bool dead = false;
  while (true) {
    std::exception_ptr failure;
    try {
      if (dead) {
        co_await to_dlq(message, "unrecordable");
      } else {
        co_await take_once(message);
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
    if (!co_await sleep_for(backoff.next())) co_return false;
  }
  wake();
  co_return true;
}

net::awaitable<void> Generator::consume(kafka::Consumer& consumer) {
  kafka::ConsumeOptions options;
  options.name = "generator-jobs";
  options.max_batch = 100;
  options.poll_wait = std::chrono::milliseconds(500);
  options.max_buffered = 100;  // about one batch ahead of what is recorded
  options.held_wait = options_.tick;
  options.drain = std::chrono::seconds(2);
  kafka::ConsumeHandlers handlers;
  handlers.handle = [this](kafka::Message message) { return take(std::move(message)); };
  handlers.hold = [this] { return full(); };
  co_await kafka::consume(consumer, std::move(options), std::move(handlers));
}

net::awaitable<void> Generator::track() {
  auto& m = Metrics::get();
  Backoff backoff(std::chrono::milliseconds(200), std::chrono::seconds(5));
  auto state = co_await net::this_coro::cancellation_state;
  while (state.cancelled() == net::cancellation_type::none) {
    try {
      std::size_t claimed_count = 0;
      std::size_t limit =
          std::min<std::size_t>(options_.max_inflight - std::min(inflight_, options_.max_inflight), 100);
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
          steps_.spawn(run_job(std::move(c)));
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
  // jobs back. They are never cancelled midway (an interrupted createTask
  // would be an ambiguous, failed job): those still running after the drain
  // are reported and stop with the process; their claims expire and another
  // replica continues them from their recorded state.
  co_await net::this_coro::reset_cancellation_state();
  log::info("tracker_draining", {{"inflight", inflight_}});
  co_await steps_.wait(options_.drain);
  log::info("tracker_drained");
}

net::awaitable<http::Response> Generator::callback(http::Request request) {
  auto job_id = request.params.at("job_id");
  auto sig = request.query("sig").value_or("");
  if (options_.callback_secret.empty() || !same_secret(sig, sign_job(options_.callback_secret, job_id))) {
    Metrics::get().callbacks_forbidden.inc();
    co_return http::Response::error(403, "forbidden", "bad callback signature");
  }
  // The body names the task; it is used only to find a task whose
  // submission had no answer, and then verified through recordInfo.
  auto task_id = callback_task_id(request.body);
  if (!options_.webhook_hmac_key.empty() &&
      !kie_webhook_valid(options_.webhook_hmac_key, task_id,
                         std::string(request.header("x-webhook-timestamp").value_or("")),
                         std::string(request.header("x-webhook-signature").value_or("")), unix_ms() / 1000)) {
    Metrics::get().callbacks_forbidden.inc();
    log::warn("kie_webhook_signature_refused", {{"job_id", job_id}});
    co_return http::Response::error(403, "forbidden", "bad webhook signature");
  }
  Metrics::get().callbacks.inc();
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
