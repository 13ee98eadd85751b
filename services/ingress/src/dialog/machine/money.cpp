// Money in the reducer: balance, top-ups with Telegram Stars, payments and
// refunds, the gift wheel, referrals, and what a money operation's outcome
// tells whom.
#include "handlers.hpp"

#include "../input.hpp"

namespace kiebot::dialog {

using nlohmann::json;

namespace {

// The money operation a Stars payment message stands for: its top-up
// credited ("credit", keyed by the charge id) or, refunded, debited
// ("debit", keyed refund:<charge>). Nothing when the message is not one of
// ours for this user.
std::optional<MoneyOp> stars_op(const Conversation& c, const Context& ctx, const json& paid, bool credit) {
  auto top_up = parse_invoice_payload(paid.is_object() ? paid.value("invoice_payload", "") : "");
  auto charge = paid.is_object() ? paid.value("telegram_payment_charge_id", "") : "";
  if (!top_up || charge.empty() || top_up->user_id != ctx.user_id) return std::nullopt;
  MoneyOp op;
  op.key = credit ? charge : "refund:" + charge;
  op.kind = credit ? "credit" : "debit";
  op.user_id = UserId(ctx.user_id);
  op.amount = Kopecks(top_up->kopecks);
  op.reason = credit ? "stars" : "stars_refund";
  op.ref = charge;
  op.notify_chat = ChatId(ctx.chat_id);
  op.lang = c.lang;
  return op;
}

Invoice invoice(const Conversation& c, const Context& ctx, std::int64_t kopecks) {
  auto stars = stars_for(kopecks, ctx.rules.stars_per_100_rub);
  return Invoice{machine::tr(ctx, c, "invoice.title"),
                 machine::tr(ctx, c, "invoice.description", {{"rub", roubles(kopecks)}}),
                 machine::tr(ctx, c, "invoice.label"),
                 "topup:" + std::to_string(ctx.user_id) + ":" + std::to_string(kopecks) + ":" + std::to_string(stars),
                 stars};
}

}  // namespace

std::vector<Effect> money_notice(const MoneyOp& op, std::optional<int> status, const json& body, const Texts& texts,
                                 const Screens& screens, const Rules& rules) {
  std::vector<Effect> out;
  if (op.notify_chat.value() == 0 || !status) return out;
  const auto& lang = op.lang;
  bool ok = *status == 200;
  if (op.kind == "referral") {
    // Already referred, by someone else, or not rewarded (the referee was
    // not new, or the referrer reached today's cap): nothing to announce.
    if (!ok || body.value("replayed", false) || !body.value("rewarded", false)) return out;
    auto bonus = std::to_string(rules.referral_bonus);
    out.push_back(Count{"referral"});
    out.push_back(SendTo{op.notify_chat.value(), Screen{texts.format(lang, "referral.welcome", {{"bonus", bonus}}), nullptr}});
    // The referrer hears of it in their own language.
    if (auto referrer = parse_positive_id(op.ref)) out.push_back(Ask{Need::chat_lang, *referrer, op.name});
    return out;
  }
  auto balance = roubles(body.value("balance", std::int64_t{0}));
  auto amount = roubles(op.amount.count());
  auto error = body.value("error", "");
  std::string said;
  if (!ok) {
    if (error == "over_admin_limit") {
      said = texts.format(lang, "admin.over_limit", {{"remaining", roubles(body.value("remaining", std::int64_t{0}))}});
    } else if (error == "not_admin") {
      said = texts.format(lang, "admin.denied", {});
    } else {
      said = texts.format(lang, "money.refused", {{"key", op.key}});
    }
  } else if (op.reason == "stars") {
    said = texts.format(lang, "payment.credited_later", {{"amount", amount}, {"balance", balance}});
  } else if (op.reason == "stars_refund") {
    said = texts.format(lang, "payment.refunded", {{"amount", amount}, {"balance", balance}});
  } else if (op.reason == "admin_grant") {
    said = texts.format(lang, "admin.granted",
                        {{"id", to_string(op.user_id)}, {"amount", amount}, {"balance", balance}});
  } else {
    return out;
  }
  out.push_back(SendTo{op.notify_chat.value(), screens.text_with_menu(std::move(said), lang)});
  return out;
}

namespace machine {

Step on_user_screen(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& a = std::get<Answered>(e);
  Step s{c, {}};
  if (a.need == Need::balance) {
    s.effects.push_back(Show{ctx.screens.balance(c.lang, a.data)});
    s.next.screen = ScreenId::balance;
  } else if (a.need == Need::free) {
    s.effects.push_back(Show{ctx.screens.free(c.lang, a.data)});
    s.next.screen = ScreenId::free;
  } else {
    auto link = "https://t.me/" + ctx.rules.bot_username + "?start=ref_" + std::to_string(ctx.user_id);
    auto said = tr(ctx, c, "referral.text",
                   {{"link", link},
                    {"count", std::to_string(a.data.value("referrals", 0))},
                    {"bonus", std::to_string(ctx.rules.referral_bonus)}});
    s.effects.push_back(Show{with_menu(ctx, c, std::move(said))});
    s.next.screen = ScreenId::referral;
  }
  return s;
}

Step on_top_up(const Conversation& c, const Event&, const Context& ctx) {
  Step s{c, {}};
  answer(s, ctx);
  s.effects.push_back(Show{ctx.screens.top_up(c.lang, ctx.rules.top_up_presets, ctx.rules.stars_per_100_rub)});
  s.next.screen = ScreenId::top_up;
  return s;
}

Step on_pay(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& wanted = std::get<PressIn>(e).press.arg(0);
  for (auto preset : ctx.rules.top_up_presets) {
    if (std::to_string(preset) != wanted) continue;
    Step s{c, {}};
    answer(s, ctx);
    s.effects.push_back(invoice(c, ctx, preset));
    return s;
  }
  Step s{c, {}};
  answer(s, ctx);
  auto menu = to_menu(c, ctx, tr(ctx, c, "expired"));
  for (auto& effect : menu.effects) s.effects.push_back(std::move(effect));
  s.next = std::move(menu.next);
  return s;
}

Step on_pay_custom(const Conversation& c, const Event&, const Context& ctx) {
  Step s{c, {}};
  answer(s, ctx);
  s.next.screen = ScreenId::top_up_amount;
  auto ask = tr(ctx, c, "topup.ask_amount", {{"min", roubles(ctx.rules.top_up_min)}, {"max", roubles(ctx.rules.top_up_max)}});
  s.effects.push_back(Send{with_menu(ctx, c, std::move(ask))});
  return s;
}

Step on_amount_text(const Conversation& c, const Event& e, const Context& ctx) {
  auto kopecks = parse_roubles(std::get<TextIn>(e).text);
  if (!kopecks || *kopecks < ctx.rules.top_up_min || *kopecks > ctx.rules.top_up_max) {
    auto said = tr(ctx, c, "topup.bad_amount", {{"min", roubles(ctx.rules.top_up_min)}, {"max", roubles(ctx.rules.top_up_max)}});
    return Step{c, {Send{with_menu(ctx, c, std::move(said))}}};
  }
  Step s{c, {invoice(c, ctx, *kopecks)}};
  s.next.screen = ScreenId::top_up;
  return s;
}

Step on_gift(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& a = std::get<Answered>(e);
  if (a.status == 409) {
    auto won = roubles(a.data.value("amount", std::int64_t{0}));
    return Step{c, {Show{with_menu(ctx, c, tr(ctx, c, "gift.claimed", {{"amount", won}}))}}};
  }
  // The amount is decided; the wheel only shows it.
  auto won = tr(ctx, c, "gift.won",
                {{"amount", roubles(a.data.value("amount", std::int64_t{0}))},
                 {"balance", roubles(a.data.value("balance", std::int64_t{0}))}});
  Animate wheel{{Screen{tr(ctx, c, "gift.spin1"), nullptr}, Screen{tr(ctx, c, "gift.spin2"), nullptr},
                 Screen{tr(ctx, c, "gift.spin3"), nullptr}, with_menu(ctx, c, std::move(won))}};
  return Step{c, {Count{"gift"}, std::move(wheel)}};
}

Step on_pre_checkout(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& query = std::get<PreCheckoutIn>(e).query;
  auto top_up = parse_invoice_payload(query.value("invoice_payload", ""));
  bool valid = top_up && top_up->user_id == ctx.user_id && query.value("currency", "") == "XTR" &&
               query.value("total_amount", std::int64_t{0}) == top_up->stars &&
               top_up->kopecks >= ctx.rules.top_up_min && top_up->kopecks <= ctx.rules.top_up_max;
  AnswerPreCheckout answer{query.value("id", ""), valid, valid ? "" : tr(ctx, c, "payment.invalid")};
  return Step{c, {std::move(answer), Count{valid ? "payment:pre_checkout_ok" : "payment:pre_checkout_refused"}}};
}

Step on_payment(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& paid = std::get<PaymentIn>(e).payment;
  auto op = stars_op(c, ctx, paid, true);
  if (!op) {
    // Telegram took the user's stars: this must reach a person.
    auto charge = paid.value("telegram_payment_charge_id", "");
    json fields = {{"user_id", ctx.user_id}, {"charge_id", charge}};
    return Step{c,
                {Log{"payment_unreadable", std::move(fields), true}, Count{"payment:unreadable"},
                 Send{with_menu(ctx, c, tr(ctx, c, "payment.unreadable", {{"charge", charge}}))}}};
  }
  // The charge id is the idempotency key: a payment delivered twice is credited once.
  return Step{c, {Money{std::move(*op)}}};
}

Step on_refund(const Conversation& c, const Event& e, const Context& ctx) {
  // Telegram gave the stars back (refundStarPayment, or its own decision):
  // what they bought leaves the balance, even below zero.
  const auto& refund = std::get<RefundIn>(e).refund;
  auto op = stars_op(c, ctx, refund, false);
  if (!op) {
    json fields = {{"user_id", ctx.user_id}, {"charge_id", refund.value("telegram_payment_charge_id", "")}};
    return Step{c, {Log{"refund_unreadable", std::move(fields), true}, Count{"payment:refund_unreadable"}}};
  }
  return Step{c, {Money{std::move(*op)}}};
}

Step on_money(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& m = std::get<MoneyAnswered>(e);
  const auto& op = m.op;
  Step s{c, {}};
  auto notices = [&] {
    for (auto& n : money_notice(op, m.status, m.body, ctx.texts, ctx.screens, ctx.rules)) s.effects.push_back(std::move(n));
  };
  if (m.later || op.reason == "referral") {
    notices();
    return s;
  }
  if (op.reason == "stars") {
    auto kopecks = roubles(op.amount.count());
    if (!m.status) {
      s.effects.push_back(Count{"payment:queued"});
      s.effects.push_back(Send{with_menu(ctx, c, tr(ctx, c, "payment.pending", {{"amount", kopecks}}))});
    } else if (*m.status != 200) {
      json fields = {{"user_id", op.user_id}, {"charge_id", op.ref}, {"answer", m.body}};
      s.effects.push_back(Log{"payment_refused", std::move(fields), true});
      s.effects.push_back(Count{"payment:refused"});
      s.effects.push_back(Send{with_menu(ctx, c, tr(ctx, c, "payment.unreadable", {{"charge", op.ref}}))});
    } else if (m.body.value("replayed", false)) {
      s.effects.push_back(Count{"payment:replayed"});
    } else {
      s.effects.push_back(Count{"payment:credited"});
      auto said = tr(ctx, c, "payment.done",
                     {{"amount", kopecks}, {"balance", roubles(m.body.value("balance", std::int64_t{0}))}});
      s.effects.push_back(Send{with_menu(ctx, c, std::move(said))});
    }
    return s;
  }
  if (op.reason == "stars_refund") {
    s.effects.push_back(Count{m.status ? "payment:refunded" : "payment:refund_queued"});
    notices();  // told once accounts answered (now, or by the queue later)
    return s;
  }
  // An admin's grant.
  json fields = {{"admin_id", op.admin_id.value_or(UserId(0))},
                 {"user_id", op.user_id},
                 {"amount", op.amount},
                 {"status", m.status.value_or(0)}};
  s.effects.push_back(Count{"admin:grant"});
  s.effects.push_back(Log{"admin_grant", std::move(fields), false});
  if (m.status) {
    notices();
  } else {
    auto said = tr(ctx, c, "admin.grant_pending", {{"id", to_string(op.user_id)}, {"amount", roubles(op.amount.count())}});
    s.effects.push_back(Send{with_menu(ctx, c, std::move(said))});
  }
  return s;
}

Step on_chat_lang(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& a = std::get<Answered>(e);
  auto lang = a.data.is_string() ? a.data.get<std::string>() : c.lang;
  auto news = ctx.texts.format(lang, "referral.joined", {{"name", a.arg}, {"bonus", std::to_string(ctx.rules.referral_bonus)}});
  return Step{c, {SendTo{a.id, Screen{std::move(news), nullptr}}}};
}

}  // namespace machine

}  // namespace kiebot::dialog
