// tg-emulator control API (docs/tg-emulator.md): act as users, read chats as
// users see them, counters, faults and the clock.
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "api.hpp"
#include "kiebot/base/base64.hpp"
#include "kiebot/base/log.hpp"
#include "markup.hpp"

namespace kiebot::tg {

namespace {

std::int64_t id_param(const http::Request& r, const char* name) {
  try {
    return std::stoll(r.params.at(name));
  } catch (const std::exception&) {
    throw http::BadRequest{400, "invalid_id", std::string(name) + " must be an integer"};
  }
}

Bot& bot_for(Emulator& em, const http::Request& r) {
  auto token = r.query("token").value_or(em.default_token);
  auto* bot = em.bot(token);
  if (bot == nullptr) throw http::BadRequest{404, "no_such_bot", "no bot with this token"};
  return *bot;
}

json user_object(std::int64_t id, const json& body) {
  json user = {{"id", id}, {"is_bot", false}, {"first_name", body.value("first_name", "User " + std::to_string(id))}};
  if (body.contains("language_code")) user["language_code"] = body["language_code"];
  if (body.contains("username")) user["username"] = body["username"];
  return user;
}

// A minimal valid 1x1 PNG; `size` pads it with a tEXt chunk that PNG readers skip.
std::string user_photo(std::size_t size) {
  static const unsigned char kPng[] = {
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
      0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00,
      0x0c, 0x49, 0x44, 0x41, 0x54, 0x08, 0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0x18,
      0xdd, 0x8d, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
  std::string png(reinterpret_cast<const char*>(kPng), sizeof kPng);
  if (size > png.size()) png.insert(png.size() - 12, std::string(size - png.size(), '\0'));
  return png;
}

json transcript(const Chat& chat) {
  json out = json::array();
  for (auto id : chat.order) {
    const auto& m = chat.messages.at(id);
    if (m.deleted) continue;
    json entry = {{"from", m.from_bot ? "bot" : "user"}, {"message_id", m.message_id}, {"edited", m.edited}};
    if (m.body.contains("text")) entry["text"] = m.visible_text;
    if (m.body.contains("caption")) entry["caption"] = m.body["caption"];
    if (!m.media.is_null()) entry["media"] = m.media;
    if (m.body.contains("reply_markup")) entry["reply_markup"] = m.body["reply_markup"];
    if (m.body.contains("invoice")) entry["invoice"] = m.body["invoice"];
    for (const char* service : {"successful_payment", "refunded_payment"}) {
      if (m.body.contains(service)) entry[service] = m.body[service];
    }
    out.push_back(std::move(entry));
  }
  return out;
}

// The user of a load-test chat: the one it already has, else a new one.
json chat_user(Bot& bot, std::int64_t id) {
  auto it = bot.chats.find(id);
  if (it != bot.chats.end() && !it->second.user.is_null()) return it->second.user;
  return user_object(id, json::object());
}

struct Load {
  std::int64_t count = 0, users = 0, first_user = 0;
  std::string text;
};

void push_load(Emulator& em, Bot& bot, const Load& load, std::int64_t i) {
  auto uid = load.first_user + i % load.users;
  auto& chat = em.private_chat(bot, uid, chat_user(bot, uid));
  json message = {{"message_id", chat.next_message_id++},
                  {"from", chat.user},
                  {"chat", chat.object},
                  {"date", em.now_s()},
                  {"text", load.text}};
  em.push(bot, "message", std::move(message));
  em.user_wrote(chat);
}

// Pushes the load at `rate` updates a second, in 10 ms steps.
net::awaitable<void> paced_load(std::shared_ptr<Emulator> em, std::string token, Load load, std::int64_t rate) {
  net::steady_timer timer(em->executor);
  auto start = std::chrono::steady_clock::now();
  std::int64_t sent = 0;
  while (sent < load.count) {
    timer.expires_at(start + std::chrono::milliseconds(10) * (sent * 100 / rate + 1));
    co_await timer.async_wait(net::use_awaitable);
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    auto due = std::min(load.count, static_cast<std::int64_t>(elapsed.count() * static_cast<double>(rate)));
    auto* bot = em->bot(token);
    for (; sent < due && bot != nullptr; ++sent) push_load(*em, *bot, load, sent);
  }
}

json latency_summary(std::vector<double> ms) {
  if (ms.empty()) return {{"count", 0}};
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<std::size_t>(q * static_cast<double>(ms.size())))];
  };
  return {{"count", ms.size()}, {"p50", at(0.5)}, {"p90", at(0.9)}, {"p99", at(0.99)}, {"max", ms.back()}};
}

bool has_button(const json& markup, const std::string& data) {
  if (!markup.is_object() || !markup.contains("inline_keyboard")) return false;
  for (const auto& row : markup["inline_keyboard"]) {
    for (const auto& button : row) {
      if (button.value("callback_data", std::string()) == data) return true;
    }
  }
  return false;
}

// A text message from a user (a command gets its bot_command entity).
http::Response user_message(Emulator& em, const http::Request& r) {
  auto& bot = bot_for(em, r);
  auto uid = id_param(r, "user_id");
  auto body = r.json();
  auto text = body.at("text").get<std::string>();
  if (text.empty() || utf16_length(text) > 4096)
    throw http::BadRequest{400, "invalid_text", "text must be 1-4096 characters"};
  auto user = user_object(uid, body);
  auto& chat = em.private_chat(bot, uid, user);
  json fields = {{"text", text}};
  if (text.front() == '/') {
    auto end = text.find(' ');
    auto length = end == std::string::npos ? text.size() : end;
    fields["entities"] =
        json::array({{{"offset", 0}, {"length", utf16_length(text.substr(0, length))}, {"type", "bot_command"}}});
  }
  auto& m = add_message(em, bot, chat, false, fields);
  em.push(bot, "message", m.body);
  em.user_wrote(chat);
  return http::Response::json(200, {{"update_id", bot.next_update_id - 1}, {"message_id", m.message_id}});
}

// The bytes of a file a user sends: given (the sandbox page uploads a
// photo), else `size` bytes (a PNG for photos, zeros otherwise).
std::string user_file_bytes(const json& body, bool photo) {
  if (body.contains("data_base64")) {
    auto decoded = base64_decode(body.value("data_base64", ""));
    if (!decoded || decoded->empty() || decoded->size() > (20u << 20)) {
      throw http::BadRequest{400, "invalid_file", "data_base64 must be base64 of 1 byte to 20 MB"};
    }
    return std::move(*decoded);
  }
  auto size = body.value("size", std::size_t{0});
  if (size > (60u << 20)) throw http::BadRequest{400, "invalid_file", "size: at most 60 MB"};
  return photo ? user_photo(size) : std::string(std::max<std::size_t>(size, 1), '\0');
}

// A photo (POST .../photos) or another file (POST .../files with "kind":
// document, audio, voice or video) from a user, shown in the chat and
// stored as a file the bot can get; "media_group_id" makes albums.
http::Response user_file_message(Emulator& em, const http::Request& r, std::string kind) {
  auto& bot = bot_for(em, r);
  auto uid = id_param(r, "user_id");
  auto body = r.body.empty() ? json::object() : r.json();
  if (kind.empty()) kind = body.value("kind", "");
  if (kind != "photo" && kind != "document" && kind != "audio" && kind != "voice" && kind != "video")
    throw http::BadRequest{400, "invalid_kind", "kind: document, audio, voice or video"};
  bool photo = kind == "photo";
  auto& chat = em.private_chat(bot, uid, user_object(uid, body));
  auto file_id = em.unique_id(photo ? "AgACuser" : "BQACuser");
  auto bytes = user_file_bytes(body, photo);
  auto size = bytes.size();
  auto mime = body.value("mime_type", std::string(photo ? "image/png" : "application/octet-stream"));
  bot.files[file_id] = StoredFile{em.unique_id("AQADuser"), body.value("content_type", mime), std::move(bytes)};
  json file = {{"file_id", file_id}, {"file_unique_id", bot.files[file_id].file_unique_id}, {"file_size", size}};
  json fields;
  if (photo) {
    file["width"] = 1;
    file["height"] = 1;
    fields["photo"] = json::array({file});
  } else {
    if (kind != "voice" && body.contains("file_name")) file["file_name"] = body["file_name"];
    file["mime_type"] = mime;
    if (kind == "voice" || kind == "audio" || kind == "video") file["duration"] = body.value("duration", 3);
    fields[kind] = file;
  }
  if (body.contains("caption")) fields["caption"] = body["caption"];
  if (body.contains("media_group_id")) fields["media_group_id"] = body["media_group_id"];
  auto& m = add_message(em, bot, chat, false, fields);
  m.media = {{"type", kind}, {"url", "/file/bot" + bot.token + "/files/" + file_id}};
  em.push(bot, "message", m.body);
  return http::Response::json(
      200, {{"update_id", bot.next_update_id - 1}, {"message_id", m.message_id}, {"file_id", file_id}});
}

// A user presses an inline button of a bot message.
http::Response press_button(Emulator& em, const http::Request& r) {
  auto& bot = bot_for(em, r);
  auto uid = id_param(r, "user_id");
  auto body = r.json();
  auto message_id = body.at("message_id").get<std::int64_t>();
  auto data = body.at("callback_data").get<std::string>();
  auto chat = bot.chats.find(uid);
  if (chat == bot.chats.end()) throw http::BadRequest{404, "not_found", "no chat with this user"};
  auto m = chat->second.messages.find(message_id);
  if (m == chat->second.messages.end() || m->second.deleted || !m->second.from_bot) {
    throw http::BadRequest{404, "not_found", "no bot message with this message_id"};
  }
  if (!has_button(m->second.body.value("reply_markup", json()), data)) {
    throw http::BadRequest{400, "no_such_button", "the message has no button with this callback_data"};
  }
  auto id = em.unique_id("cbq");
  bot.callbacks[id] = CallbackQuery{uid, message_id, em.now_s(), false, nullptr};
  json query = {{"id", id},
                {"from", chat->second.user},
                {"message", m->second.body},
                {"chat_instance", std::to_string(uid * 7919)},
                {"data", data}};
  em.push(bot, "callback_query", query);
  return http::Response::json(200, {{"update_id", bot.next_update_id - 1}, {"callback_query_id", id}});
}

// The load that POST /control/updates asks for, pushed or paced.
http::Response push_updates(std::shared_ptr<Emulator> em, const http::Request& r) {
  auto& bot = bot_for(*em, r);
  auto body = r.json();
  Load load;
  load.count = body.value("count", std::int64_t{1});
  load.users = body.value("users", std::int64_t{100});
  load.first_user = body.value("first_user_id", std::int64_t{1'000'000});
  auto text_bytes = body.value("text_bytes", std::int64_t{100});
  auto rate = body.value("rate_per_s", std::int64_t{0});
  if (load.count < 1 || load.count > 100'000 || load.users < 1 || load.first_user < 1 || text_bytes < 1 ||
      text_bytes > 4096 || rate < 0 || rate > 100'000) {
    throw http::BadRequest{400, "invalid_load",
                           "count 1-100000, users >= 1, first_user_id >= 1, text_bytes 1-4096, rate_per_s 0-100000"};
  }
  load.text.assign(static_cast<std::size_t>(text_bytes), 'x');
  auto first_update = bot.next_update_id;
  if (rate > 0) {
    em->background->spawn("paced_load", paced_load(em, bot.token, std::move(load), rate));
    return http::Response::json(200, {{"first_update_id", first_update}, {"rate_per_s", rate}});
  }
  for (std::int64_t i = 0; i < load.count; ++i) push_load(*em, bot, load, i);
  return http::Response::json(200, {{"first_update_id", first_update}, {"last_update_id", bot.next_update_id - 1}});
}

// Acting as users: messages, photos, button presses.
void add_user_routes(http::Router& router, std::shared_ptr<Emulator> em) {
  router.add("POST", "/control/users/{user_id}/messages",
             http::SyncHandler([em](const http::Request& r) { return user_message(*em, r); }));
  router.add("POST", "/control/users/{user_id}/photos",
             http::SyncHandler([em](const http::Request& r) { return user_file_message(*em, r, "photo"); }));
  router.add("POST", "/control/users/{user_id}/files",
             http::SyncHandler([em](const http::Request& r) { return user_file_message(*em, r, ""); }));
  router.add("POST", "/control/users/{user_id}/press",
             http::SyncHandler([em](const http::Request& r) { return press_button(*em, r); }));
}

// Load generation: `count` text messages from `users` users, queued as
// updates but not kept in the chats' transcripts (memory stays flat);
// all at once, or `rate_per_s` of them a second.
void add_load_routes(http::Router& router, std::shared_ptr<Emulator> em) {
  router.add("POST", "/control/updates",
             http::SyncHandler([em](const http::Request& r) { return push_updates(em, r); }));
}

// Chats as users see them, and the answers to their button presses.
void add_chat_routes(http::Router& router, std::shared_ptr<Emulator> em) {
  router.add("GET", "/control/callbacks/{id}", http::SyncHandler([em](const http::Request& r) {
               auto& bot = bot_for(*em, r);
               auto it = bot.callbacks.find(r.params.at("id"));
               if (it == bot.callbacks.end()) throw http::BadRequest{404, "not_found", "no such callback query"};
               return http::Response::json(200, {{"answered", it->second.answered}, {"answer", it->second.answer}});
             }));
  router.add("GET", "/control/chats/{chat_id}/transcript", http::SyncHandler([em](const http::Request& r) {
               auto& bot = bot_for(*em, r);
               auto it = bot.chats.find(id_param(r, "chat_id"));
               if (it == bot.chats.end()) return http::Response::json(200, json::array());
               return http::Response::json(200, transcript(it->second));
             }));
  router.add("GET", "/control/chats/{chat_id}/action", http::SyncHandler([em](const http::Request& r) {
               auto& bot = bot_for(*em, r);
               auto it = bot.chats.find(id_param(r, "chat_id"));
               return http::Response::json(200, {{"action", it == bot.chats.end() ? "" : it->second.last_action}});
             }));
}

// Payments with Telegram Stars: paying, their state, refunds.
void add_payment_routes(http::Router& router, std::shared_ptr<Emulator> em) {
  router.add("POST", "/control/users/{user_id}/pay", http::SyncHandler([em](const http::Request& r) {
               auto& bot = bot_for(*em, r);
               auto body = r.json();
               return http::Response::json(
                   200, start_payment(em, bot, id_param(r, "user_id"), body.at("message_id").get<std::int64_t>()));
             }));
  router.add("GET", "/control/payments/{id}", http::SyncHandler([em](const http::Request& r) {
               auto& bot = bot_for(*em, r);
               auto it = bot.payments.find(r.params.at("id"));
               if (it == bot.payments.end()) throw http::BadRequest{404, "not_found", "no such payment"};
               return http::Response::json(200, {{"state", it->second.state},
                                                 {"amount", it->second.amount},
                                                 {"telegram_payment_charge_id", it->second.charge_id}});
             }));
  // Telegram refunds on its own (a dispute, support): the bot learns it from
  // the refunded_payment message.
  router.add("POST", "/control/payments/{id}/refund", http::SyncHandler([em](const http::Request& r) {
               auto& bot = bot_for(*em, r);
               auto it = bot.payments.find(r.params.at("id"));
               if (it == bot.payments.end()) throw http::BadRequest{404, "not_found", "no such payment"};
               try {
                 refund_payment(*em, bot, it->second);
               } catch (const BotError& e) {
                 throw http::BadRequest{409, "not_refundable", e.description};
               }
               return http::Response::json(200, {{"state", it->second.state}});
             }));
}

// Counters, faults, configuration and the clock.
void add_setup_routes(http::Router& router, std::shared_ptr<Emulator> em) {
  router.add("GET", "/control/stats", http::SyncHandler([em](const http::Request& r) {
               json methods = em->stats.methods;
               return http::Response::json(200, {{"methods", methods},
                                                 {"max_concurrent_polls", em->stats.max_concurrent_polls},
                                                 {"conflicts_409", em->stats.conflicts_409},
                                                 {"flood_429", em->stats.flood_429},
                                                 {"reply_latency_ms", latency_summary(em->stats.reply_latency_ms)},
                                                 {"pending_updates", bot_for(*em, r).queue.size()}});
             }));
  router.add("POST", "/control/faults", http::SyncHandler([em](const http::Request& r) {
               auto& bot = bot_for(*em, r);
               auto body = r.json();
               Fault f{body.value("status", 500), body.value("count", 1), body.value("hang", false)};
               bot.faults[body.at("method").get<std::string>()] = f;
               return http::Response::json(200, {{"method", body["method"]}, {"count", f.count}});
             }));
  router.add("POST", "/control/config", http::SyncHandler([em](const http::Request& r) {
               auto body = r.json();
               // Where the numbering continues, as after Telegram's restart
               // of it following a quiet week (tests of that case).
               if (body.contains("next_update_id")) {
                 auto next = body["next_update_id"].get<std::int64_t>();
                 if (next < 1) throw http::BadRequest{400, "invalid_config", "next_update_id must be positive"};
                 bot_for(*em, r).next_update_id = next;
               }
               em->flood_control = body.value("flood_control", em->flood_control);
               if (body.value("reset_latency", false)) em->stats.reply_latency_ms.clear();
               em->webhook_retry = std::chrono::milliseconds(body.value("webhook_retry_ms", em->webhook_retry.count()));
               return http::Response::json(
                   200, {{"flood_control", em->flood_control}, {"webhook_retry_ms", em->webhook_retry.count()}});
             }));
  router.add("POST", "/control/clock", http::SyncHandler([em](const http::Request& r) {
               em->clock_offset_s += r.json().at("advance_s").get<std::int64_t>();
               return http::Response::json(200, {{"offset_s", em->clock_offset_s}});
             }));
}

}  // namespace

void add_control_routes(http::Router& router, std::shared_ptr<Emulator> em) {
  add_user_routes(router, em);
  add_load_routes(router, em);
  add_chat_routes(router, em);
  add_chat_fault_routes(router, em);
  add_payment_routes(router, em);
  add_setup_routes(router, em);
}

}  // namespace kiebot::tg
