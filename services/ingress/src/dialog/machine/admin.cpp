// /admin in the reducer: stats, user lookup, balance grants, admin limits,
// KIE's credits and Stars refunds. Every action asks accounts again whether
// the user is an admin (an Ask, answered before the action).
#include "handlers.hpp"

#include "../input.hpp"

namespace kiebot::dialog::machine {

using nlohmann::json;

namespace {

Step denied(const Conversation& c, const Context& ctx) {
  auto menu = to_menu(c, ctx, tr(ctx, c, "admin.denied"));
  json fields = {{"user_id", ctx.user_id}};
  menu.effects.insert(menu.effects.begin(), {Count{"admin:denied"}, Log{"admin_denied", std::move(fields), false}});
  return menu;
}

Step say(Conversation c, const Context& ctx, std::string_view key, const Args& args = {}) {
  auto said = tr(ctx, c, key, args);
  auto screen = with_menu(ctx, c, std::move(said));
  return Step{std::move(c), {Send{std::move(screen)}}};
}

ScreenId awaiting(std::string_view action) {
  if (action == "user") return ScreenId::admin_user;
  if (action == "grant") return ScreenId::admin_grant;
  if (action == "limit") return ScreenId::admin_limit;
  return ScreenId::admin_refund;
}

}  // namespace

Step on_admin_user(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& user = std::get<Answered>(e).data;
  if (!is_admin(user)) return denied(c, ctx);
  Step s{c, {Show{ctx.screens.admin(c.lang, is_owner(user))}}};
  s.next.screen = ScreenId::admin;
  return s;
}

Step on_admin_action(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& a = std::get<Answered>(e);
  if (!is_admin(a.data)) return denied(c, ctx);
  bool owner = is_owner(a.data);
  const auto& what = a.arg;
  if (what == "stats") return Step{c, {Ask{Need::stats, ctx.user_id}}};
  if (what == "user" || what == "grant" || ((what == "limit" || what == "refund") && owner)) {
    auto next = c;
    next.screen = awaiting(what);
    return say(std::move(next), ctx, "admin.ask_" + what);
  }
  if (what == "kie" && owner) return Step{c, {Ask{Need::kie_credits, ctx.user_id}}};
  return say(c, ctx, "admin.owner_only");
}

Step on_admin_text(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& text = std::get<TextIn>(e).text;
  if (c.screen != ScreenId::admin_grant) return Step{c, {Ask{Need::admin_text, ctx.user_id, text}}};
  // A grant is authorised by accounts itself (admin_id, the admin's limit),
  // so it needs nothing from accounts first and is kept for retries when
  // accounts is away.
  auto next = c;
  next.screen = ScreenId::admin;
  auto parsed = parse_id_and_amount(text);
  if (!parsed) return say(std::move(next), ctx, "admin.bad_input");
  // Keyed by the admin's message: a redelivered update grants once.
  MoneyOp op;
  op.key = "grant:" + std::to_string(ctx.user_id) + ":" + std::to_string(ctx.update_id);
  op.kind = "credit";
  op.user_id = UserId(parsed->first);
  op.amount = Kopecks(parsed->second);
  op.reason = "admin_grant";
  op.ref = "admin:" + std::to_string(ctx.user_id);
  op.admin_id = UserId(ctx.user_id);
  op.notify_chat = ChatId(ctx.chat_id);
  op.lang = c.lang;
  return Step{std::move(next), {Money{std::move(op)}}};
}

Step on_admin_checked(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& a = std::get<Answered>(e);
  if (!is_admin(a.data)) return denied(c, ctx);
  bool owner = is_owner(a.data);
  auto next = c;
  next.screen = ScreenId::admin;
  const auto& text = a.arg;
  if (c.screen == ScreenId::admin_user) {
    auto id = parse_positive_id(text).value_or(0);
    if (id <= 0) return say(std::move(next), ctx, "admin.bad_input");
    return Step{std::move(next), {Ask{Need::lookup, id}}};
  }
  if (c.screen == ScreenId::admin_limit && owner) {
    auto parsed = parse_id_and_amount(text);
    if (!parsed) return say(std::move(next), ctx, "admin.bad_input");
    json fields = {{"owner_id", ctx.user_id}, {"user_id", parsed->first}, {"limit", parsed->second}};
    return Step{std::move(next),
                {Count{"admin:limit"}, Log{"admin_limit", std::move(fields), false},
                 Ask{Need::set_admin, parsed->first, {}, parsed->second}}};
  }
  if (c.screen == ScreenId::admin_refund && owner) {
    auto input = parse_refund_input(text);
    if (!input) return say(std::move(next), ctx, "admin.bad_input");
    return Step{std::move(next), {RefundStars{input->first, std::move(input->second)}}};
  }
  return say(std::move(next), ctx, "admin.owner_only");
}

Step on_admin_answer(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& a = std::get<Answered>(e);
  const auto& d = a.data;
  switch (a.need) {
    case Need::stats:
      return say(c, ctx, "admin.stats",
                 {{"users", std::to_string(d.value("users", 0))},
                  {"money_in", roubles(d.value("money_in", std::int64_t{0}))},
                  {"money_spent", roubles(d.value("money_spent", std::int64_t{0}))},
                  {"money_granted", roubles(d.value("money_granted", std::int64_t{0}))},
                  {"money_admin_granted", roubles(d.value("money_admin_granted", std::int64_t{0}))},
                  {"money_refunded", roubles(d.value("money_refunded", std::int64_t{0}))},
                  {"holds_open", std::to_string(d.value("holds_open", 0))}});
    case Need::lookup: {
      if (a.status != 200 || !d.is_object()) return say(c, ctx, "admin.bad_input");
      const auto& free = d.contains("free") && d["free"].is_object() ? d["free"] : json::object();
      return say(c, ctx, "admin.user",
                 {{"id", std::to_string(a.id)},
                  {"exists", d.value("exists", false) ? "✅" : "—"},
                  {"balance", roubles(d.value("balance", std::int64_t{0}))},
                  {"held", roubles(d.value("held", std::int64_t{0}))},
                  {"language", d.contains("language") && d["language"].is_string() ? d["language"].get<std::string>() : "—"},
                  {"admin", d.value("is_admin", false) ? "✅" : "—"},
                  {"free_left", std::to_string(free.value("remaining", 0))},
                  {"referrals", std::to_string(d.value("referrals", 0))}});
    }
    case Need::set_admin:
      if (a.status != 200) return say(c, ctx, "admin.bad_input");
      return say(c, ctx, "admin.limit_set", {{"id", std::to_string(a.id)}, {"limit", roubles(a.amount)}});
    default:  // kie_credits
      if (d.is_null()) return say(c, ctx, "admin.kie_unavailable");
      return say(c, ctx, "admin.kie", {{"credits", d.dump()}});
  }
}

Step on_refunded(const Conversation& c, const Event& e, const Context& ctx) {
  const auto& r = std::get<Refunded>(e);
  switch (r.result) {
    case Refunded::Result::unknown_charge:
      return say(c, ctx, "admin.refund_unknown");
    case Refunded::Result::failed:
      return say(c, ctx, "admin.refund_failed", {{"reason", r.reason}});
    case Refunded::Result::done:
      break;
  }
  auto stars = stars_for(r.kopecks, ctx.rules.stars_per_100_rub);
  return say(c, ctx, "admin.refunded",
             {{"amount", roubles(r.kopecks)}, {"stars", std::to_string(stars)}, {"id", std::to_string(r.user_id)}});
}

}  // namespace kiebot::dialog::machine
