// Bot API methods (core.telegram.org/bots/api), with the error texts the real
// server (tdlib/telegram-bot-api) sends for the cases the bot depends on.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cmath>

#include "api.hpp"
#include "args.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/http/client.hpp"
#include "markup.hpp"
#include "media_send.hpp"
#include "params.hpp"
#include "updates.hpp"

namespace kiebot::tg {

namespace {

constexpr std::size_t kMaxText = 4096;

const char* const kMethods[] = {"getMe",
                                "getUpdates",
                                "setWebhook",
                                "deleteWebhook",
                                "getWebhookInfo",
                                "sendMessage",
                                "editMessageText",
                                "editMessageReplyMarkup",
                                "deleteMessage",
                                "answerCallbackQuery",
                                "sendChatAction",
                                "setMyCommands",
                                "getMyCommands",
                                "getFile",
                                "sendPhoto",
                                "sendVideo",
                                "sendAudio",
                                "sendDocument",
                                "sendMediaGroup",
                                "sendInvoice",
                                "createInvoiceLink",
                                "answerPreCheckoutQuery",
                                "refundStarPayment"};

std::string canonical(std::string_view name) {
  for (const char* m : kMethods) {
    std::string_view known(m);
    if (known.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < name.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(known[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return m;
  }
  return {};
}

Chat& chat_of(Bot& bot, const Params& p) {
  auto id = integer(required(p, "chat_id"), "chat_id");
  auto it = bot.chats.find(id);
  if (it == bot.chats.end()) bad("chat not found");
  return it->second;
}

json validate_markup(const Params& p) {
  auto markup = json_param(p, "reply_markup");
  if (markup.is_null()) return nullptr;
  if (!markup.is_object()) bad("can't parse reply keyboard markup JSON object");
  if (markup.contains("inline_keyboard")) {
    const auto& rows = markup["inline_keyboard"];
    if (!rows.is_array()) bad("can't parse inline keyboard markup: field \"inline_keyboard\" must be an Array");
    for (const auto& row : rows) {
      if (!row.is_array()) bad("can't parse inline keyboard markup: rows must be Arrays");
      for (const auto& button : row) {
        if (!button.is_object() || !button.contains("text") || !button["text"].is_string()) {
          bad("can't parse inline keyboard button: Field \"text\" must be of type String");
        }
        if (button.contains("callback_data")) {
          const auto& data = button["callback_data"];
          if (!data.is_string() || data.get<std::string>().empty() || data.get<std::string>().size() > 64) {
            bad("BUTTON_DATA_INVALID");
          }
        } else if (button.contains("url")) {
          auto url = button["url"].get<std::string>();
          if (!url.starts_with("http://") && !url.starts_with("https://") && !url.starts_with("tg://")) {
            bad("BUTTON_URL_INVALID");
          }
        } else if (!button.contains("pay") && !button.contains("switch_inline_query") &&
                   !button.contains("switch_inline_query_current_chat") && !button.contains("web_app") &&
                   !button.contains("login_url") && !button.contains("copy_text")) {
          bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
        }
      }
    }
  }
  return markup;
}

Parsed checked_text(const std::string& text, const std::string& mode, std::size_t limit, const char* what) {
  auto parsed = parse_text(text, mode);
  if (parsed.error) throw BotError{400, *parsed.error};
  if (utf16_length(parsed.text) > limit) bad(std::string(what) + " is too long");
  return parsed;
}

http::Response send_message(Emulator& em, Bot& bot, const Params& p) {
  auto& chat = chat_of(bot, p);
  auto text = p.get("text").value_or("");
  auto mode = p.get("parse_mode").value_or("");
  auto parsed = checked_text(text, mode, kMaxText, "message");
  if (parsed.text.empty()) bad("message text is empty");
  auto markup = validate_markup(p);
  spend_flood(em, chat);
  json fields = {{"text", parsed.text}};
  if (!markup.is_null()) fields["reply_markup"] = markup;
  auto& m = add_message(em, bot, chat, true, fields);
  m.parse_mode = mode;
  return ok(m.body);
}

Message& bot_message(Bot& bot, const Params& p, const char* not_found) {
  auto& chat = chat_of(bot, p);
  auto id = integer(required(p, "message_id"), "message_id");
  auto it = chat.messages.find(id);
  if (it == chat.messages.end() || it->second.deleted) bad(not_found);
  if (!it->second.from_bot) bad("message can't be edited");
  return it->second;
}

http::Response edit_text(Emulator& em, Bot& bot, const Params& p) {
  auto& m = bot_message(bot, p, "message to edit not found");
  auto parsed = checked_text(required(p, "text"), p.get("parse_mode").value_or(""), kMaxText, "message");
  auto markup = validate_markup(p);
  json current_markup = m.body.value("reply_markup", json());
  if (parsed.text == m.visible_text && markup == current_markup) {
    bad("message is not modified: specified new message content and reply markup are exactly the same as a "
        "current content and reply markup of the message");
  }
  m.visible_text = parsed.text;
  m.body["text"] = parsed.text;
  if (markup.is_null())
    m.body.erase("reply_markup");
  else
    m.body["reply_markup"] = markup;
  m.body["edit_date"] = em.now_s();
  m.edited = true;
  return ok(m.body);
}

http::Response edit_markup(Emulator& em, Bot& bot, const Params& p) {
  auto& m = bot_message(bot, p, "message to edit not found");
  auto markup = validate_markup(p);
  if (markup == m.body.value("reply_markup", json())) {
    bad("message is not modified: specified new message content and reply markup are exactly the same as a "
        "current content and reply markup of the message");
  }
  if (markup.is_null())
    m.body.erase("reply_markup");
  else
    m.body["reply_markup"] = markup;
  m.body["edit_date"] = em.now_s();
  m.edited = true;
  return ok(m.body);
}

http::Response delete_message(Bot& bot, const Params& p) {
  auto& chat = chat_of(bot, p);
  auto id = integer(required(p, "message_id"), "message_id");
  auto it = chat.messages.find(id);
  if (it == chat.messages.end() || it->second.deleted) bad("message to delete not found");
  it->second.deleted = true;
  return ok(true);
}

http::Response answer_callback(Emulator& em, Bot& bot, const Params& p) {
  auto id = required(p, "callback_query_id");
  auto it = bot.callbacks.find(id);
  // A query can be answered once, within 150 s of being sent.
  if (it == bot.callbacks.end() || it->second.answered || em.now_s() - it->second.created_s > 150) {
    bad("query is too old and response timeout expired or query ID is invalid");
  }
  auto text = p.get("text").value_or("");
  if (utf16_length(text) > 200) bad("MESSAGE_TOO_LONG");
  it->second.answered = true;
  it->second.answer = {{"text", text}, {"show_alert", flag(p, "show_alert")}};
  return ok(true);
}

http::Response chat_action(Bot& bot, const Params& p) {
  auto& chat = chat_of(bot, p);
  static const char* const kActions[] = {"typing",        "upload_photo",      "record_video",     "upload_video",
                                         "record_voice",  "upload_voice",      "upload_document",  "choose_sticker",
                                         "find_location", "record_video_note", "upload_video_note"};
  auto action = required(p, "action");
  for (const char* a : kActions) {
    if (action == a) {
      chat.last_action = action;
      return ok(true);
    }
  }
  bad("wrong parameter action in request");
}

http::Response set_commands(Bot& bot, const Params& p) {
  auto commands = json_param(p, "commands");
  if (!commands.is_array() || commands.size() > 100) bad("can't parse commands JSON object");
  for (const auto& c : commands) {
    auto command = c.value("command", std::string());
    auto description = c.value("description", std::string());
    bool valid = !command.empty() && command.size() <= 32;
    for (char ch : command)
      valid = valid && (std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) ||
                        ch == '_');
    if (!valid) bad("BOT_COMMAND_INVALID");
    if (description.empty() || utf16_length(description) > 256) bad("command description must be 1-256 characters");
  }
  bot.commands = commands;
  return ok(true);
}

http::Response get_file(Bot& bot, const Params& p) {
  auto id = required(p, "file_id");
  auto it = bot.files.find(id);
  if (it == bot.files.end()) bad("invalid file_id");
  // Bots may download files of up to 20 MB (core.telegram.org/bots/api#getfile).
  if (it->second.bytes.size() > (20u << 20)) bad("file is too big");
  return ok({{"file_id", id},
             {"file_unique_id", it->second.file_unique_id},
             {"file_size", it->second.bytes.size()},
             {"file_path", "files/" + id}});
}

http::Response sync_method(std::shared_ptr<Emulator> em, Bot& bot, const std::string& method, const Params& p) {
  auto& e = *em;
  if (method == "getMe") {
    auto me = bot_user(bot);
    me["can_join_groups"] = true;
    me["can_read_all_group_messages"] = false;
    me["supports_inline_queries"] = false;
    return ok(me);
  }
  if (method == "sendMessage") return send_message(e, bot, p);
  if (method == "editMessageText") return edit_text(e, bot, p);
  if (method == "editMessageReplyMarkup") return edit_markup(e, bot, p);
  if (method == "deleteMessage") return delete_message(bot, p);
  if (method == "answerCallbackQuery") return answer_callback(e, bot, p);
  if (method == "sendChatAction") return chat_action(bot, p);
  if (method == "setMyCommands") return set_commands(bot, p);
  if (method == "getMyCommands") return ok(bot.commands);
  if (method == "getFile") return get_file(bot, p);
  if (method == "setWebhook") return set_webhook(em, bot, p);
  if (method == "deleteWebhook") return delete_webhook(bot, p);
  if (method == "getWebhookInfo") return webhook_info(e, bot);
  return payment_method(e, bot, method, p);
}

net::awaitable<http::Response> hang(std::shared_ptr<Emulator> em) {
  net::steady_timer t(em->executor, std::chrono::seconds(120));
  co_await t.async_wait(net::as_tuple(net::use_awaitable));
  co_return error_response(BotError{500, "Internal Server Error"});
}

net::awaitable<http::Response> handle(std::shared_ptr<Emulator> em, http::Request request) {
  auto token = request.params.at("token");
  auto* bot = em->bot(token);
  if (bot == nullptr) co_return error_response(BotError{401, "Unauthorized"});
  auto method = canonical(request.params.at("method"));
  if (method.empty()) co_return error_response(BotError{404, "Not Found"});
  ++em->stats.methods[method];
  if (auto fault = bot->faults.find(method); fault != bot->faults.end() && fault->second.count > 0) {
    --fault->second.count;
    if (fault->second.hang) co_return co_await hang(em);
    co_return error_response(
        BotError{fault->second.status,
                 fault->second.status == 429 ? "Too Many Requests: retry after 1" : "Internal Server Error",
                 fault->second.status == 429 ? json{{"retry_after", 1}} : json()});
  }
  try {
    Params params;
    if (request.body_stream) {
      params = co_await read_streamed_params(request);
    } else {
      params = parse_params(request);
    }
    if (method == "getUpdates") co_return co_await get_updates(em, token, std::move(params));
    check_chat_fault(*em, *bot, params);
    if (is_media_method(method)) {
      auto sent = co_await send_media(em, token, method, std::move(params));
      em->touch();
      co_return sent;
    }
    auto answer = sync_method(em, *bot, method, params);
    if (method != "getMe" && method != "getFile" && method != "getWebhookInfo") em->touch();
    co_return answer;
  } catch (const BotError& e) {
    co_return error_response(e);
  } catch (const std::invalid_argument& e) {
    co_return error_response(BotError{400, e.what()});
  }
}

http::Response serve_file(const std::shared_ptr<Emulator>& em, const http::Request& r) {
  auto* bot = em->bot(r.params.at("token"));
  if (bot == nullptr) return error_response(BotError{401, "Unauthorized"});
  auto it = bot->files.find(r.params.at("file_id"));
  if (it == bot->files.end()) return error_response(BotError{404, "Not Found"});
  return http::Response::text(200, it->second.bytes, it->second.content_type);
}

}  // namespace

// Flood control: ~1 message/s per private chat with a burst of 3, 20 per
// minute per group, 30/s overall (core.telegram.org/bots/faq#broadcasting-to-users).
void spend_flood(Emulator& em, Chat& chat) {
  if (!em.flood_control) return;
  auto now = std::chrono::steady_clock::now();
  bool group = chat.id < 0;
  double rate = group ? 20.0 / 60.0 : 1.0;
  double burst = group ? 20.0 : 3.0;
  double elapsed = std::chrono::duration<double>(now - chat.bucket_at).count();
  chat.bucket = std::min(burst, chat.bucket + elapsed * rate);
  chat.bucket_at = now;
  double global_elapsed = std::chrono::duration<double>(now - em.global_at).count();
  em.global_bucket = std::min(30.0, em.global_bucket + global_elapsed * 30.0);
  em.global_at = now;
  double wait = 0;
  if (chat.bucket < 1) wait = (1 - chat.bucket) / rate;
  if (em.global_bucket < 1) wait = std::max(wait, (1 - em.global_bucket) / 30.0);
  if (wait > 0) {
    ++em.stats.flood_429;
    int retry = static_cast<int>(std::ceil(wait));
    throw BotError{429, "Too Many Requests: retry after " + std::to_string(retry), json{{"retry_after", retry}}};
  }
  chat.bucket -= 1;
  em.global_bucket -= 1;
}

http::Response ok(json result) {
  json body = {{"ok", true}, {"result", std::move(result)}};
  return http::Response::json(200, body);
}

http::Response error_response(const BotError& e) {
  json body = {{"ok", false}, {"error_code", e.code}, {"description", e.description}};
  if (!e.parameters.is_null()) body["parameters"] = e.parameters;
  auto response = http::Response::json(e.code, body);
  if (e.code == 429 && e.parameters.contains("retry_after")) {
    response.headers.emplace_back("Retry-After", std::to_string(e.parameters["retry_after"].get<int>()));
  }
  return response;
}

json bot_user(const Bot& bot) {
  return {{"id", bot.id}, {"is_bot", true}, {"first_name", "Sandbox Bot"}, {"username", bot.username}};
}

Message& add_message(Emulator& em, Bot& bot, Chat& chat, bool from_bot, json fields) {
  Message m;
  m.message_id = chat.next_message_id++;
  m.from_bot = from_bot;
  m.body = {{"message_id", m.message_id},
            {"from", from_bot ? bot_user(bot) : chat.user},
            {"chat", chat.object},
            {"date", em.now_s()}};
  for (auto& [k, v] : fields.items()) m.body[k] = v;
  m.visible_text = m.body.value("text", "");
  if (from_bot) em.bot_replied(chat);
  em.touch();
  chat.order.push_back(m.message_id);
  return chat.messages[m.message_id] = std::move(m);
}

void add_bot_routes(http::Router& router, std::shared_ptr<Emulator> em) {
  for (const char* verb : {"GET", "POST"}) {
    router.add(verb, "/bot{token}/{method}", http::Handler([em](http::Request r) { return handle(em, std::move(r)); }));
  }
  router.add("GET", "/file/bot{token}/files/{file_id}",
             http::SyncHandler([em](const http::Request& r) { return serve_file(em, r); }));
}

}  // namespace kiebot::tg
