// The dialog's entry points: an update read into an event, the chat's
// conversation loaded, reduced and its effects run, the conversation saved
// (see dialog.hpp).
#include "dialog.hpp"

#include "questions.hpp"

#include <random>

#include "kiebot/accounts_client/client.hpp"
#include "dialog_metrics.hpp"
#include "dispatcher.hpp"
#include "input.hpp"
#include "kiebot/base/clock.hpp"
#include "kiebot/base/json.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/base/text.hpp"
#include "kiebot/runtime/backoff.hpp"
#include "kiebot/telegram/telegram.hpp"
#include "store.hpp"

namespace kiebot::dialog {

using nlohmann::json;

namespace {

// Effects that answer with an event nest; this bounds a chain of them (a
// reducer that keeps asking would be a bug).
constexpr int kMaxDepth = 8;

std::string new_nonce() {
  static std::mt19937_64 rng{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  std::string out(8, '0');
  auto v = rng();
  for (auto& c : out) {
    c = digits[v & 15];
    v >>= 4;
  }
  return out;
}

Rules rules_from(const DialogOptions& o) {
  return Rules{o.bot_username, o.stars_per_100_rub, o.top_up_presets, o.top_up_min,
               o.top_up_max,   o.referral_bonus,    o.max_running};
}

FileIn file_in(const json& file, FileIn::Kind kind) {
  auto size = int_field(file, "file_size", 0);
  return FileIn{string_field(file, "file_id").substr(0, 256), kind, size > 0 ? size : 0,
                string_field(file, "mime_type").substr(0, 100)};
}

// A message as the event it is for the conversation.
Event message_event(const json& message) {
  if (message.contains("photo") && message["photo"].is_array() && !message["photo"].empty() &&
      message["photo"].back().is_object()) {
    // The largest size Telegram offers is the last.
    return file_in(message["photo"].back(), FileIn::Kind::photo);
  }
  static const std::pair<const char*, FileIn::Kind> kFiles[] = {{"document", FileIn::Kind::document},
                                                                 {"audio", FileIn::Kind::audio},
                                                                 {"voice", FileIn::Kind::voice},
                                                                 {"video", FileIn::Kind::video}};
  for (const auto& [field, kind] : kFiles) {
    if (message.contains(field) && message[field].is_object() && !string_field(message[field], "file_id").empty())
      return file_in(message[field], kind);
  }
  // Whatever a user types may be shown back (a prompt in a caption, an
  // amount in an error): controls, bidi overrides and zero-width characters
  // go here, once.
  auto body = text::clean(string_field(message, "text"));
  if (body.empty()) return OtherIn{};
  if (auto command = read_command(body)) return CommandIn{std::move(command->name), std::move(command->payload)};
  return TextIn{std::move(body)};
}

Event query_event(const json& query) {
  auto data = string_field(query, "data");
  if (auto press = decode(data)) return PressIn{std::move(*press)};
  // The generator's "try again" button on a failed job.
  if (data.starts_with("retry:") && data.size() > 6) return RetryIn{data.substr(6)};
  return StaleIn{};
}

}  // namespace

Dialog::Dialog(Parts parts, DialogOptions options)
    : p_(parts), options_(std::move(options)), rules_(rules_from(options_)), screens_(parts.catalog, parts.texts) {
  // Every field the forms ask has its question in both languages, or the service does not start.
  check_form_texts(parts.catalog, parts.texts);
}

Context Dialog::context(const Turn& t) const {
  Context ctx{p_.catalog, p_.texts, screens_, rules_};
  ctx.user_id = t.user_id;
  ctx.chat_id = t.chat_id;
  ctx.update_id = t.update_id;
  ctx.message_id = t.user_message_id;
  ctx.first_name = t.first_name;
  ctx.pressed = !t.callback_id.empty();
  ctx.nonce = new_nonce();
  ctx.now_ms = unix_ms();
  return ctx;
}

net::awaitable<void> Dialog::start(Dispatcher& dispatcher) {
  Backoff backoff(std::chrono::seconds(1), std::chrono::seconds(30));
  while (options_.bot_username.empty()) {
    json none = json::object();
    auto me = co_await p_.telegram.call("getMe", std::move(none), std::chrono::seconds(10));
    if (me.ok) {
      options_.bot_username = me.result.value("username", "");
      rules_.bot_username = options_.bot_username;
      break;
    }
    log::warn("get_me_failed", {{"status", me.status}, {"description", me.description}});
    if (!co_await sleep_for(backoff.next())) co_return;
  }
  log::info("dialog_started", {{"bot", options_.bot_username}});
  co_await dispatcher.run();
}

net::awaitable<bool> Dialog::resolve_language(const Turn& t, Conversation& c) {
  // First contact with this chat (or its state expired): the language the
  // user chose before, else the one their Telegram app uses. Without
  // accounts, Telegram's for this turn (asked again next time): a first
  // /start with a referral must not fail on the language alone.
  std::optional<json> user;
  try {
    user = co_await load_user(t.user_id);
  } catch (const accounts_api::Unavailable& e) {
    log::info("language_from_telegram", {{"user_id", t.user_id}, {"error", e.what()}});
  }
  if (!user) {
    c.lang = language_from_telegram(t.telegram_lang);
    co_return false;
  }
  auto chosen = string_field(*user, "language");
  c.lang = chosen == "ru" || chosen == "en" ? chosen : language_from_telegram(t.telegram_lang);
  co_return true;
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
  t.user_id = in.user_id;
  t.chat_id = in.chat_id;
  t.message_id = in.message_id;
  t.user_message_id = in.user_message_id;
  t.callback_id = std::move(in.callback_id);
  t.first_name = string_field(in.from, "first_name");
  t.telegram_lang = string_field(in.from, "language_code");
  auto stored = co_await p_.store.load_state(t.chat_id);
  auto loaded = read_conversation(stored);
  if (!loaded.reset.empty()) log::warn("conversation_reset", {{"chat_id", t.chat_id}, {"reason", loaded.reset}});
  auto c = loaded.conversation;
  const auto before = to_json(c);
  Event event = OtherIn{};
  bool money = false;
  if (in.kind == "pre_checkout_query") {
    // Telegram waits at most 10 s for this answer: nothing else first.
    event = PreCheckoutIn{std::move(in.body)};
    money = true;
  } else if (in.kind == "message" && in.body.contains("successful_payment")) {
    event = PaymentIn{std::move(in.body["successful_payment"])};
    money = true;
  } else if (in.kind == "message" && in.body.contains("refunded_payment")) {
    event = RefundIn{std::move(in.body["refunded_payment"])};
    money = true;
  } else if (in.kind == "message") {
    event = message_event(in.body);
  } else {
    event = query_event(in.body);
  }
  if (money) {
    // Money that already moved at Telegram: queued even while accounts is
    // away, so nothing before it may need accounts (the language does, on
    // first contact).
    if (c.lang.empty()) c.lang = language_from_telegram(t.telegram_lang);
    co_await run(t, c, std::move(event), 0);
    co_return;
  }
  std::string guessed;  // Telegram's language, kept only for this turn
  if (c.lang.empty() && !co_await resolve_language(t, c)) guessed = c.lang;
  co_await run(t, c, std::move(event), 0);
  auto after = to_json(c);
  if (after != before || loaded.migrated) {
    if (!guessed.empty() && c.lang == guessed) after.erase("lang");
    co_await p_.store.save_state(t.chat_id, std::move(after));
  }
}

net::awaitable<void> Dialog::run(Turn& t, Conversation& c, Event event, int depth) {
  if (depth > kMaxDepth) {
    log::error("dialog_event_chain_too_long", {{"chat_id", t.chat_id}, {"event", event_kind(event)}});
    co_return;
  }
  auto step = reduce(c, event, context(t));
  c = std::move(step.next);
  // An effect's answer is reduced before the effects after it run (a
  // referral's welcome comes before the menu).
  for (auto& effect : step.effects) {
    auto answer = co_await perform(t, c, std::move(effect));
    if (answer) co_await run(t, c, std::move(*answer), depth + 1);
  }
}

net::awaitable<void> Dialog::slow_down(std::int64_t chat_id) {
  try {
    auto c = read_conversation(co_await p_.store.load_state(chat_id)).conversation;
    auto lang = c.lang.empty() ? std::string("ru") : c.lang;
    // Named, not built in the co_await expression (g++ 12 frees such temporaries twice).
    Screen notice{p_.texts.format(lang, "flood.slow_down", {}), nullptr};
    co_await send(chat_id, std::move(notice));
  } catch (const std::exception& e) {
    log::info("slow_down_failed", {{"chat_id", chat_id}, {"error", e.what()}});
  }
}

net::awaitable<void> Dialog::apologize(json update) {
  auto in = read_update(update);
  if (in.kind != "message" && in.kind != "callback_query") co_return;
  Turn t;
  t.user_id = in.user_id;
  t.chat_id = in.chat_id;
  t.callback_id = in.callback_id;
  auto lang = language_from_telegram(string_field(in.from, "language_code"));
  auto toast = p_.texts.format(lang, "error.toast", {});
  co_await answer(t, std::move(toast));
  auto apology = screens_.text_with_menu(p_.texts.format(lang, "error.apology", {}), lang);
  co_await send(t.chat_id, std::move(apology));
}

}  // namespace kiebot::dialog
