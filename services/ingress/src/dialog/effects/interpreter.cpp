// The interpreter: each effect the reducer asks for, run against Telegram,
// accounts, Redis and KIE; what it answers goes back to the reducer.
#include "../dialog.hpp"
#include "../dialog_metrics.hpp"
#include "../store.hpp"
#include "kiebot/accounts_client/client.hpp"
#include "kiebot/base/base64.hpp"
#include "kiebot/base/clock.hpp"
#include "kiebot/base/json.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/redis/rate_limiter.hpp"
#include "kiebot/runtime/backoff.hpp"
#include "kiebot/telegram/telegram.hpp"

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

void count(const std::string& what) {
  auto& m = Metrics::get();
  auto colon = what.find(':');
  auto area = what.substr(0, colon);
  auto label = colon == std::string::npos ? std::string() : what.substr(colon + 1);
  if (area == "expired_callback")
    m.expired_callbacks.inc();
  else if (area == "duplicate_submission")
    m.duplicate_submissions.inc();
  else if (area == "gift")
    m.gifts.inc();
  else if (area == "referral")
    m.referrals.inc();
  else if (area == "admin")
    m.admin(label);
  else if (area == "payment")
    m.payments(label);
  else if (area == "submission")
    m.submissions(label);
  else if (area == "money")
    m.money(label);
  else
    log::error("dialog_unknown_counter", {{"counter", what}});
}

bool user_need(Need need) {
  return need == Need::balance || need == Need::free || need == Need::referral || need == Need::confirm ||
         need == Need::admin_menu || need == Need::admin_action || need == Need::admin_text;
}

}  // namespace

net::awaitable<telegram::Result> Dialog::call(std::int64_t chat_id, const char* method, json params) {
  // Messages take a token from the bucket every replica and the generator share.
  co_await p_.limiter.acquire(chat_id, std::chrono::seconds(10));
  auto result = co_await p_.telegram.call(method, std::move(params), std::chrono::seconds(20));
  log::debug("telegram_sent", {{"method", method}, {"chat_id", chat_id}, {"status", result.status}});
  check_sent(result, method);
  co_return result;
}

net::awaitable<std::int64_t> Dialog::send(std::int64_t chat_id, Screen screen) {
  json params = {{"chat_id", chat_id}, {"text", std::move(screen.text)}};
  if (!screen.markup.is_null()) params["reply_markup"] = std::move(screen.markup);
  auto r = co_await call(chat_id, "sendMessage", std::move(params));
  co_return r.ok ? r.result.value("message_id", std::int64_t{0}) : 0;
}

net::awaitable<std::int64_t> Dialog::edit(std::int64_t chat_id, std::int64_t message_id, Screen screen) {
  json params = {{"chat_id", chat_id}, {"message_id", message_id}, {"text", screen.text}};
  if (!screen.markup.is_null()) params["reply_markup"] = screen.markup;
  auto r = co_await call(chat_id, "editMessageText", std::move(params));
  if (r.ok || r.description.find("not modified") != std::string::npos) co_return message_id;
  // The message is gone or too old to edit: show the screen anew.
  co_return co_await send(chat_id, std::move(screen));
}

net::awaitable<std::int64_t> Dialog::show(const Turn& t, Screen screen) {
  if (t.message_id != 0) co_return co_await edit(t.chat_id, t.message_id, std::move(screen));
  co_return co_await send(t.chat_id, std::move(screen));
}

net::awaitable<void> Dialog::answer(const Turn& t, std::string toast) {
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

net::awaitable<void> Dialog::animate(const Turn& t, std::vector<Screen> frames) {
  if (frames.empty()) co_return;
  auto message = co_await send(t.chat_id, std::move(frames.front()));
  for (std::size_t i = 1; i < frames.size(); ++i) {
    if (!co_await sleep_for(options_.gift_frame)) co_return;
    co_await edit(t.chat_id, message, std::move(frames[i]));
  }
}

net::awaitable<json> Dialog::load_user(std::int64_t user_id) {
  auto reply = co_await p_.accounts.user(UserId(user_id));
  if (!reply.ok() || !reply.body.is_object()) {
    throw accounts_api::Unavailable("accounts answered " + std::to_string(reply.status) + " for a user");
  }
  co_return reply.body;
}

net::awaitable<std::optional<Event>> Dialog::ask(Turn& t, const Conversation& c, Ask a) {
  Answered out{a.need, a.id, a.arg, a.amount};
  if (user_need(a.need)) {
    out.data = co_await load_user(a.id);
  } else if (a.need == Need::history) {
    out.jobs = co_await p_.store.history(a.id, 10);
  } else if (a.need == Need::running) {
    out.jobs = co_await p_.store.running(a.id);
  } else if (a.need == Need::repeat) {
    if (auto job = co_await p_.store.job(a.id, a.arg)) out.jobs.push_back(std::move(*job));
  } else if (a.need == Need::gift) {
    auto gift = co_await p_.accounts.gift(UserId(a.id));
    if (!gift.ok() && gift.status != 409) throw std::runtime_error("gift refused: " + gift.error());
    out.status = gift.status;
    out.data = std::move(gift.body);
  } else if (a.need == Need::stats) {
    auto stats = co_await p_.accounts.stats();
    out.data = std::move(stats.body);
  } else if (a.need == Need::lookup) {
    auto user = co_await p_.accounts.user(UserId(a.id));
    out.status = user.status;
    out.data = std::move(user.body);
  } else if (a.need == Need::set_admin) {
    auto set = co_await p_.accounts.set_admin(UserId(a.id), Kopecks(a.amount));
    out.status = set.status;
  } else if (a.need == Need::kie_credits) {
    http::ClientRequest request{"GET",
                                options_.kie_api_base + "/api/v1/chat/credit",
                                {{"Authorization", "Bearer " + options_.kie_key}},
                                {},
                                std::chrono::seconds(10)};
    try {
      auto response = co_await p_.http.send(std::move(request));
      auto j = parse_untrusted(response.body);
      if (response.status == 200 && j.is_object() && j.value("code", 0) == 200 && j.contains("data")) {
        out.data = j["data"];
      }
    } catch (const http::ClientError& e) {
      log::warn("kie_credit_failed", {{"error", e.what()}});
    }
  } else if (a.need == Need::chat_lang) {
    auto other = read_conversation(co_await p_.store.load_state(a.id)).conversation;
    if (!other.lang.empty()) out.data = other.lang;
  }
  (void)t;
  (void)c;
  co_return out;
}

// KIE fetches input files by URL. A Telegram file URL contains the bot
// token, so the file goes to KIE's own file storage and KIE gets that URL.
net::awaitable<Dialog::Upload> Dialog::upload_file(std::string file_id, std::string file_name) {
  Upload out{FileUploaded{"", file_id, file_name, 0}};
  json params = {{"file_id", file_id}};
  auto file = co_await p_.telegram.call("getFile", std::move(params), std::chrono::seconds(10));
  if (!file.ok) {
    log::warn("get_file_failed", {{"status", file.status}, {"description", file.description}});
    out.telegram_refused = file.status >= 400 && file.status < 500 && file.status != 429;
    co_return out;
  }
  auto path = file.result.value("file_path", "");
  http::ClientRequest download{"GET", p_.telegram.file_url(path), {},
                               {},    std::chrono::seconds(30),   options_.fetch_policy};
  auto bytes = co_await p_.http.send(std::move(download));
  if (bytes.status != 200) {
    log::warn("file_download_failed", {{"status", bytes.status}});
    co_return out;
  }
  json upload_body = {{"base64Data", base64_encode(bytes.body)},
                      {"uploadPath", "kiebot/inputs"},
                      {"fileName", file_id.substr(0, 24) + "-" + file_name}};
  http::ClientRequest upload{"POST",
                             options_.kie_upload_base + "/api/file-base64-upload",
                             {{"Authorization", "Bearer " + options_.kie_key}, {"Content-Type", "application/json"}},
                             upload_body.dump(),
                             std::chrono::seconds(60)};
  auto uploaded = co_await p_.http.send(std::move(upload));
  auto answer = parse_untrusted(uploaded.body);
  if (uploaded.status != 200 || !answer.is_object() || !answer.contains("data") || !answer["data"].is_object()) {
    log::warn("file_upload_failed", {{"status", uploaded.status}});
    co_return out;
  }
  out.file.url = answer["data"].value("downloadUrl", "");
  out.file.uploaded_ms = unix_ms();
  co_return out;
}

net::awaitable<Event> Dialog::money_effect(MoneyOp op) {
  auto asked = op;
  auto reply = co_await money_now(std::move(op));
  MoneyAnswered answered{std::move(asked), std::nullopt, json::object()};
  if (reply) {
    answered.status = reply->status;
    answered.body = std::move(reply->body);
  }
  Event outcome = std::move(answered);
  co_return outcome;
}

net::awaitable<void> Dialog::send_invoice(const Turn& t, Invoice e) {
  json price = json::array({{{"label", std::move(e.label)}, {"amount", e.stars}}});
  json params = {{"chat_id", t.chat_id},
                 {"title", std::move(e.title)},
                 {"description", std::move(e.description)},
                 {"payload", e.payload},
                 {"currency", "XTR"},
                 {"prices", std::move(price)}};
  co_await call(t.chat_id, "sendInvoice", std::move(params));
}

net::awaitable<void> Dialog::answer_pre_checkout(AnswerPreCheckout e) {
  json params = {{"pre_checkout_query_id", std::move(e.query_id)}, {"ok", e.ok}};
  if (!e.ok) params["error_message"] = std::move(e.error);
  auto r = co_await p_.telegram.call("answerPreCheckoutQuery", std::move(params), std::chrono::seconds(5));
  if (!r.ok) log::warn("pre_checkout_answer_failed", {{"status", r.status}, {"description", r.description}});
}

net::awaitable<std::optional<Event>> Dialog::perform(Turn& t, Conversation& c, Effect effect) {
  if (auto* e = std::get_if<Send>(&effect)) {
    co_await send(t.chat_id, std::move(e->screen));
  } else if (auto* e = std::get_if<Show>(&effect)) {
    co_await show(t, std::move(e->screen));
  } else if (auto* e = std::get_if<SendTo>(&effect)) {
    co_await send(e->chat_id, std::move(e->screen));
  } else if (auto* e = std::get_if<Answer>(&effect)) {
    co_await answer(t, std::move(e->toast));
  } else if (auto* e = std::get_if<Animate>(&effect)) {
    co_await animate(t, std::move(e->frames));
  } else if (auto* e = std::get_if<Ask>(&effect)) {
    // Every answer is named before it is returned: g++ 12 frees temporaries
    // built around a co_await too early (STYLE.md).
    auto answered = co_await ask(t, c, std::move(*e));
    co_return answered;
  } else if (auto* e = std::get_if<SetLanguage>(&effect)) {
    co_await p_.accounts.set_language(UserId(t.user_id), std::move(e->lang));
  } else if (auto* e = std::get_if<Money>(&effect)) {
    auto answered = co_await money_effect(std::move(e->op));
    co_return answered;
  } else if (auto* e = std::get_if<UploadFile>(&effect)) {
    auto upload = co_await upload_file(std::move(e->file_id), std::move(e->file_name));
    Event uploaded = std::move(upload.file);
    co_return uploaded;
  } else if (auto* e = std::get_if<Submit>(&effect)) {
    auto submitted = co_await submit(t, c, std::move(*e));
    Event outcome = submitted;
    co_return outcome;
  } else if (auto* e = std::get_if<RefundStars>(&effect)) {
    auto refunded = co_await refund_stars(t, c, std::move(*e));
    Event outcome = std::move(refunded);
    co_return outcome;
  } else if (auto* e = std::get_if<Invoice>(&effect)) {
    co_await send_invoice(t, std::move(*e));
  } else if (auto* e = std::get_if<AnswerPreCheckout>(&effect)) {
    co_await answer_pre_checkout(std::move(*e));
  } else if (auto* e = std::get_if<Count>(&effect)) {
    count(e->what);
  } else if (auto* e = std::get_if<Log>(&effect)) {
    if (e->error) {
      log::error(e->event, std::move(e->fields));
    } else {
      log::info(e->event, std::move(e->fields));
    }
  }
  co_return std::nullopt;
}

}  // namespace kiebot::dialog
