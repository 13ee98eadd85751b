// Balance, top-ups with Telegram Stars, free generations, the gift wheel,
// referrals, history and running jobs (see dialog.hpp).
#include "accounts_api.hpp"
#include "callback_data.hpp"
#include "dialog.hpp"
#include "dialog_metrics.hpp"
#include "kiebot/common/backoff.hpp"
#include "kiebot/common/log.hpp"
#include "kiebot/common/telegram.hpp"
#include "store.hpp"

namespace kiebot::dialog {

using nlohmann::json;

namespace {

// "topup:<user>:<kopecks>:<stars>": what the invoice sells, checked again at
// pre-checkout and read at payment.
struct TopUp {
  std::int64_t user_id = 0, kopecks = 0, stars = 0;
};

std::optional<TopUp> parse_payload(const std::string& payload) {
  TopUp t;
  if (std::sscanf(payload.c_str(), "topup:%ld:%ld:%ld", &t.user_id, &t.kopecks, &t.stars) != 3) return std::nullopt;
  if (t.user_id <= 0 || t.kopecks <= 0 || t.stars <= 0) return std::nullopt;
  return t;
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
  // "150", "150.50" or "150,5" roubles.
  for (auto& c : body) c = c == ',' ? '.' : c;
  double rub = 0;
  char rest = 0;
  // The range check comes first: it also refuses nan and inf, which no cast may see.
  bool parsed = std::sscanf(body.c_str(), "%lf%c", &rub, &rest) == 1 && rub >= 0 && rub <= 1e9;
  auto kopecks = parsed ? static_cast<std::int64_t>(rub * 100 + 0.5) : 0;
  if (!parsed || kopecks < options_.top_up_min || kopecks > options_.top_up_max) {
    auto screen = screens_.text_with_menu(
        text(t, "topup.bad_amount", {{"min", roubles(options_.top_up_min)}, {"max", roubles(options_.top_up_max)}}),
        t.lang);
    co_await send(t, std::move(screen));
    co_return;
  }
  t.state.erase("await");
  t.state_changed = true;
  co_await send_invoice(t, kopecks);
}

net::awaitable<void> Dialog::on_pre_checkout(Turn& t, json query) {
  auto top_up = parse_payload(query.value("invoice_payload", ""));
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
  auto top_up = parse_payload(payment.value("invoice_payload", ""));
  auto charge = payment.value("telegram_payment_charge_id", "");
  if (!top_up || charge.empty()) {
    // Telegram took the user's stars: this must reach a person.
    log::error("payment_unreadable", {{"user_id", t.user_id}, {"charge_id", charge}});
    Metrics::get().payments("unreadable");
    auto screen = screens_.text_with_menu(text(t, "payment.unreadable", {{"charge", charge}}), t.lang);
    co_await send(t, std::move(screen));
    co_return;
  }
  // The charge id is the idempotency key: a payment delivered twice is credited once.
  auto credit = co_await p_.accounts.credit(t.user_id, top_up->kopecks, "stars", charge, charge);
  if (!credit.ok()) throw std::runtime_error("credit refused: " + credit.error());
  if (credit.body.value("replayed", false)) {
    Metrics::get().payments("replayed");
    co_return;
  }
  Metrics::get().payments("credited");
  auto screen = screens_.text_with_menu(
      text(t, "payment.done",
           {{"amount", roubles(top_up->kopecks)}, {"balance", roubles(credit.body.value("balance", std::int64_t{0}))}}),
      t.lang);
  co_await send(t, std::move(screen));
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
  std::int64_t referrer = 0;
  try {
    referrer = std::stoll(payload);
  } catch (const std::exception&) {
    co_return;
  }
  if (referrer <= 0 || referrer == t.user_id) co_return;
  auto joined = co_await p_.accounts.referral(t.user_id, referrer);
  if (!joined.ok() || joined.body.value("replayed", false)) co_return;  // already referred, or by someone else
  Metrics::get().referrals.inc();
  auto bonus = std::to_string(options_.referral_bonus);
  auto screen = Screen{text(t, "referral.welcome", {{"bonus", bonus}}), nullptr};
  co_await send(t, std::move(screen));
  // The referrer hears of it in their own language.
  auto state = co_await p_.store.load_state(referrer);
  Turn other;
  other.chat_id = referrer;
  other.user_id = referrer;
  other.lang = state.value("lang", t.lang);
  auto name = t.from.value("first_name", std::string("?"));
  auto news = Screen{text(other, "referral.joined", {{"name", name}, {"bonus", bonus}}), nullptr};
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
