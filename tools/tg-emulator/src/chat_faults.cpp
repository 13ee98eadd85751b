// Per-chat faults as Telegram answers them when a chat cannot take a
// message: the user blocked the bot (403), the chat is gone (400), or the
// chat is under a long flood wait (429 with parameters.retry_after).
#include <cmath>

#include "api.hpp"
#include "params.hpp"

namespace kiebot::tg {

namespace {

std::int64_t chat_id_of(const http::Request& r) {
  try {
    return std::stoll(r.params.at("chat_id"));
  } catch (const std::exception&) {
    throw http::BadRequest{400, "invalid_id", "chat_id must be an integer"};
  }
}

Bot& bot_of(Emulator& em, const http::Request& r) {
  auto* bot = em.bot(r.query("token").value_or(em.default_token));
  if (bot == nullptr) throw http::BadRequest{404, "no_such_bot", "no bot with this token"};
  return *bot;
}

// POST /control/chats/{chat_id}/fault {"kind":"blocked"|"not_found"|"flood"|"none","retry_after"?}
http::Response set_chat_fault(Emulator& em, const http::Request& r) {
  auto& bot = bot_of(em, r);
  auto id = chat_id_of(r);
  auto body = r.json();
  auto kind = body.value("kind", std::string());
  if (kind == "none") {
    bot.chat_faults.erase(id);
    return http::Response::json(200, {{"chat_id", id}, {"kind", "none"}});
  }
  ChatFault fault;
  fault.kind = kind;
  if (kind == "flood") {
    auto retry_after = body.value("retry_after", std::int64_t{60});
    if (retry_after < 1 || retry_after > 86'400) {
      throw http::BadRequest{400, "invalid_fault", "retry_after: 1-86400 seconds"};
    }
    fault.until = std::chrono::steady_clock::now() + std::chrono::seconds(retry_after);
  } else if (kind != "blocked" && kind != "not_found") {
    throw http::BadRequest{400, "invalid_fault", "kind: blocked, not_found, flood or none"};
  }
  bot.chat_faults[id] = fault;
  return http::Response::json(200, {{"chat_id", id}, {"kind", kind}});
}

}  // namespace

void check_chat_fault(Emulator& em, Bot& bot, const Params& p) {
  auto chat_id = p.get("chat_id");
  if (!chat_id || bot.chat_faults.empty()) return;
  std::int64_t id = 0;
  try {
    id = std::stoll(*chat_id);
  } catch (const std::exception&) {
    return;  // the method reports its own error for a malformed chat_id
  }
  auto it = bot.chat_faults.find(id);
  if (it == bot.chat_faults.end()) return;
  const auto& fault = it->second;
  if (fault.kind == "blocked") throw BotError{403, "Forbidden: bot was blocked by the user"};
  if (fault.kind == "not_found") throw BotError{400, "Bad Request: chat not found"};
  auto left = std::chrono::duration<double>(fault.until - std::chrono::steady_clock::now()).count();
  if (left <= 0) {
    bot.chat_faults.erase(it);  // the wait is over
    return;
  }
  ++em.stats.flood_429;
  auto retry = static_cast<int>(std::ceil(left));
  throw BotError{429, "Too Many Requests: retry after " + std::to_string(retry), json{{"retry_after", retry}}};
}

void add_chat_fault_routes(http::Router& router, std::shared_ptr<Emulator> em) {
  router.add("POST", "/control/chats/{chat_id}/fault",
             http::SyncHandler([em](const http::Request& r) { return set_chat_fault(*em, r); }));
}

}  // namespace kiebot::tg
