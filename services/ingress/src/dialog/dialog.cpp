// The dialog's entry points, commands and the sending of screens (see dialog.hpp).
#include "dialog.hpp"

#include "accounts_api.hpp"
#include "callback_data.hpp"
#include "dialog_metrics.hpp"
#include "dispatcher.hpp"
#include "input.hpp"
#include "kiebot/common/backoff.hpp"
#include "kiebot/common/json.hpp"
#include "kiebot/common/log.hpp"
#include "kiebot/common/text.hpp"
#include "kiebot/common/rate_limiter.hpp"
#include "kiebot/common/telegram.hpp"
#include "store.hpp"

namespace kiebot::dialog {

using nlohmann::json;

namespace {

// Throws for what a retry may fix (no answer, 5xx); a 4xx is Telegram
// refusing this message (a blocked bot, an edit of a deleted message) and is
// only logged.
void check_sent(const telegram::Result& r, const char* method) {
  if (r.ok) return;
  if (r.status == 0 || r.status >= 500 || r.status == 429) {
    throw std::runtime_error(std::string(method) +
                             " failed: " + (r.description.empty() ? std::to_string(r.status) : r.description));
  }
  log::info("telegram_refused", {{"method", method}, {"status", r.status}, {"description", r.description}});
}

}  // namespace

Dialog::Dialog(Parts parts, DialogOptions options)
    : p_(parts), options_(std::move(options)), screens_(parts.catalog, parts.texts) {}

std::string Dialog::text(const Turn& t, std::string_view key, const Args& args) const {
  return p_.texts.format(t.lang, key, args);
}

net::awaitable<telegram::Result> Dialog::call(std::int64_t chat_id, const char* method, json params) {
  // Messages take a token from the bucket every replica and the generator share.
  co_await p_.limiter.acquire(chat_id, std::chrono::seconds(10));
  auto result = co_await p_.telegram.call(method, std::move(params), std::chrono::seconds(20));
  log::debug("telegram_sent", {{"method", method}, {"chat_id", chat_id}, {"status", result.status}});
  check_sent(result, method);
  co_return result;
}

net::awaitable<std::int64_t> Dialog::send(Turn& t, Screen screen) {
  json params = {{"chat_id", t.chat_id}, {"text", std::move(screen.text)}};
  if (!screen.markup.is_null()) params["reply_markup"] = std::move(screen.markup);
  auto r = co_await call(t.chat_id, "sendMessage", std::move(params));
  co_return r.ok ? r.result.value("message_id", std::int64_t{0}) : 0;
}

net::awaitable<std::int64_t> Dialog::edit(Turn& t, std::int64_t message_id, Screen screen) {
  json params = {{"chat_id", t.chat_id}, {"message_id", message_id}, {"text", screen.text}};
  if (!screen.markup.is_null()) params["reply_markup"] = screen.markup;
  auto r = co_await call(t.chat_id, "editMessageText", std::move(params));
  if (r.ok || r.description.find("not modified") != std::string::npos) co_return message_id;
  // The message is gone or too old to edit: show the screen anew.
  co_return co_await send(t, std::move(screen));
}

net::awaitable<std::int64_t> Dialog::show(Turn& t, Screen screen) {
  if (t.message_id != 0) co_return co_await edit(t, t.message_id, std::move(screen));
  co_return co_await send(t, std::move(screen));
}

net::awaitable<void> Dialog::answer(Turn& t, std::string toast) {
  if (t.callback_id.empty() || !answered_.insert(t.callback_id).second) co_return;
  Metrics::get().callbacks_answered.inc();
  co_await answer_query(t.callback_id, std::move(toast));
}

net::awaitable<void> Dialog::ensure_answered(std::string callback_id) {
  if (answered_.erase(callback_id) > 0) co_return;  // answered in time by its handler
  // Its handler comes later (or never: a redelivered or revoked update), so
  // the id stays; the bound keeps such ids from piling up, and a repeated
  // answer would only be refused by Telegram.
  if (answered_.size() >= 10'000) answered_.clear();
  answered_.insert(callback_id);
  Metrics::get().callbacks_answered_by_watchdog.inc();
  co_await answer_query(std::move(callback_id), std::string());
}

net::awaitable<void> Dialog::answer_query(std::string callback_id, std::string toast) {
  json params = {{"callback_query_id", std::move(callback_id)}};
  if (!toast.empty()) params["text"] = std::move(toast);
  // Not a chat message: no token from the chat's bucket.
  auto r = co_await p_.telegram.call("answerCallbackQuery", std::move(params), std::chrono::seconds(1));
  if (!r.ok) log::info("callback_answer_failed", {{"status", r.status}, {"description", r.description}});
}

net::awaitable<void> Dialog::start(Dispatcher& dispatcher) {
  Backoff backoff(std::chrono::seconds(1), std::chrono::seconds(30));
  while (options_.bot_username.empty()) {
    json none = json::object();
    auto me = co_await p_.telegram.call("getMe", std::move(none), std::chrono::seconds(10));
    if (me.ok) {
      options_.bot_username = me.result.value("username", "");
      break;
    }
    log::warn("get_me_failed", {{"status", me.status}, {"description", me.description}});
    if (!co_await sleep_for(backoff.next())) co_return;
  }
  log::info("dialog_started", {{"bot", options_.bot_username}});
  co_await dispatcher.run();
}

net::awaitable<json> Dialog::load_user(std::int64_t user_id) {
  auto reply = co_await p_.accounts.user(user_id);
  if (!reply.ok() || !reply.body.is_object()) {
    throw AccountsUnavailable("accounts answered " + std::to_string(reply.status) + " for a user");
  }
  co_return reply.body;
}

net::awaitable<void> Dialog::resolve_language(Turn& t, std::string telegram_code) {
  if (t.state.contains("lang")) {
    t.lang = t.state["lang"].get<std::string>();
    co_return;
  }
  // First contact with this chat (or its state expired): the language the
  // user chose before, else the one their Telegram app uses. Without
  // accounts, Telegram's for this turn (asked again next time): a first
  // /start with a referral must not fail on the language alone.
  std::optional<json> user;
  try {
    user = co_await load_user(t.user_id);
  } catch (const AccountsUnavailable& e) {
    log::info("language_from_telegram", {{"user_id", t.user_id}, {"error", e.what()}});
  }
  if (!user) {
    t.lang = language_from_telegram(telegram_code);
    co_return;
  }
  t.lang = (*user)["language"].is_string() ? (*user)["language"].get<std::string>() : language_from_telegram(telegram_code);
  t.state["lang"] = t.lang;
  t.state_changed = true;
}

net::awaitable<void> Dialog::handle(json update) {
  auto in = read_update(update);
  Metrics::get().update(in.seen.empty() ? "other" : in.seen);
  if (in.kind.empty()) {
    if (!in.problem.empty()) throw MalformedUpdate(in.problem);
    co_return;
  }
  Turn t;
  t.update_id = in.update_id;
  t.from = std::move(in.from);
  t.user_id = in.user_id;
  t.chat_id = in.chat_id;
  t.message_id = in.message_id;
  t.user_message_id = in.user_message_id;
  t.callback_id = std::move(in.callback_id);
  auto kind = std::move(in.kind);
  auto body = std::move(in.body);
  t.state = co_await p_.store.load_state(t.chat_id);
  if (kind == "pre_checkout_query") {
    // Telegram waits at most 10 s for this answer: nothing else first.
    t.lang = t.state.value("lang", language_from_telegram(string_field(t.from, "language_code")));
    co_await on_pre_checkout(t, std::move(body));
    co_return;
  }
  if (kind == "message" && (body.contains("successful_payment") || body.contains("refunded_payment"))) {
    // Money that already moved at Telegram: queued even while accounts is
    // away, so nothing before it may need accounts (the language does, on
    // first contact).
    t.lang = t.state.value("lang", language_from_telegram(string_field(t.from, "language_code")));
    if (body.contains("successful_payment")) {
      co_await on_payment(t, std::move(body["successful_payment"]));
    } else {
      co_await on_refund(t, std::move(body["refunded_payment"]));
    }
    co_return;
  }
  co_await resolve_language(t, string_field(t.from, "language_code"));
  if (kind == "message") {
    co_await on_message(t, std::move(body));
  } else {
    co_await on_callback(t, std::move(body));
  }
  if (t.state_changed) co_await p_.store.save_state(t.chat_id, std::move(t.state));
}

net::awaitable<void> Dialog::slow_down(std::int64_t chat_id) {
  Turn t;
  t.chat_id = chat_id;
  t.user_id = chat_id;
  try {
    auto state = co_await p_.store.load_state(chat_id);
    t.lang = state.value("lang", std::string("ru"));
    Screen notice{text(t, "flood.slow_down"), nullptr};
    co_await send(t, std::move(notice));
  } catch (const std::exception& e) {
    log::info("slow_down_failed", {{"chat_id", chat_id}, {"error", e.what()}});
  }
}

net::awaitable<void> Dialog::apologize(json update) {
  Turn t;
  const json* body = nullptr;
  for (const char* k : {"message", "callback_query"}) {
    if (update.contains(k)) body = &update[k];
  }
  if (body == nullptr) co_return;
  t.user_id = (*body)["from"].value("id", std::int64_t{0});
  t.chat_id = body->contains("chat") ? (*body)["chat"].value("id", t.user_id) : t.user_id;
  if (body->contains("message") && (*body)["message"].is_object())
    t.chat_id = (*body)["message"]["chat"].value("id", t.user_id);
  t.lang = language_from_telegram((*body)["from"].value("language_code", ""));
  if (body->contains("data")) t.callback_id = body->value("id", "");
  co_await answer(t, text(t, "error.toast"));
  co_await send(t, screens_.text_with_menu(text(t, "error.apology"), t.lang));
}

net::awaitable<void> Dialog::on_message(Turn& t, json message) {
  if (message.contains("photo")) {
    co_await form_photo(t, std::move(message));
    co_return;
  }
  // Whatever a user types may be shown back (a prompt in a caption, an
  // amount in an error): controls, bidi overrides and zero-width characters
  // go here, once.
  auto body = text::clean(string_field(message, "text"));
  if (body.empty()) {
    co_await send(t, screens_.text_with_menu(text(t, "unknown.message"), t.lang));
    co_return;
  }
  if (auto command = read_command(body)) {
    co_await on_command(t, std::move(command->name), std::move(command->payload));
    co_return;
  }
  co_await on_text(t, std::move(body));
}

net::awaitable<void> Dialog::main_menu(Turn& t, std::string greeting) {
  t.state.erase("form");
  t.state.erase("await");
  t.state_changed = true;
  co_await show(t, screens_.main_menu(t.lang, greeting));
}

net::awaitable<void> Dialog::on_command(Turn& t, std::string command, std::string payload) {
  if (command == "/start") {
    t.message_id = 0;
    if (payload.starts_with("ref_")) co_await join_referral(t, payload.substr(4));
    auto greeting = text(t, "menu.greeting", {{"name", shown_name(t.from.value("first_name", ""))}});
    co_await main_menu(t, std::move(greeting));
  } else if (command == "/help") {
    co_await send(t, screens_.text_with_menu(text(t, "help.text"), t.lang));
  } else if (command == "/balance") {
    co_await show_balance(t);
  } else if (command == "/status") {
    co_await show_running(t);
  } else if (command == "/history") {
    co_await show_history(t);
  } else if (command == "/language") {
    co_await send(t, screens_.language(t.lang));
  } else if (command == "/admin") {
    co_await admin_menu(t);
  } else if (command == "/cancel") {
    bool busy = t.state.contains("form") || t.state.contains("await");
    auto said = text(t, busy ? "cancel.done" : "cancel.nothing");
    co_await main_menu(t, std::move(said));
  } else {
    co_await main_menu(t, text(t, "unknown.command"));
  }
}

net::awaitable<void> Dialog::on_text(Turn& t, std::string body) {
  auto await = t.state.value("await", "");
  if (await == "topup") {
    co_await top_up_text(t, std::move(body));
  } else if (await.starts_with("admin_")) {
    co_await admin_text(t, std::move(await), std::move(body));
  } else if (t.state.contains("form")) {
    co_await form_text(t, std::move(body));
  } else {
    co_await main_menu(t, text(t, "unknown.text"));
  }
}

net::awaitable<void> Dialog::on_callback(Turn& t, json query) {
  auto decoded = decode_callback(query.value("data", ""));
  if (!decoded) {
    // The generator's "try again" button on a failed job.
    auto data = query.value("data", "");
    if (data.starts_with("retry:")) {
      co_await answer(t, "");
      co_await repeat(t, data.substr(6));
      co_return;
    }
    Metrics::get().expired_callbacks.inc();
    co_await answer(t, text(t, "expired"));
    t.message_id = 0;
    co_await main_menu(t, text(t, "expired"));
    co_return;
  }
  co_await on_action(t, std::move(*decoded));
}

net::awaitable<void> Dialog::on_action(Turn& t, Callback c) {
  const auto& v = c.verb;
  if (v == "opt" || v == "tog" || v == "go" || v == "edit" || v == "no" || v == "ok") {
    co_await form_action(t, c);
    co_return;
  }
  co_await answer(t, "");
  if (v == "menu" || v == "nop") {
    if (v == "menu") co_await main_menu(t, "");
  } else if (v == "cat") {
    bool known = false;
    for (const auto& cat : p_.catalog.categories()) known = known || cat == c.arg(0);
    if (known) {
      co_await show(t, screens_.category(t.lang, c.arg(0)));
    } else {
      co_await main_menu(t, text(t, "expired"));
    }
  } else if (v == "mdl") {
    const auto* model = p_.catalog.by_code(c.arg(0));
    if (model) {
      co_await open_form(t, *model, model->default_values());
    } else {
      co_await main_menu(t, text(t, "expired"));
    }
  } else if (v == "bal") {
    co_await show_balance(t);
  } else if (v == "top") {
    co_await show_top_up(t);
  } else if (v == "pay") {
    std::int64_t kopecks = 0;
    for (auto preset : options_.top_up_presets) {
      if (std::to_string(preset) == c.arg(0)) kopecks = preset;
    }
    if (kopecks > 0) {
      co_await send_invoice(t, kopecks);
    } else {
      co_await main_menu(t, text(t, "expired"));
    }
  } else if (v == "payc") {
    t.state["await"] = "topup";
    t.state_changed = true;
    auto screen = screens_.text_with_menu(
        text(t, "topup.ask_amount", {{"min", roubles(options_.top_up_min)}, {"max", roubles(options_.top_up_max)}}),
        t.lang);
    co_await send(t, std::move(screen));
  } else if (v == "free") {
    co_await show_free(t);
  } else if (v == "gift") {
    co_await spin_gift(t);
  } else if (v == "ref") {
    co_await show_referral(t);
  } else if (v == "hist") {
    co_await show_history(t);
  } else if (v == "rep") {
    co_await repeat(t, c.arg(0));
  } else if (v == "lang") {
    if (c.arg(0) == "ru" || c.arg(0) == "en") {
      t.lang = c.arg(0);
      t.state["lang"] = t.lang;
      co_await p_.accounts.set_language(t.user_id, t.lang);
      co_await main_menu(t, text(t, "language.set"));
    } else {
      co_await show(t, screens_.language(t.lang));
    }
  } else if (v == "help") {
    co_await show(t, screens_.text_with_menu(text(t, "help.text"), t.lang));
  } else if (v == "adm") {
    co_await admin_action(t, c.arg(0));
  } else {
    Metrics::get().expired_callbacks.inc();
    co_await main_menu(t, text(t, "expired"));
  }
}

}  // namespace kiebot::dialog
