// /admin: stats, user lookup, balance grants and admin limits for the ids
// accounts knows as admins; the owner also sees KIE's credit balance.
// Every action asks accounts again whether the user is an admin.
#include "kiebot/common/json.hpp"

#include "accounts_api.hpp"
#include "dialog.hpp"
#include "input.hpp"
#include "money_queue.hpp"
#include "dialog_metrics.hpp"
#include "kiebot/common/http_client.hpp"
#include "kiebot/common/log.hpp"
#include "kiebot/common/telegram.hpp"
#include "screens.hpp"
#include "store.hpp"

namespace kiebot::dialog {

using nlohmann::json;

net::awaitable<std::optional<json>> Dialog::require_admin(Turn& t) {
  auto user = co_await load_user(t.user_id);
  if (user.value("is_admin", false)) co_return user;
  Metrics::get().admin("denied");
  log::info("admin_denied", {{"user_id", t.user_id}});
  auto denied = text(t, "admin.denied");
  co_await main_menu(t, std::move(denied));
  co_return std::nullopt;
}

net::awaitable<void> Dialog::admin_menu(Turn& t) {
  auto user = co_await require_admin(t);
  if (!user) co_return;
  co_await show(t, screens_.admin(t.lang, user->value("is_owner", false)));
}

net::awaitable<void> Dialog::admin_action(Turn& t, std::string what) {
  auto user = co_await require_admin(t);
  if (!user) co_return;
  bool owner = user->value("is_owner", false);
  if (what == "stats") {
    auto stats = co_await p_.accounts.stats();
    const auto& s = stats.body;
    auto body = text(t, "admin.stats",
                     {{"users", std::to_string(s.value("users", 0))},
                      {"money_in", roubles(s.value("money_in", std::int64_t{0}))},
                      {"money_spent", roubles(s.value("money_spent", std::int64_t{0}))},
                      {"money_granted", roubles(s.value("money_granted", std::int64_t{0}))},
                      {"money_admin_granted", roubles(s.value("money_admin_granted", std::int64_t{0}))},
                      {"money_refunded", roubles(s.value("money_refunded", std::int64_t{0}))},
                      {"holds_open", std::to_string(s.value("holds_open", 0))}});
    co_await send(t, screens_.text_with_menu(std::move(body), t.lang));
  } else if (what == "user" || what == "grant" || ((what == "limit" || what == "refund") && owner)) {
    t.state["await"] = "admin_" + what;
    t.state_changed = true;
    auto ask = text(t, "admin.ask_" + what);
    co_await send(t, screens_.text_with_menu(std::move(ask), t.lang));
  } else if (what == "kie" && owner) {
    http::ClientRequest request{"GET",
                                options_.kie_api_base + "/api/v1/chat/credit",
                                {{"Authorization", "Bearer " + options_.kie_key}},
                                {},
                                std::chrono::seconds(10)};
    std::string body = text(t, "admin.kie_unavailable");
    try {
      auto response = co_await p_.http.send(std::move(request));
      auto j = parse_untrusted(response.body);
      if (response.status == 200 && j.is_object() && j.value("code", 0) == 200 && j.contains("data")) {
        body = text(t, "admin.kie", {{"credits", j["data"].dump()}});
      }
    } catch (const http::ClientError& e) {
      log::warn("kie_credit_failed", {{"error", e.what()}});
    }
    co_await send(t, screens_.text_with_menu(std::move(body), t.lang));
  } else {
    auto only = text(t, "admin.owner_only");
    co_await send(t, screens_.text_with_menu(std::move(only), t.lang));
  }
}

net::awaitable<void> Dialog::admin_text(Turn& t, std::string await, std::string body) {
  // A grant is authorised by accounts itself (admin_id, the admin's limit),
  // so it needs nothing from accounts first and is kept for retries when
  // accounts is away; every other admin input asks accounts who this is.
  std::optional<json> user = json::object();
  if (await != "admin_grant") user = co_await require_admin(t);
  if (!user) co_return;
  t.state.erase("await");
  t.state_changed = true;
  std::string reply;
  if (await == "admin_user") {
    auto id = parse_positive_id(body).value_or(0);
    AccountsReply target;
    if (id > 0) target = co_await p_.accounts.user(id);
    if (!target.ok()) {
      reply = text(t, "admin.bad_input");
    } else {
      const auto& u = target.body;
      reply = text(t, "admin.user",
                   {{"id", std::to_string(id)},
                    {"exists", u.value("exists", false) ? "✅" : "—"},
                    {"balance", roubles(u.value("balance", std::int64_t{0}))},
                    {"held", roubles(u.value("held", std::int64_t{0}))},
                    {"language", u["language"].is_string() ? u["language"].get<std::string>() : "—"},
                    {"admin", u.value("is_admin", false) ? "✅" : "—"},
                    {"free_left", std::to_string(u["free"].value("remaining", 0))},
                    {"referrals", std::to_string(u.value("referrals", 0))}});
    }
  } else if (await == "admin_grant") {
    auto parsed = parse_id_and_amount(body);
    if (!parsed) {
      reply = text(t, "admin.bad_input");
    } else {
      // Keyed by the admin's message: a redelivered update grants once.
      // accounts counts it against the admin's limit and writes both ledgers.
      MoneyOp op;
      op.key = "grant:" + std::to_string(t.user_id) + ":" + std::to_string(t.update_id);
      op.kind = "credit";
      op.user_id = parsed->first;
      op.amount = parsed->second;
      op.reason = "admin_grant";
      op.ref = "admin:" + std::to_string(t.user_id);
      op.admin_id = t.user_id;
      op.notify_chat = t.chat_id;
      op.lang = t.lang;
      auto granted = co_await money_now(op);
      Metrics::get().admin("grant");
      log::info("admin_grant", {{"admin_id", t.user_id},
                                {"user_id", parsed->first},
                                {"amount", parsed->second},
                                {"status", granted ? granted->status : 0}});
      if (granted) {
        co_await money_notice(std::move(op), std::move(*granted));
        co_return;
      }
      reply = text(t, "admin.grant_pending", {{"id", std::to_string(parsed->first)}, {"amount", roubles(parsed->second)}});
    }
  } else if (await == "admin_limit" && user->value("is_owner", false)) {
    auto parsed = parse_id_and_amount(body);
    AccountsReply set;
    if (parsed) set = co_await p_.accounts.set_admin(parsed->first, parsed->second);
    Metrics::get().admin("limit");
    if (parsed)
      log::info("admin_limit", {{"owner_id", t.user_id}, {"user_id", parsed->first}, {"limit", parsed->second}});
    reply = set.ok() ? text(t, "admin.limit_set",
                            {{"id", std::to_string(parsed->first)}, {"limit", roubles(parsed->second)}})
                     : text(t, "admin.bad_input");
  } else if (await == "admin_refund" && user->value("is_owner", false)) {
    co_await refund_payment(t, std::move(body));
    co_return;
  } else {
    reply = text(t, "admin.owner_only");
  }
  co_await send(t, screens_.text_with_menu(std::move(reply), t.lang));
}

net::awaitable<void> Dialog::refund_payment(Turn& t, std::string body) {
  auto input = parse_refund_input(body);
  if (!input) {
    co_await send(t, screens_.text_with_menu(text(t, "admin.bad_input"), t.lang));
    co_return;
  }
  auto user_id = input->first;
  auto charge = std::move(input->second);
  std::string reply;
  // What was paid, from the user's ledger: the credit keyed by the charge id.
  auto ledger = co_await p_.accounts.ledger(user_id, 1000);
  std::int64_t kopecks = 0;
  if (ledger.ok() && ledger.body.contains("entries") && ledger.body["entries"].is_array()) {
    for (const auto& e : ledger.body["entries"]) {
      if (e.value("op", "") == "credit" && e.value("reason", "") == "stars" && e.value("key", "") == charge) {
        kopecks = e.value("delta", std::int64_t{0});
      }
    }
  }
  if (kopecks <= 0) {
    co_await send(t, screens_.text_with_menu(text(t, "admin.refund_unknown"), t.lang));
    co_return;
  }
  json params = {{"user_id", user_id}, {"telegram_payment_charge_id", charge}};
  auto refunded = co_await p_.telegram.call("refundStarPayment", std::move(params), std::chrono::seconds(20));
  log::info("admin_refund", {{"owner_id", t.user_id}, {"user_id", user_id}, {"charge_id", charge},
                             {"ok", refunded.ok}, {"description", refunded.description}});
  Metrics::get().admin(refunded.ok ? "refund" : "refund_failed");
  if (!refunded.ok && refunded.description.find("CHARGE_ALREADY_REFUNDED") == std::string::npos) {
    auto failed = text(t, "admin.refund_failed", {{"reason", refunded.description}});
    co_await send(t, screens_.text_with_menu(std::move(failed), t.lang));
    co_return;
  }
  // Telegram returned the stars: the top-up leaves the balance, keyed as the
  // refunded_payment message Telegram also sends, so it is debited once.
  MoneyOp op;
  op.key = "refund:" + charge;
  op.kind = "debit";
  op.user_id = user_id;
  op.amount = kopecks;
  op.reason = "stars_refund";
  op.ref = charge;
  op.admin_id = t.user_id;
  auto state = co_await p_.store.load_state(user_id);
  op.notify_chat = user_id;
  op.lang = state.value("lang", t.lang);
  auto debit = co_await money_now(op);
  if (debit) co_await money_notice(op, std::move(*debit));
  auto stars = stars_for(kopecks, options_.stars_per_100_rub);
  reply = text(t, "admin.refunded", {{"amount", roubles(kopecks)}, {"stars", std::to_string(stars)}, {"id", std::to_string(user_id)}});
  co_await send(t, screens_.text_with_menu(std::move(reply), t.lang));
}

}  // namespace kiebot::dialog
