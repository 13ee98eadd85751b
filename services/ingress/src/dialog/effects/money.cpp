// The Money effect and the money queue: a money operation tried at once
// and, when accounts does not answer, kept in Redis and retried with
// capped backoff by every replica until it does; and the owner's Stars
// refund (the RefundStars effect).
#include "../dialog.hpp"
#include "../dialog_metrics.hpp"
#include "../input.hpp"
#include "../money_queue.hpp"
#include "../store.hpp"
#include "kiebot/accounts_client/client.hpp"
#include "kiebot/base/clock.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/runtime/backoff.hpp"
#include "kiebot/telegram/telegram.hpp"

namespace kiebot::dialog {

using nlohmann::json;

net::awaitable<accounts_api::Reply> Dialog::apply_money(const MoneyOp& op) {
  if (op.kind == "referral") {
    auto referrer = parse_positive_id(op.ref);
    if (!referrer) throw std::logic_error("a referral operation names no referrer: " + op.ref);
    auto reply = co_await p_.accounts.referral(op.user_id, UserId(*referrer));
    co_return reply;
  }
  accounts_api::MoneyRequest request{op.amount, op.reason, op.key, op.ref, op.admin_id};
  if (op.kind == "debit") {
    auto reply = co_await p_.accounts.debit(op.user_id, std::move(request));
    co_return reply;
  }
  auto reply = co_await p_.accounts.credit(op.user_id, std::move(request));
  co_return reply;
}

net::awaitable<std::optional<accounts_api::Reply>> Dialog::money_now(MoneyOp op) {
  std::string error;
  try {
    auto reply = co_await apply_money(op);
    Metrics::get().money(reply.ok() || op.kind == "referral" ? "done" : "refused");
    co_return reply;
  } catch (const accounts_api::Unavailable& e) {
    error = e.what();
  }
  op.attempts = 1;
  op.created_ms = unix_ms();
  auto due = op.created_ms + backoff_delay(options_.money_retry_min, options_.money_retry_max, 0).count();
  log::warn("money_operation_queued",
            {{"key", op.key}, {"user_id", op.user_id}, {"reason", op.reason}, {"error", error}});
  try {
    co_await p_.money.add(std::move(op), due);
  } catch (const std::exception& e) {
    throw MoneyNotRecorded(std::string("accounts unavailable (") + error + ") and the money queue too: " + e.what());
  }
  Metrics::get().money("queued");
  co_return std::nullopt;
}

net::awaitable<void> Dialog::run_money_queue() {
  Backoff failing(std::chrono::milliseconds(500), std::chrono::seconds(10));
  while (true) {
    std::vector<MoneyOp> due;
    std::string error;
    try {
      due = co_await p_.money.claim_due(unix_ms(), 32, std::chrono::seconds(30));
      auto stats = co_await p_.money.stats();
      Metrics::get().money_pending.set(static_cast<double>(stats.pending));
      auto age = stats.oldest_ms > 0 ? static_cast<double>(unix_ms() - stats.oldest_ms) / 1000.0 : 0.0;
      Metrics::get().money_oldest_age.set(std::max(0.0, age));
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!error.empty()) {
      log::warn("money_queue_unavailable", {{"error", error}});
      if (!co_await sleep_for(failing.next())) co_return;
      continue;
    }
    failing.reset();
    for (auto& op : due) co_await run_money_op(std::move(op));
    if (due.empty() && !co_await sleep_for(options_.money_poll)) co_return;
  }
}

net::awaitable<void> Dialog::retry_money_op(MoneyOp op, std::string error) {
  auto delay = backoff_delay(options_.money_retry_min, options_.money_retry_max, op.attempts);
  ++op.attempts;
  log::warn("money_operation_retry",
            {{"key", op.key}, {"attempts", op.attempts}, {"in_ms", delay.count()}, {"error", error}});
  Metrics::get().money("retried");
  co_await p_.money.retry(std::move(op), unix_ms() + delay.count());
}

net::awaitable<void> Dialog::run_money_op(MoneyOp op) {
  if (op.kind == "submission") {
    try {
      co_await run_submission(std::move(op));
    } catch (const std::exception& e) {
      // Redis, Kafka or a refusal other than "no money": the claim lapses
      // and another pass tries again (every step is keyed by the job id).
      log::warn("submission_failed", {{"error", e.what()}});
    }
    co_return;
  }
  std::optional<accounts_api::Reply> reply;
  std::string error;
  try {
    reply = co_await apply_money(op);
  } catch (const accounts_api::Unavailable& e) {
    error = e.what();
  }
  try {
    if (!reply) {
      co_await retry_money_op(std::move(op), std::move(error));
      co_return;
    }
    // A referral answered 409 (referred before, or by someone else) is done too.
    if (reply->ok() || op.kind == "referral") {
      co_await p_.money.done(op.key);
      Metrics::get().money("done");
      log::info("money_operation_done", {{"key", op.key},
                                         {"user_id", op.user_id},
                                         {"reason", op.reason},
                                         {"amount", op.amount},
                                         {"attempts", op.attempts},
                                         {"waited_ms", unix_ms() - op.created_ms}});
    } else {
      // A definite no (a spent admin limit, a key reused): not retried;
      // kept in the refused list for a person (docs/runbook.md).
      log::error("money_operation_refused", {{"key", op.key}, {"status", reply->status}, {"answer", reply->body}});
      Metrics::get().money("refused");
      co_await p_.money.refuse(op, reply->body.dump());
    }
  } catch (const std::exception& e) {
    // The claim lapses and another pass takes the operation again.
    log::warn("money_queue_update_failed", {{"key", op.key}, {"error", e.what()}});
    co_return;
  }
  // Whoever the operation concerns hears of its outcome, as the reducer says.
  try {
    Turn t;
    t.chat_id = op.notify_chat.value();
    t.user_id = op.user_id.value();
    Conversation c;
    c.lang = op.lang;
    Event answered = MoneyAnswered{std::move(op), reply->status, std::move(reply->body), true};
    co_await run(t, c, std::move(answered), 0);
  } catch (const std::exception& e) {
    log::warn("money_notice_failed", {{"error", e.what()}});
  }
}

net::awaitable<Refunded> Dialog::refund_stars(const Turn& t, const Conversation& c, RefundStars r) {
  // What was paid, from the user's ledger: the credit keyed by the charge id.
  auto ledger = co_await p_.accounts.ledger(UserId(r.user_id), 1000);
  std::int64_t kopecks = 0;
  if (ledger.ok() && ledger.body.contains("entries") && ledger.body["entries"].is_array()) {
    for (const auto& e : ledger.body["entries"]) {
      if (e.value("op", "") == "credit" && e.value("reason", "") == "stars" && e.value("key", "") == r.charge) {
        kopecks = e.value("delta", std::int64_t{0});
      }
    }
  }
  if (kopecks <= 0) co_return Refunded{Refunded::Result::unknown_charge};
  json params = {{"user_id", r.user_id}, {"telegram_payment_charge_id", r.charge}};
  auto refunded = co_await p_.telegram.call("refundStarPayment", std::move(params), std::chrono::seconds(20));
  log::info("admin_refund", {{"owner_id", t.user_id},
                             {"user_id", r.user_id},
                             {"charge_id", r.charge},
                             {"ok", refunded.ok},
                             {"description", refunded.description}});
  Metrics::get().admin(refunded.ok ? "refund" : "refund_failed");
  if (!refunded.ok && refunded.description.find("CHARGE_ALREADY_REFUNDED") == std::string::npos) {
    co_return Refunded{Refunded::Result::failed, refunded.description};
  }
  // Telegram returned the stars: the top-up leaves the balance, keyed as the
  // refunded_payment message Telegram also sends, so it is debited once.
  MoneyOp op;
  op.key = "refund:" + r.charge;
  op.kind = "debit";
  op.user_id = UserId(r.user_id);
  op.amount = Kopecks(kopecks);
  op.reason = "stars_refund";
  op.ref = r.charge;
  op.admin_id = UserId(t.user_id);
  auto user_lang = read_conversation(co_await p_.store.load_state(r.user_id)).conversation.lang;
  op.notify_chat = ChatId(r.user_id);
  op.lang = user_lang.empty() ? c.lang : user_lang;
  auto debit = co_await money_now(op);
  if (debit) {
    Turn user;
    user.chat_id = r.user_id;
    user.user_id = r.user_id;
    Conversation theirs;
    theirs.lang = op.lang;
    Event answered = MoneyAnswered{std::move(op), debit->status, std::move(debit->body), true};
    co_await run(user, theirs, std::move(answered), 1);
  }
  co_return Refunded{Refunded::Result::done, {}, r.user_id, kopecks};
}

}  // namespace kiebot::dialog
