// Reading what Telegram and users send (see input.hpp).
#include "input.hpp"

#include <charconv>
#include <sstream>

#include "kiebot/base/amount.hpp"
#include "kiebot/base/json.hpp"

namespace kiebot::dialog {

using nlohmann::json;

namespace {

json object_field(const json& j, const char* name) {
  if (!j.is_object()) return json::object();
  auto it = j.find(name);
  return it != j.end() && it->is_object() ? *it : json::object();
}

}  // namespace

Incoming read_update(const json& update) {
  Incoming in;
  if (!update.is_object()) return in;
  in.update_id = int_field(update, "update_id");
  for (const char* k : {"message", "callback_query", "pre_checkout_query", "edited_message", "my_chat_member"}) {
    if (update.contains(k)) {
      in.seen = k;
      in.body = update[k];
      break;
    }
  }
  if (in.seen.empty() || in.seen == "edited_message" || in.seen == "my_chat_member") return in;
  if (!in.body.is_object()) {
    in.problem = in.seen + " is not an object";
    return in;
  }
  in.from = object_field(in.body, "from");
  in.user_id = int_field(in.from, "id");
  if (in.seen == "message") {
    auto chat = object_field(in.body, "chat");
    auto type = string_field(chat, "type");
    // The bot talks in private chats; in groups it stays quiet.
    if (!type.empty() && type != "private") return in;
    in.chat_id = int_field(chat, "id");
    in.user_message_id = int_field(in.body, "message_id");
    if (type.empty()) {
      in.problem = "message.chat.type is missing";
      return in;
    }
  } else if (in.seen == "callback_query") {
    in.callback_id = string_field(in.body, "id");
    auto message = in.body.find("message");
    if (message != in.body.end() && message->is_object()) {
      in.chat_id = int_field(object_field(*message, "chat"), "id");
      in.message_id = int_field(*message, "message_id");
    } else {
      in.chat_id = in.user_id;
    }
  } else {
    in.chat_id = in.user_id;
  }
  if (in.user_id <= 0) {
    in.problem = in.seen + ".from.id is not a positive integer";
    return in;
  }
  if (in.chat_id == 0) {
    in.problem = in.seen + ": no chat id";
    return in;
  }
  in.kind = in.seen;
  return in;
}

std::optional<Command> read_command(std::string_view text) {
  if (text.empty() || text.front() != '/') return std::nullopt;
  auto space = text.find(' ');
  auto name = text.substr(0, space);
  name = name.substr(0, name.find('@'));  // /start@kiebot in groups
  auto payload = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
  return Command{std::string(name), std::string(payload)};
}

std::optional<std::int64_t> parse_roubles(std::string_view text) {
  auto amount = parse_amount(text);
  if (!amount || amount->count() > kMaxTypedKopecks) return std::nullopt;
  return amount->count();
}

std::optional<std::int64_t> parse_positive_id(std::string_view text) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

std::optional<std::pair<std::int64_t, std::int64_t>> parse_id_and_amount(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto id = parse_positive_id(text.substr(0, space));
  auto kopecks = parse_roubles(text.substr(space + 1));
  // "42 0" would be a grant of nothing.
  if (!id || !kopecks || *kopecks <= 0 || *kopecks > kMaxGrantKopecks) return std::nullopt;
  return std::pair{*id, *kopecks};
}

std::optional<std::pair<std::int64_t, std::string>> parse_refund_input(const std::string& text) {
  std::int64_t user_id = 0;
  std::string charge, rest;
  std::istringstream words(text);
  words >> user_id >> charge;
  if (!words || user_id <= 0 || charge.empty() || charge.size() > 128 || (words >> rest)) return std::nullopt;
  return std::pair{user_id, std::move(charge)};
}

std::optional<TopUp> parse_invoice_payload(std::string_view payload) {
  constexpr std::string_view kPrefix = "topup:";
  if (!payload.starts_with(kPrefix)) return std::nullopt;
  payload.remove_prefix(kPrefix.size());
  TopUp t;
  std::int64_t* fields[] = {&t.user_id, &t.kopecks, &t.stars};
  const char* at = payload.data();
  const char* end = payload.data() + payload.size();
  for (std::size_t i = 0; i < 3; ++i) {
    if (i > 0) {
      if (at == end || *at != ':') return std::nullopt;
      ++at;
    }
    auto [stop, ec] = std::from_chars(at, end, *fields[i]);
    if (ec != std::errc() || *fields[i] <= 0) return std::nullopt;
    at = stop;
  }
  if (at != end) return std::nullopt;
  return t;
}

}  // namespace kiebot::dialog
