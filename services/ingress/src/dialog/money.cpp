// Balance, top-ups with Telegram Stars, free generations, the gift wheel,
// referrals, history and running jobs (see dialog.hpp).
#include "accounts_api.hpp"
#include "callback_data.hpp"
#include "dialog.hpp"
#include "dialog_metrics.hpp"
#include "input.hpp"
#include "kiebot/common/backoff.hpp"
#include "kiebot/common/clock.hpp"
#include "kiebot/common/log.hpp"
#include "money_queue.hpp"
#include "kiebot/common/telegram.hpp"
#include "store.hpp"

namespace kiebot::dialog {

using nlohmann::json;

namespace {

// The money operation a Stars payment message stands for: its top-up
// credited ("credit", keyed by the charge id) or, refunded, debited
// ("debit", keyed refund:<charge>). Nothing when the message is not one of
// ours for this user.
std::optional<MoneyOp> stars_op(const Turn& t, const json& paid, const char* kind) {
  auto top_up = parse_invoice_payload(paid.value("invoice_payload", ""));
  auto charge = paid.value("telegram_payment_charge_id", "");
  if (!top_up || charge.empty() || top_up->user_id != t.user_id) return std::nullopt;
  MoneyOp op;
  bool credit = std::string_view(kind) == "credit";
  op.key = credit ? charge : "refund:" + charge;
  op.kind = kind;
  op.user_id = t.user_id;
  op.amount = top_up->kopecks;
  op.reason = credit ? "stars" : "stars_refund";
  op.ref = charge;
  op.notify_chat = t.chat_id;
  op.lang = t.lang;
  return op;
}

}  // namespace

net::awaitable<void> Dialog::show_balance(Turn& t) {
  auto user = co_await load_user(t.user_id);
  co_await show(t, screens_.balance(t.lang, user));
}

net::awaitable<void> Dialog::show_top_up(Turn& t) {
  co_await show(t, screens_.top_up(t.lang, options_.top_up_presets, options_.stars_per_100_rub));
}

net::awaitable<void> Dialog::send_invoice(Turn& t, std::int64_t kopecks) {
  auto stars = stars_for(kopecks, options_.stars_per_100_rub);
  auto payload = "topup:" + std::to_string(t.user_id) + ":" + std::to_string(kopecks) + ":" + std::to_string(stars);
  json price = json::array({{{"label", text(t, "invoice.label")}, {"amount", stars}}});
  json params = {{"chat_id", t.chat_id},
                 {"title", text(t, "invoice.title")},
                 {"description", text(t, "invoice.description", {{"rub", roubles(kopecks)}})},
                 {"payload", payload},
                 {"currency", "XTR"},
                 {"prices", price}};
  co_await call(t.chat_id, "sendInvoice", std::move(params));
}

net::awaitable<void> Dialog::top_up_text(Turn& t, std::string body) {
  auto kopecks = parse_roubles(std::move(body));
  if (!kopecks || *kopecks < options_.top_up_min || *kopecks > options_.top_up_max) {
    auto screen = screens_.text_with_menu(
        text(t, "topup.bad_amount", {{"min", roubles(options_.top_up_min)}, {"max", roubles(options_.top_up_max)}}),
        t.lang);
    co_await send(t, std::move(screen));
    co_return;
  }
  t.state.erase("await");
  t.state_changed = true;
  co_await send_invoice(t, *kopecks);
}

net::awaitable<void> Dialog::on_pre_checkout(Turn& t, json query) {
  auto top_up = parse_invoice_payload(query.value("invoice_payload", ""));
  bool valid = top_up && top_up->user_id == t.user_id && query.value("currency", "") == "XTR" &&
               query.value("total_amount", std::int64_t{0}) == top_up->stars &&
               top_up->kopecks >= options_.top_up_min && top_up->kopecks <= options_.top_up_max;
  json params = {{"pre_checkout_query_id", query.value("id", "")}, {"ok", valid}};
  if (!valid) params["error_message"] = text(t, "payment.invalid");
  auto r = co_await p_.telegram.call("answerPreCheckoutQuery", std::move(params), std::chrono::seconds(5));
  Metrics::get().payments(valid ? "pre_checkout_ok" : "pre_checkout_refused");
  if (!r.ok) log::warn("pre_checkout_answer_failed", {{"status", r.status}, {"description", r.description}});
}

net::awaitable<void> Dialog::on_payment(Turn& t, json payment) {
  auto op = stars_op(t, payment, "credit");
  if (!op) {
    // Telegram took the user's stars: this must reach a person.
    auto charge = payment.value("telegram_payment_charge_id", "");
    log::error("payment_unreadable", {{"user_id", t.user_id}, {"charge_id", charge}});
    Metrics::get().payments("unreadable");
    auto screen = screens_.text_with_menu(text(t, "payment.unreadable", {{"charge", charge}}), t.lang);
    co_await send(t, std::move(screen));
    co_return;
  }
  // The charge id is the idempotency key: a payment delivered twice is credited once.
  auto kopecks = op->amount;
  auto charge = op->ref;
  auto credit = co_await money_now(std::move(*op));
  if (!credit) {
    Metrics::get().payments("queued");
    auto screen = screens_.text_with_menu(text(t, "payment.pending", {{"amount", roubles(kopecks)}}), t.lang);
    co_await send(t, std::move(screen));
    co_return;
  }
  if (!credit->ok()) {
    log::error("payment_refused", {{"user_id", t.user_id}, {"charge_id", charge}, {"answer", credit->body}});
    Metrics::get().payments("refused");
    auto screen = screens_.text_with_menu(text(t, "payment.unreadable", {{"charge", charge}}), t.lang);
    co_await send(t, std::move(screen));
    co_return;
  }
  if (credit->body.value("replayed", false)) {
    Metrics::get().payments("replayed");
    co_return;
  }
  Metrics::get().payments("credited");
  auto screen = screens_.text_with_menu(
      text(t, "payment.done",
           {{"amount", roubles(kopecks)}, {"balance", roubles(credit->body.value("balance", std::int64_t{0}))}}),
      t.lang);
  co_await send(t, std::move(screen));
}

net::awaitable<void> Dialog::on_refund(Turn& t, json refund) {
  // Telegram gave the stars back (refundStarPayment, or its own decision):
  // what they bought leaves the balance, even below zero.
  auto op = stars_op(t, refund, "debit");
  if (!op) {
    log::error("refund_unreadable", {{"user_id", t.user_id}, {"charge_id", refund.value("telegram_payment_charge_id", "")}});
    Metrics::get().payments("refund_unreadable");
    co_return;
  }
  auto debit = co_await money_now(*op);
  Metrics::get().payments(debit ? "refunded" : "refund_queued");
  // Told once accounts answered (now, or by the queue later).
  if (debit) co_await money_notice(std::move(*op), std::move(*debit));
}

net::awaitable<AccountsReply> Dialog::apply_money(const MoneyOp& op) {
  if (op.kind == "referral") co_return co_await p_.accounts.referral(op.user_id, std::stoll(op.ref));
  if (op.kind == "debit") {
    co_return co_await p_.accounts.debit(op.user_id, op.amount, op.reason, op.key, op.ref, op.admin_id);
  }
  co_return co_await p_.accounts.credit(op.user_id, op.amount, op.reason, op.key, op.ref, op.admin_id);
}

net::awaitable<std::optional<AccountsReply>> Dialog::money_now(MoneyOp op) {
  std::string error;
  try {
    auto reply = co_await apply_money(op);
    Metrics::get().money(reply.ok() || op.kind == "referral" ? "done" : "refused");
    co_return reply;
  } catch (const AccountsUnavailable& e) {
    error = e.what();
  }
  op.attempts = 1;
  op.created_ms = unix_ms();
  auto due = op.created_ms + backoff_delay(options_.money_retry_min, options_.money_retry_max, 0).count();
  log::warn("money_operation_queued", {{"key", op.key}, {"user_id", op.user_id}, {"reason", op.reason}, {"error", error}});
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
  log::warn("money_operation_retry", {{"key", op.key}, {"attempts", op.attempts}, {"in_ms", delay.count()}, {"error", error}});
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
  std::optional<AccountsReply> reply;
  std::string error;
  try {
    reply = co_await apply_money(op);
  } catch (const AccountsUnavailable& e) {
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
      log::info("money_operation_done", {{"key", op.key}, {"user_id", op.user_id}, {"reason", op.reason},
                                         {"amount", op.amount}, {"attempts", op.attempts},
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
  try {
    co_await money_notice(std::move(op), std::move(*reply));
  } catch (const std::exception& e) {
    log::warn("money_notice_failed", {{"error", e.what()}});
  }
}

net::awaitable<void> Dialog::money_notice(MoneyOp op, AccountsReply reply) {
  if (op.notify_chat == 0) co_return;
  if (op.kind == "referral") {
    co_await referral_news(std::move(op), std::move(reply));
    co_return;
  }
  Turn n;
  n.chat_id = op.notify_chat;
  n.user_id = op.notify_chat;
  n.lang = op.lang;
  auto balance = roubles(reply.body.value("balance", std::int64_t{0}));
  auto amount = roubles(op.amount);
  std::string body;
  if (!reply.ok()) {
    if (reply.error() == "over_admin_limit") {
      body = text(n, "admin.over_limit", {{"remaining", roubles(reply.body.value("remaining", std::int64_t{0}))}});
    } else if (reply.error() == "not_admin") {
      body = text(n, "admin.denied");
    } else {
      body = text(n, "money.refused", {{"key", op.key}});
    }
  } else if (op.reason == "stars") {
    body = text(n, "payment.credited_later", {{"amount", amount}, {"balance", balance}});
  } else if (op.reason == "stars_refund") {
    body = text(n, "payment.refunded", {{"amount", amount}, {"balance", balance}});
  } else if (op.reason == "admin_grant") {
    body = text(n, "admin.granted", {{"id", std::to_string(op.user_id)}, {"amount", amount}, {"balance", balance}});
  } else {
    co_return;
  }
  co_await send(n, screens_.text_with_menu(std::move(body), n.lang));
}

net::awaitable<void> Dialog::show_free(Turn& t) {
  auto user = co_await load_user(t.user_id);
  co_await show(t, screens_.free(t.lang, user));
}

net::awaitable<void> Dialog::spin_gift(Turn& t) {
  auto gift = co_await p_.accounts.gift(t.user_id);
  if (gift.status == 409) {
    auto won = roubles(gift.body.value("amount", std::int64_t{0}));
    auto screen = screens_.text_with_menu(text(t, "gift.claimed", {{"amount", won}}), t.lang);
    co_await show(t, std::move(screen));
    co_return;
  }
  if (!gift.ok()) throw std::runtime_error("gift refused: " + gift.error());
  // The amount is decided; the wheel only shows it.
  Metrics::get().gifts.inc();
  t.message_id = 0;
  Screen wheel{text(t, "gift.spin1"), nullptr};
  auto message = co_await send(t, std::move(wheel));
  for (const char* frame : {"gift.spin2", "gift.spin3"}) {
    if (!co_await sleep_for(options_.gift_frame)) co_return;
    Screen next{text(t, frame), nullptr};
    co_await edit(t, message, std::move(next));
  }
  if (!co_await sleep_for(options_.gift_frame)) co_return;
  auto won = text(t, "gift.won",
                  {{"amount", roubles(gift.body.value("amount", std::int64_t{0}))},
                   {"balance", roubles(gift.body.value("balance", std::int64_t{0}))}});
  co_await edit(t, message, screens_.text_with_menu(std::move(won), t.lang));
}

net::awaitable<void> Dialog::show_referral(Turn& t) {
  auto user = co_await load_user(t.user_id);
  auto link = "https://t.me/" + options_.bot_username + "?start=ref_" + std::to_string(t.user_id);
  auto body = text(t, "referral.text",
                   {{"link", link},
                    {"count", std::to_string(user.value("referrals", 0))},
                    {"bonus", std::to_string(options_.referral_bonus)}});
  co_await show(t, screens_.text_with_menu(std::move(body), t.lang));
}

net::awaitable<void> Dialog::join_referral(Turn& t, std::string payload) {
  auto referrer = parse_positive_id(payload).value_or(0);
  if (referrer <= 0 || referrer == t.user_id) co_return;
  // Free generations for both: kept for retries like money when accounts is away.
  MoneyOp op;
  op.key = "referral:" + std::to_string(t.user_id);
  op.kind = "referral";
  op.user_id = t.user_id;
  op.reason = "referral";
  op.ref = std::to_string(referrer);
  op.notify_chat = t.chat_id;
  op.lang = t.lang;
  op.name = shown_name(t.from.value("first_name", std::string("?")));
  auto joined = co_await money_now(op);
  if (joined) co_await money_notice(std::move(op), std::move(*joined));
}

net::awaitable<void> Dialog::referral_news(MoneyOp op, AccountsReply joined) {
  // Already referred, by someone else, or not rewarded (the referee was not
  // new, or the referrer reached today's cap): nothing to announce.
  if (!joined.ok() || joined.body.value("replayed", false) || !joined.body.value("rewarded", false)) co_return;
  Metrics::get().referrals.inc();
  auto bonus = std::to_string(options_.referral_bonus);
  Turn referee;
  referee.chat_id = op.notify_chat;
  referee.user_id = op.user_id;
  referee.lang = op.lang;
  auto welcome = Screen{text(referee, "referral.welcome", {{"bonus", bonus}}), nullptr};
  co_await send(referee, std::move(welcome));
  // The referrer hears of it in their own language.
  auto referrer = std::stoll(op.ref);
  auto state = co_await p_.store.load_state(referrer);
  Turn other;
  other.chat_id = referrer;
  other.user_id = referrer;
  other.lang = state.value("lang", op.lang);
  auto news = Screen{text(other, "referral.joined", {{"name", op.name}, {"bonus", bonus}}), nullptr};
  co_await send(other, std::move(news));
}

net::awaitable<void> Dialog::show_history(Turn& t) {
  auto jobs = co_await p_.store.history(t.user_id, 10);
  co_await show(t, screens_.history(t.lang, jobs));
}

net::awaitable<void> Dialog::show_running(Turn& t) {
  auto jobs = co_await p_.store.running(t.user_id);
  co_await show(t, screens_.running(t.lang, jobs));
}

}  // namespace kiebot::dialog
