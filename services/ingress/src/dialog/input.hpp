// What Telegram and users send, read into plain values: an update, a
// command, a typed amount, admin input, an invoice payload. Pure and never
// throwing, so unit tests and fuzz/ call them directly; a field of another
// type reads as absent.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace kiebot::dialog {

// One update as the dialog sees it.
struct Incoming {
  std::string seen;     // the update's type (message, callback_query, ...); "" when none is known
  std::string kind;     // message, callback_query or pre_checkout_query; "" when there is nothing to do
  nlohmann::json body;  // the object under `seen`
  nlohmann::json from;  // the sender, always an object
  std::int64_t update_id = 0;
  std::int64_t user_id = 0;          // > 0 when `kind` is set
  std::int64_t chat_id = 0;          // != 0 when `kind` is set
  std::int64_t message_id = 0;       // callback queries: the message with the button
  std::int64_t user_message_id = 0;  // messages: the user's message
  std::string callback_id;
  // Why an update of a kind the dialog handles cannot be handled (no
  // sender, no chat, not an object); "" when it can be, or when the dialog
  // ignores it on purpose (edits, group chats, other kinds).
  std::string problem;
};
Incoming read_update(const nlohmann::json& update);

// "/start@bot ref_1" -> {"/start", "ref_1"}; nothing unless `text` starts with '/'.
struct Command {
  std::string name;  // starts with '/', holds no ' ' or '@'
  std::string payload;
};
std::optional<Command> read_command(std::string_view text);

// The largest amount a user or an admin may type: 10^9 roubles.
inline constexpr std::int64_t kMaxTypedKopecks = 100'000'000'000;
// The largest admin grant or limit: 10^7 roubles.
inline constexpr std::int64_t kMaxGrantKopecks = 1'000'000'000;

// Roubles typed by a user ("150", "150.50", "150,5", "1 500"), as kopecks in
// [0, kMaxTypedKopecks], read with integers only (kiebot/base/amount.hpp);
// the caller checks its own bounds.
std::optional<std::int64_t> parse_roubles(std::string_view text);

// An id typed by an admin or carried by /start ref_<id>: a positive integer,
// digits only.
std::optional<std::int64_t> parse_positive_id(std::string_view text);

// "<id> <roubles>" (admin grants and limits) -> id and kopecks, both > 0,
// kopecks at most kMaxGrantKopecks.
std::optional<std::pair<std::int64_t, std::int64_t>> parse_id_and_amount(std::string_view text);

// "<user id> <charge id>" (the owner's refund).
std::optional<std::pair<std::int64_t, std::string>> parse_refund_input(const std::string& text);

// "topup:<user>:<kopecks>:<stars>": what an invoice sells, all three > 0.
struct TopUp {
  std::int64_t user_id = 0, kopecks = 0, stars = 0;
};
std::optional<TopUp> parse_invoice_payload(std::string_view payload);

}  // namespace kiebot::dialog
