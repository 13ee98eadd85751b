// The Bot API surface of tg-emulator and its control API.
#pragma once

#include <memory>

#include "kiebot/http/router.hpp"
#include "state.hpp"

namespace kiebot::tg {

// A Bot API error: answered as {"ok":false,"error_code","description","parameters"}.
struct BotError {
  int code = 400;
  std::string description;
  json parameters = nullptr;
};

http::Response ok(json result);
http::Response error_response(const BotError& e);

// /bot<token>/<method> (GET and POST) and /file/bot<token>/<path>.
void add_bot_routes(http::Router& router, std::shared_ptr<Emulator> em);
// /control/... (see docs/tg-emulator.md).
void add_control_routes(http::Router& router, std::shared_ptr<Emulator> em);

struct Params;

// Per-chat faults (chat_faults.cpp): throws the chat's BotError, if any,
// for a call naming its chat_id; and their control route.
void check_chat_fault(Emulator& em, Bot& bot, const Params& p);
void add_chat_fault_routes(http::Router& router, std::shared_ptr<Emulator> em);

// Flood control for a message to `chat`: throws BotError 429 with retry_after.
void spend_flood(Emulator& em, Chat& chat);

// Shared by the Bot API and the control API.
Message& add_message(Emulator& em, Bot& bot, Chat& chat, bool from_bot, json fields);
json bot_user(const Bot& bot);
net::awaitable<void> run_webhook(std::shared_ptr<Emulator> em, std::string token, std::uint64_t generation);

// sendInvoice, createInvoiceLink, answerPreCheckoutQuery, refundStarPayment;
// 404 for any other method.
http::Response payment_method(Emulator& em, Bot& bot, const std::string& method, const Params& p);
// The control API's "user pays": queues a pre_checkout_query and fails the
// payment if the bot does not answer within 10 s.
json start_payment(std::shared_ptr<Emulator> em, Bot& bot, std::int64_t user_id, std::int64_t invoice_message_id);
// Marks a paid payment refunded and, as Telegram does, sends the bot a
// service message with `refunded_payment` in the user's chat. Throws
// BotError 400 CHARGE_ALREADY_REFUNDED for a second refund.
void refund_payment(Emulator& em, Bot& bot, Payment& payment);

}  // namespace kiebot::tg
