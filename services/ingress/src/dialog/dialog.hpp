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
#include "kiebot/common/fetch_policy.hpp"
#include "kiebot/common/net.hpp"
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

namespace kiebot::dialog {

class AccountsApi;
class Dispatcher;
class MoneyQueue;
struct AccountsReply;
struct MoneyOp;
class Store;
struct Callback;

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
  std::chrono::milliseconds gift_frame{700};
  std::chrono::milliseconds money_poll{500};       // how often the money queue is looked at
  std::chrono::milliseconds money_retry_min{1'000};  // a pending money operation's retries grow
  std::chrono::milliseconds money_retry_max{60'000};  // from this to this, and never stop
};

struct Parts {
  telegram::Client& telegram;
  RateLimiter& limiter;
  AccountsApi& accounts;
  Store& store;
  MoneyQueue& money;
  kafka::Producer& producer;
  http::Client& http;
  const Catalog& catalog;
  const Texts& texts;
};

// One update's context: who, where, in which language, and the chat's state.
struct Turn {
  std::int64_t update_id = 0;
  std::int64_t chat_id = 0;
  std::int64_t user_id = 0;
  std::string lang = "ru";
  nlohmann::json from;
  nlohmann::json state;
  bool state_changed = false;
  std::string callback_id;           // callback queries: to answer
  std::int64_t message_id = 0;       // callback queries: the message with the button
  std::int64_t user_message_id = 0;  // messages: the user's message
};

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
  // dialog.cpp: entry points, commands, sending.
  net::awaitable<void> on_message(Turn& t, nlohmann::json message);
  net::awaitable<void> on_command(Turn& t, std::string command, std::string payload);
  net::awaitable<void> on_text(Turn& t, std::string text);
  net::awaitable<void> on_callback(Turn& t, nlohmann::json query);
  net::awaitable<void> on_action(Turn& t, Callback c);
  net::awaitable<void> answer(Turn& t, std::string text);
  net::awaitable<void> answer_query(std::string callback_id, std::string toast);
  net::awaitable<std::int64_t> send(Turn& t, Screen screen);
  net::awaitable<std::int64_t> show(Turn& t, Screen screen);  // edits the pressed message when there is one
  net::awaitable<std::int64_t> edit(Turn& t, std::int64_t message_id, Screen screen);
  net::awaitable<telegram::Result> call(std::int64_t chat_id, const char* method, nlohmann::json params);
  net::awaitable<void> main_menu(Turn& t, std::string greeting);
  net::awaitable<nlohmann::json> load_user(std::int64_t user_id);
  net::awaitable<void> resolve_language(Turn& t, std::string telegram_code);
  std::string text(const Turn& t, std::string_view key, const Args& args = {}) const;

  // generation.cpp: the form, the confirmation, the hold and the job.
  net::awaitable<void> open_form(Turn& t, const Model& model, nlohmann::json values);
  net::awaitable<void> form_action(Turn& t, const Callback& c);
  net::awaitable<void> next_step(Turn& t);
  net::awaitable<void> form_text(Turn& t, std::string text);
  net::awaitable<void> form_photo(Turn& t, nlohmann::json message);
  net::awaitable<void> submit(Turn& t);
  // Who pays, the hold, the job on gen.jobs and its record. Throws
  // AccountsUnavailable when accounts does not answer (nothing held then).
  net::awaitable<void> pay_and_publish(Turn& t, const Model& model, std::string job_id, nlohmann::json values,
                                       std::int64_t reply_to);
  // A confirmed generation that accounts could not take now: kept in the
  // money queue and started by it once accounts answers.
  net::awaitable<void> queue_submission(Turn& t, const Model& model, std::string job_id, nlohmann::json values,
                                        std::int64_t reply_to, std::string error);
  net::awaitable<void> run_submission(MoneyOp op);
  net::awaitable<void> repeat(Turn& t, std::string job_id);
  net::awaitable<std::string> upload_photo(std::string file_id);
  Payer payer_for(const Turn& t, const nlohmann::json& user, const Model& model, const nlohmann::json& values) const;

  // money.cpp: balance, top-up with Stars, free generations, gift, referral.
  net::awaitable<void> show_balance(Turn& t);
  net::awaitable<void> show_top_up(Turn& t);
  net::awaitable<void> send_invoice(Turn& t, std::int64_t kopecks);
  net::awaitable<void> on_pre_checkout(Turn& t, nlohmann::json query);
  net::awaitable<void> on_payment(Turn& t, nlohmann::json payment);
  net::awaitable<void> top_up_text(Turn& t, std::string text);
  net::awaitable<void> on_refund(Turn& t, nlohmann::json refund);
  // Tries a money operation once. Done or refused: accounts' answer. No
  // answer: queued for retries and std::nullopt. Throws MoneyNotRecorded
  // when it could not even be queued.
  net::awaitable<std::optional<AccountsReply>> money_now(MoneyOp op);
  net::awaitable<AccountsReply> apply_money(const MoneyOp& op);
  net::awaitable<void> run_money_op(MoneyOp op);
  // Accounts did not answer: the op comes back later, with capped backoff.
  net::awaitable<void> retry_money_op(MoneyOp op, std::string error);
  net::awaitable<void> money_notice(MoneyOp op, AccountsReply reply);
  net::awaitable<void> referral_news(MoneyOp op, AccountsReply joined);
  net::awaitable<void> show_free(Turn& t);
  net::awaitable<void> spin_gift(Turn& t);
  net::awaitable<void> show_referral(Turn& t);
  net::awaitable<void> join_referral(Turn& t, std::string payload);
  net::awaitable<void> show_history(Turn& t);
  net::awaitable<void> show_running(Turn& t);

  // admin.cpp
  net::awaitable<void> admin_menu(Turn& t);
  net::awaitable<void> admin_action(Turn& t, std::string what);
  net::awaitable<void> admin_text(Turn& t, std::string await, std::string text);
  net::awaitable<std::optional<nlohmann::json>> require_admin(Turn& t);
  // The owner's refund of a Stars payment: refundStarPayment, then the debit.
  net::awaitable<void> refund_payment(Turn& t, std::string body);

  Parts p_;
  DialogOptions options_;
  Screens screens_;
  std::unordered_set<std::string> answered_;  // callback queries answered by this process
};

}  // namespace kiebot::dialog
