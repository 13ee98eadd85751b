// The conversation: one update in, the screens, holds, payments and jobs it
// leads to. Every replica runs it; all state is in Redis and accounts.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "catalog.hpp"
#include "kiebot/http/fetch_policy.hpp"
#include "kiebot/runtime/net.hpp"
#include "machine/reducer.hpp"
#include "screens.hpp"
#include "texts.hpp"

namespace kiebot {
class RateLimiter;
}
namespace kiebot::http {
class Client;
}
namespace kiebot::kafka {
class Producer;
}
namespace kiebot::telegram {
class Client;
struct Result;
}  // namespace kiebot::telegram

namespace kiebot::accounts_api {
class Client;
struct Reply;
}  // namespace kiebot::accounts_api

namespace kiebot::dialog {

class Dispatcher;
class MoneyQueue;
class Store;

// Thrown when an operation that changes money could neither be done nor
// recorded for a later retry: the update carrying it must not be skipped.
class MoneyNotRecorded : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown for an update no retry can make readable (a message without a
// sender, say): logged, counted and skipped, never retried.
class MalformedUpdate : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DialogOptions {
  std::string bot_username;              // for referral links (getMe at start)
  std::int64_t stars_per_100_rub = 160;  // the old bot's rate: 1 rouble = 1.6 stars
  std::vector<std::int64_t> top_up_presets = {5'000, 10'000, 15'000};
  std::int64_t top_up_min = 5'000;
  std::int64_t top_up_max = 5'000'000;
  std::int64_t referral_bonus = 10;  // as accounts' REFERRAL_BONUS, for the texts
  std::int64_t max_running = 5;
  std::chrono::seconds duplicate_window{15};
  std::int64_t deadline_s = 900;
  std::string jobs_topic = "gen.jobs";
  std::string kie_api_base;     // the owner's credit balance
  std::string kie_upload_base;  // users' photos go to KIE's file upload
  std::string kie_key;
  // Where users' files may be fetched from: Telegram's and KIE's origins,
  // FETCH_ALLOW_ORIGINS, public addresses.
  std::shared_ptr<const http::FetchPolicy> fetch_policy = std::make_shared<http::FetchPolicy>();
  // How long an upload to KIE is used again: KIE's pages say uploads are
  // deleted after 3 days, some after 24 hours; the shorter, with a margin.
  std::chrono::milliseconds upload_reuse{20LL * 3600 * 1000};
  std::chrono::milliseconds gift_frame{700};
  std::chrono::milliseconds money_poll{500};          // how often the money queue is looked at
  std::chrono::milliseconds money_retry_min{1'000};   // a pending money operation's retries grow
  std::chrono::milliseconds money_retry_max{60'000};  // from this to this, and never stop
};

struct Parts {
  telegram::Client& telegram;
  RateLimiter& limiter;
  accounts_api::Client& accounts;
  Store& store;
  MoneyQueue& money;
  kafka::Producer& producer;
  http::Client& http;
  const Catalog& catalog;
  const Texts& texts;
};

// One update's context as the interpreter sees it: who, where, and the
// message and query to answer.
struct Turn {
  std::int64_t update_id = 0;
  std::int64_t chat_id = 0;
  std::int64_t user_id = 0;
  std::string first_name;
  std::string telegram_lang;         // the user's Telegram app language
  std::string callback_id;           // callback queries: to answer
  std::int64_t message_id = 0;       // callback queries: the message with the button
  std::int64_t user_message_id = 0;  // messages: the user's message
};

// The conversation (machine/) runs here: each update becomes an event, the
// reducer decides, and this class is the interpreter that runs the effects
// against Telegram, accounts, Redis and Kafka and feeds their answers back.
class Dialog {
 public:
  Dialog(Parts parts, DialogOptions options);

  // Learns the bot's username (for referral links), then runs the dispatcher.
  net::awaitable<void> start(Dispatcher& dispatcher);
  // Handles one update. Throws when it should be retried (accounts, Redis or
  // Telegram unavailable).
  net::awaitable<void> handle(nlohmann::json update);
  // After the retries failed: tells the user, in their language, that it did not work.
  net::awaitable<void> apologize(nlohmann::json update);
  // Answers a callback query this process has not answered yet (a watchdog
  // calls it, so that no button spins while its chat is busy).
  net::awaitable<void> ensure_answered(std::string callback_id);
  // Until cancelled: retries the money operations accounts did not answer
  // (every replica runs it; each operation is claimed by one at a time).
  net::awaitable<void> run_money_queue();
  // Tells a chat that floods that some of its messages were skipped.
  net::awaitable<void> slow_down(std::int64_t chat_id);

 private:
  // dialog.cpp: updates into events, and the reduce-and-run loop.
  net::awaitable<void> run(Turn& t, Conversation& c, Event event, int depth);
  Context context(const Turn& t) const;
  // True when accounts said the user's language; false: Telegram's guess.
  net::awaitable<bool> resolve_language(const Turn& t, Conversation& c);

  // effects/interpreter.cpp: one effect; its answer, when it has one.
  net::awaitable<std::optional<Event>> perform(Turn& t, Conversation& c, Effect effect);
  // The Money effect tried now (or queued): its MoneyAnswered event.
  net::awaitable<Event> money_effect(MoneyOp op);
  net::awaitable<void> send_invoice(const Turn& t, Invoice invoice);
  net::awaitable<void> answer_pre_checkout(AnswerPreCheckout answer);
  net::awaitable<std::optional<Event>> ask(Turn& t, const Conversation& c, Ask a);
  net::awaitable<telegram::Result> call(std::int64_t chat_id, const char* method, nlohmann::json params);
  net::awaitable<std::int64_t> send(std::int64_t chat_id, Screen screen);
  net::awaitable<std::int64_t> edit(std::int64_t chat_id, std::int64_t message_id, Screen screen);
  net::awaitable<std::int64_t> show(const Turn& t, Screen screen);
  net::awaitable<void> answer(const Turn& t, std::string toast);
  net::awaitable<void> answer_query(std::string callback_id, std::string toast);
  net::awaitable<void> animate(const Turn& t, std::vector<Screen> frames);
  net::awaitable<nlohmann::json> load_user(std::int64_t user_id);
  // From Telegram (getFile) to KIE's file storage. Its url is "" when that
  // failed; telegram_refused when Telegram refused the file_id (no retry helps).
  struct Upload {
    FileUploaded file;
    bool telegram_refused = false;
  };
  net::awaitable<Upload> upload_file(std::string file_id, std::string file_name);

  // effects/submission.cpp: the hold, the job on gen.jobs and its record.
  net::awaitable<Submitted> submit(const Turn& t, const Conversation& c, Submit job);
  // The job's uploads KIE may have deleted (older than upload_reuse, or
  // suspected gone), uploaded again from Telegram, their URLs replaced in
  // the values. Submitted::file_gone when Telegram no longer gives one;
  // throws when Telegram or KIE's storage fails otherwise (the update is retried).
  struct Refreshed {
    Submit job;
    std::string gone_field;  // the field whose file Telegram no longer gives
  };
  net::awaitable<Refreshed> refresh_uploads(Submit job);
  // Who pays, the hold, the job and its record. Throws accounts_api::Unavailable
  // when accounts does not answer (nothing held then).
  net::awaitable<Submitted> pay_and_publish(const Turn& t, const std::string& lang, const Model& model,
                                            std::string job_id, nlohmann::json values, std::int64_t reply_to,
                                            nlohmann::json files);
  // A confirmed generation that accounts could not take now: kept in the
  // money queue and started by it once accounts answers.
  net::awaitable<Submitted> queue_submission(const Turn& t, const std::string& lang, const Model& model,
                                             Submit job, std::string error);
  net::awaitable<void> run_submission(MoneyOp op);

  // effects/money.cpp: money operations now or, without accounts, queued.
  // Done or refused: accounts' answer. No answer: queued for retries and
  // std::nullopt. Throws MoneyNotRecorded when it could not even be queued.
  net::awaitable<std::optional<accounts_api::Reply>> money_now(MoneyOp op);
  net::awaitable<accounts_api::Reply> apply_money(const MoneyOp& op);
  net::awaitable<void> run_money_op(MoneyOp op);
  // Accounts did not answer: the op comes back later, with capped backoff.
  net::awaitable<void> retry_money_op(MoneyOp op, std::string error);
  // The owner's refund of a Stars payment: refundStarPayment, then the debit.
  net::awaitable<Refunded> refund_stars(const Turn& t, const Conversation& c, RefundStars r);

  Parts p_;
  DialogOptions options_;
  Rules rules_;
  Screens screens_;
  std::unordered_set<std::string> answered_;  // callback queries answered by this process
};

}  // namespace kiebot::dialog
