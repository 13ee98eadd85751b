// The generator's work: gen.jobs into Redis (or the DLQ), due jobs claimed
// and moved one step at a time (submit, check, deliver, settle, report),
// and KIE callbacks that make a job due at once. See docs/generator.md.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "job.hpp"
#include "job_store.hpp"
#include "kiebot/http/fetch_policy.hpp"
#include "kiebot/http/http.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/runtime/net.hpp"
#include "kiebot/runtime/task_group.hpp"

namespace kiebot::kafka {
class Producer;
class Consumer;
}  // namespace kiebot::kafka

namespace kiebot {
class RateLimiter;
}

namespace kiebot::http {
class Client;
}
namespace kiebot::telegram {
class Client;
struct Result;
}

namespace kiebot::catalog {
class Catalog;
}

namespace kiebot::accounts_api {
class Client;
}

namespace kiebot::generator {

class KieClient;
class KieBudget;
enum class KieApi;       // kie_client.hpp
enum class Settlement;  // settlement.hpp
struct Submitted;       // kie_answers.hpp
struct ResultInfo;      // kie_answers.hpp
struct Delivery;        // delivery.hpp

struct GeneratorOptions {
  std::string owner;                   // INSTANCE_ID
  std::string public_base_url;         // PUBLIC_BASE_URL; empty: no KIE callbacks, polling only
  std::string callback_secret;         // HMAC key of callback signatures
  std::string webhook_hmac_key;        // KIE's webhook HMAC key: callbacks must carry its signature ("" = not checked)
  std::size_t max_inflight = 500;      // jobs this replica works on at once
  std::int64_t max_pending = 100'000;  // unfinished jobs in Redis before consumption pauses
  std::chrono::milliseconds tick{250};
  std::chrono::milliseconds first_check{3'000};
  std::chrono::milliseconds max_check{30'000};
  // How long an unanswered submission waits for KIE's callback to name its
  // task before the job fails (callbacks only; without them it fails at once).
  std::chrono::milliseconds adopt_wait{600'000};
  std::size_t max_upload_bytes = 50u << 20;  // Telegram's upload limit for bots (2000 MB with a local Bot API server)
  std::size_t max_photo_bytes = 10u << 20;   // sendPhoto's limit, whatever the server
  // Where result URLs may be fetched from (KIE's origins, FETCH_ALLOW_ORIGINS,
  // public addresses); a job whose result URL it refuses fails.
  std::shared_ptr<const http::FetchPolicy> fetch_policy = std::make_shared<http::FetchPolicy>();
  std::set<std::string> unpaid_sources;  // GENERATOR_UNPAID_SOURCES: may run without a hold
  std::string results_topic = "gen.results";
  std::string dlq_topic = "gen.jobs.dlq";
  // After SIGTERM, how long the steps in progress get to finish (under the
  // process's 10 s drain); those still running are reported, never
  // cancelled, and their claims expire into another replica.
  std::chrono::milliseconds drain{9'000};
};

struct Services {
  JobStore& store;
  RateLimiter& limiter;  // Telegram's limits, shared with every replica and the dialog
  KieClient& kie;
  KieBudget& budget;  // KIE's new-task limit, shared with every replica
  telegram::Client& telegram;
  accounts_api::Client& accounts;
  kafka::Producer& producer;
  http::Client& downloads;         // fetches results Telegram could not fetch itself
  const catalog::Catalog& catalog;  // prices, to check that a job's hold covers it
};

class Generator {
 public:
  Generator(net::any_io_executor executor, Services services, GeneratorOptions options);

  // Consumes gen.jobs until cancelled: each message is recorded (or sent
  // to the DLQ) before its offset is committed. Pauses while this replica
  // is at MAX_INFLIGHT or the unfinished jobs reach max_pending.
  net::awaitable<void> consume(kafka::Consumer& consumer);
  // Claims due jobs and runs a step of each, until cancelled; then waits
  // for the steps in progress (each hands its job back when done).
  net::awaitable<void> track();
  // POST /kie/callback/{job_id}?sig=...: 403 on a bad signature, else the
  // job is checked at once (the body is never trusted for the result).
  net::awaitable<http::Response> callback(http::Request request);

  std::size_t inflight() const { return inflight_; }
  std::string callback_url(const std::string& job_id) const;

 private:
  struct Step;
  net::awaitable<void> run_job(Claimed claimed);
  net::awaitable<void> step(Step& s);
  net::awaitable<void> guarded_step(Step* s, std::exception_ptr* failure);
  net::awaitable<void> step_failed(Step& s, std::exception_ptr failure);
  net::awaitable<void> keep_claim(std::string job_id);
  // Writes fields to the job's record (and to s) while the claim is ours.
  net::awaitable<bool> save(Step& s, Fields fields);
  net::awaitable<void> submit(Step& s);
  // createTask's answers: a task to follow, a refusal to retry later, a final no.
  net::awaitable<void> submitted(Step& s, Submitted result);
  net::awaitable<void> submit_later(Step& s, Submitted result);
  net::awaitable<void> submit_refused(Step& s, Submitted result);
  net::awaitable<void> check(Step& s);
  net::awaitable<void> adopt(Step& s);
  net::awaitable<void> succeed(Step& s, std::vector<std::string> urls);
  // After deliver(): true when the job goes on to its settlement; false when
  // the step is over (the delivery put off, the job failed, the claim lost).
  net::awaitable<bool> delivery_ended(Step& s, Delivery sent);
  net::awaitable<void> fail(Step& s, std::string code, std::string message);
  net::awaitable<bool> settle_hold(Step& s, Settlement settlement);
  net::awaitable<void> settle_later(Step& s);
  net::awaitable<bool> publish_result(Step& s, bool succeeded);
  // "" when every URL may be fetched, else why one may not.
  net::awaitable<std::string> vet_results(const std::vector<std::string>& urls);
  // Sends results [first, ...) to the job's chat (outcomes in delivery.hpp).
  net::awaitable<Delivery> deliver(const Job& job, std::vector<std::string> urls, std::vector<ResultInfo> info,
                                   std::size_t first);
  // Result `index`: by URL, as a document when Telegram refuses the photo,
  // relayed, else as a link.
  net::awaitable<Delivery> deliver_item(const Job& job, std::string url, std::string type, nlohmann::json params,
                                        ResultInfo info, std::size_t index);
  net::awaitable<telegram::Result> send_by_url(const Job& job, std::string type, std::string url,
                                               nlohmann::json params);
  // An audio by URL with its cover as the thumbnail when Telegram can use
  // the cover as it is; else without.
  net::awaitable<telegram::Result> send_audio_with_cover(const Job& job, std::string url, nlohmann::json params,
                                                         std::string cover_url);
  // The cover's bytes when it is a JPEG Telegram takes as a thumbnail.
  net::awaitable<std::optional<std::string>> fetch_cover(std::string url);
  // Downloads `url` and uploads it as it arrives, within what Telegram
  // accepts for `type` (a photo beyond its limits goes as a document):
  // upload, document, too_large, photo_unfit, failed, chat_unavailable,
  // later, or kUnsafeResultUrl when the fetch policy refused it.
  net::awaitable<Delivery> relay(const Job& job, std::string type, std::string url, nlohmann::json params);
  net::awaitable<Delivery> upload(const Job& job, std::string type, std::string name, std::string content_type,
                                  std::uint64_t size, http::BodySource* source, nlohmann::json params);
  net::awaitable<void> edit_status(const Job& job, std::string text);
  // Records one gen.jobs message in Redis (or the DLQ), retrying until it
  // is; false when cancelled first.
  net::awaitable<bool> take(kafka::Message message);
  net::awaitable<void> take_once(kafka::Message message);
  // Backpressure: true while this replica is full, or while the unfinished
  // jobs (all replicas, read from Redis at most once a second) reach max_pending.
  net::awaitable<bool> full();
  net::awaitable<void> to_dlq(kafka::Message message, std::string reason);
  // A recorded job refused before KIE: its gen.jobs message, to the DLQ.
  net::awaitable<void> job_to_dlq(Step& s, std::string reason);
  // A job refused before it was recorded (unpaid, implausible time): to the
  // DLQ, and a failed result on gen.results so that its publisher learns why.
  net::awaitable<void> reject(kafka::Message message, Job job, std::string reason);
  // Before createTask: true when the job is paid for (or may run unpaid);
  // false when it was failed or rescheduled.
  net::awaitable<bool> check_payment(Step& s);
  // Before createTask, after the payment check: true when the catalog sells
  // the model and the input is valid for it; else the job goes to the DLQ
  // with the precise reason and fails (its hold, verified as this job's, is
  // released), without a KIE call.
  net::awaitable<bool> check_input(Step& s);
  // The KIE API family that runs the job's model (the catalog's `api`).
  KieApi api_of(const Job& job) const;
  void wake() { wake_.cancel(); }

  net::any_io_executor executor_;
  Services s_;
  GeneratorOptions options_;
  std::size_t inflight_ = 0;
  std::int64_t pending_ = 0;
  std::chrono::steady_clock::time_point pending_checked_{};
  net::steady_timer wake_;
  TaskGroup steps_;  // the job steps in progress; awaited when track() stops
};

// The failure code of a job whose result URL the fetch policy refused (and
// deliver()'s outcome when a download was refused).
inline constexpr const char* kUnsafeResultUrl = "unsafe_result_url";

// When a result link stops working (unix seconds), if its URL says:
// `expires=` (KIE's temporary download links) or S3's X-Amz-Date plus
// X-Amz-Expires.
std::optional<std::int64_t> link_expiry(const std::string& url);

// KIE's webhook signature (docs.kie.ai/common-api/webhook-verification):
// base64(HMAC-SHA256(key, task_id + "." + timestamp)).
std::string kie_webhook_signature(const std::string& key, const std::string& task_id, const std::string& timestamp);
// Whether a callback's X-Webhook-Timestamp and X-Webhook-Signature are KIE's
// for this task: the signature matches (compared in constant time) and the
// timestamp is within 5 minutes of `now_s` (no replays of old callbacks).
bool kie_webhook_valid(const std::string& key, const std::string& task_id, const std::string& timestamp,
                       const std::string& signature, std::int64_t now_s);
// hex(HMAC-SHA256(secret, job_id)).
std::string sign_job(const std::string& secret, const std::string& job_id);

}  // namespace kiebot::generator
