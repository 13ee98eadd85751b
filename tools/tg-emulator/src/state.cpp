// tg-emulator state helpers.
#include "state.hpp"

#include <random>

namespace kiebot::tg {

std::int64_t Emulator::now_s() const {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() +
         clock_offset_s;
}

Bot* Emulator::bot(const std::string& token) {
  auto it = bots.find(token);
  return it == bots.end() ? nullptr : &it->second;
}

Chat& Emulator::private_chat(Bot& bot, std::int64_t user_id, const json& user) {
  auto& chat = bot.chats[user_id];
  if (chat.id == 0) {
    chat.id = user_id;  // in a private chat the chat id is the user id
    chat.object = {{"id", user_id}, {"type", "private"}, {"first_name", user.value("first_name", "User")}};
  }
  if (!user.is_null()) chat.user = user;
  return chat;
}

void Emulator::push(Bot& b, const std::string& type, json payload) {
  // Telegram's default when allowed_updates is empty: everything except
  // chat_member, message_reaction and message_reaction_count.
  bool allowed = b.allowed_updates.empty() ? (type != "chat_member" && type.rfind("message_reaction", 0) != 0)
                                           : b.allowed_updates.count(type) > 0;
  if (!allowed) return;
  // "If there are no new updates for at least a week, then identifier of
  // the next update will be chosen randomly instead of sequentially."
  auto now = now_s();
  if (b.last_update_s != 0 && now - b.last_update_s >= 7 * 86'400) {
    static std::mt19937_64 rng{std::random_device{}()};
    b.next_update_id = std::uniform_int_distribution<std::int64_t>(1, (std::int64_t{1} << 31) - 1)(rng);
  }
  b.last_update_s = now;
  Update u;
  u.id = b.next_update_id++;
  u.type = type;
  u.created_s = now;
  u.raw = json{{"update_id", u.id}, {type, std::move(payload)}}.dump();
  b.queue.push_back(std::move(u));
  if (b.waiting) b.waiting->timer.cancel();
}

void Emulator::touch() {
  ++version;
  for (auto& waiter : change_waiters) {
    if (auto timer = waiter.lock()) timer->cancel();
  }
  change_waiters.clear();
}

void Emulator::user_wrote(Chat& chat) {
  if (chat.awaiting_reply.size() < 10'000) chat.awaiting_reply.push_back(std::chrono::steady_clock::now());
}

void Emulator::bot_replied(Chat& chat) {
  if (chat.awaiting_reply.empty()) return;
  std::chrono::duration<double, std::milli> waited = std::chrono::steady_clock::now() - chat.awaiting_reply.front();
  chat.awaiting_reply.pop_front();
  if (stats.reply_latency_ms.size() < 10'000'000) stats.reply_latency_ms.push_back(waited.count());
}

std::string Emulator::unique_id(std::string_view prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*s%llu%08llx", static_cast<int>(prefix.size()), prefix.data(),
                static_cast<unsigned long long>(next_id++), static_cast<unsigned long long>(rng() & 0xffffffff));
  return buf;
}

}  // namespace kiebot::tg
