// The tg-emulator's state: bots, chats, messages, updates, payments, limits.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kiebot/http/http.hpp"
#include "kiebot/runtime/net.hpp"
#include "kiebot/runtime/task_group.hpp"

namespace kiebot::http {
class Client;
}

namespace kiebot::tg {

using json = nlohmann::json;

struct Update {
  std::int64_t id = 0;
  std::string type;  // message, callback_query, pre_checkout_query, ...
  std::string raw;   // the whole Update object, serialized once when queued
  std::int64_t created_s = 0;
};

struct Message {
  std::int64_t message_id = 0;
  bool from_bot = false;
  bool edited = false;
  bool deleted = false;
  json body;                 // the Message object as the Bot API returns it
  std::string visible_text;  // markup removed
  std::string parse_mode;
  std::string invoice_payload;  // for invoices: never shown to the user
  json media;                   // {"type","url"} for the transcript
};

struct Chat {
  std::int64_t id = 0;
  json object;  // the Chat object
  json user;    // the User object of the private chat's user
  std::int64_t next_message_id = 1;
  std::vector<std::int64_t> order;
  std::map<std::int64_t, Message> messages;
  std::string last_action;  // sendChatAction
  // When each user message still without a bot reply arrived (update-to-reply latency).
  std::deque<std::chrono::steady_clock::time_point> awaiting_reply;
  double bucket = 3;  // flood control tokens
  std::chrono::steady_clock::time_point bucket_at = std::chrono::steady_clock::now();
};

struct Poll {
  explicit Poll(net::any_io_executor ex) : timer(ex) {}
  net::steady_timer timer;
  bool conflict = false;
};

struct CallbackQuery {
  std::int64_t chat_id = 0;
  std::int64_t message_id = 0;
  std::int64_t created_s = 0;
  bool answered = false;
  json answer;
};

struct Payment {
  std::string pre_checkout_id;
  std::int64_t user_id = 0;
  std::int64_t invoice_message_id = 0;
  std::int64_t amount = 0;
  std::string payload;
  std::string state = "pending";  // pending, paid, failed, refunded
  std::string charge_id;
  std::int64_t created_s = 0;
};

struct StoredFile {
  std::string file_unique_id;
  std::string content_type;
  std::string bytes;
};

struct Fault {
  int status = 500;
  int count = 0;
  bool hang = false;
};

// A chat that cannot take messages (POST /control/chats/{id}/fault).
struct ChatFault {
  std::string kind;  // blocked, not_found, flood
  std::chrono::steady_clock::time_point until{};  // flood: when the wait ends
};

struct Bot {
  std::string token;
  std::int64_t id = 0;
  std::string username;
  std::deque<Update> queue;       // ordered by id
  std::int64_t expired_at_s = 0;  // expiry runs at most once per second
  std::int64_t next_update_id = 1;
  std::int64_t last_update_s = 0;         // when the last update was queued
  std::set<std::string> allowed_updates;  // empty: all but chat_member, message_reaction*
  std::shared_ptr<Poll> waiting;
  int active_polls = 0;
  std::optional<std::string> webhook_url;
  std::string webhook_secret;
  std::optional<std::string> webhook_error;
  std::int64_t webhook_error_date = 0;
  std::uint64_t webhook_generation = 0;  // a new setWebhook restarts delivery
  std::map<std::int64_t, Chat> chats;
  std::map<std::string, CallbackQuery> callbacks;
  std::map<std::string, Payment> payments;  // by pre_checkout_query id
  std::map<std::string, StoredFile> files;  // by file_id
  json commands = json::array();
  std::map<std::string, Fault> faults;  // by lower-case method
  std::map<std::int64_t, ChatFault> chat_faults;  // by chat id
};

struct Stats {
  std::map<std::string, std::uint64_t> methods;
  std::vector<double> reply_latency_ms;  // user message queued -> the bot's next message in that chat
  int max_concurrent_polls = 0;
  std::uint64_t conflicts_409 = 0;
  std::uint64_t flood_429 = 0;
};

struct Emulator {
  net::any_io_executor executor;
  // What the emulator starts on its own (webhook deliveries, payment expiry,
  // paced loads): owned by main, joined at shutdown.
  TaskGroup* background = nullptr;
  std::map<std::string, Bot> bots;  // by token
  std::string default_token;
  Stats stats;
  bool flood_control = true;
  // As a local Bot API server (telegram-bot-api --local): uploads up to 2000 MB.
  bool local_api = false;
  std::int64_t clock_offset_s = 0;  // advanced by the control API to test expiry
  std::chrono::milliseconds webhook_retry{1000};
  std::unique_ptr<http::Client> client;
  std::uint64_t next_id = 1;
  // Global flood bucket: 30 messages per second.
  double global_bucket = 30;
  std::chrono::steady_clock::time_point global_at = std::chrono::steady_clock::now();

  std::int64_t now_s() const;
  Bot* bot(const std::string& token);
  Chat& private_chat(Bot& bot, std::int64_t user_id, const json& user);
  // Queues an update unless allowed_updates excludes its type; wakes a poll.
  void push(Bot& bot, const std::string& type, json payload);
  // Something a chat shows changed: wakes the sandbox page's long polls.
  void touch();
  std::uint64_t version = 0;
  std::vector<std::weak_ptr<net::steady_timer>> change_waiters;  // cancelled on every touch
  nlohmann::json sandbox;                                        // the page's panel: where ingress and accounts are
  // A user message to `chat` was queued / the bot sent a message there.
  void user_wrote(Chat& chat);
  void bot_replied(Chat& chat);
  std::string unique_id(std::string_view prefix);
};

}  // namespace kiebot::tg
