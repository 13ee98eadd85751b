// Telegram Stars payments (core.telegram.org/bots/payments-stars): invoices in
// XTR, pre-checkout answered within 10 s, successful_payment, refunds.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "api.hpp"
#include "args.hpp"
#include "kiebot/base/log.hpp"
#include "markup.hpp"
#include "params.hpp"

namespace kiebot::tg {

namespace {

constexpr auto kPreCheckoutTimeout = std::chrono::seconds(10);

struct Invoice {
  std::string title, description, payload;
  std::int64_t amount = 0;
};

Invoice read_invoice(const Params& p) {
  Invoice inv{p.get("title").value_or(""), p.get("description").value_or(""), p.get("payload").value_or(""), 0};
  if (inv.title.empty() || utf16_length(inv.title) > 32) bad("TITLE_INVALID");
  if (inv.description.empty() || utf16_length(inv.description) > 255) bad("DESCRIPTION_INVALID");
  if (inv.payload.empty() || inv.payload.size() > 128) bad("INVOICE_PAYLOAD_INVALID");
  if (p.get("currency").value_or("") != "XTR") bad("CURRENCY_INVALID: the emulator sells Telegram Stars (XTR) only");
  if (!p.get("provider_token").value_or("").empty()) bad("PROVIDER_TOKEN_INVALID: must be empty for XTR");
  auto prices = json::parse(p.get("prices").value_or("null"), nullptr, false);
  if (!prices.is_array() || prices.size() != 1) bad("STARS_INVOICE_INVALID: exactly one price is required");
  const auto& price = prices[0];
  if (!price.is_object() || !price.contains("amount") || !price["amount"].is_number_integer() ||
      price["amount"].get<std::int64_t>() <= 0 || price["amount"].get<std::int64_t>() > 100'000) {
    bad("STARS_INVOICE_INVALID: amount must be 1-100000 stars");
  }
  inv.amount = price["amount"].get<std::int64_t>();
  return inv;
}

// Fails the payment when the bot did not answer the pre-checkout query in time.
net::awaitable<void> expire_payment(std::shared_ptr<Emulator> em, std::string token, std::string id) {
  net::steady_timer t(em->executor, kPreCheckoutTimeout);
  co_await t.async_wait(net::as_tuple(net::use_awaitable));
  auto& payment = em->bot(token)->payments[id];
  if (payment.state == "pending") payment.state = "failed";
}

http::Response send_invoice(Emulator& em, Bot& bot, const Params& p) {
  auto chat_id = p.get("chat_id").value_or("");
  auto chat = bot.chats.end();
  try {
    chat = bot.chats.find(std::stoll(chat_id));
  } catch (const std::exception&) {
  }
  if (chat == bot.chats.end()) bad("chat not found");
  auto inv = read_invoice(p);
  spend_flood(em, chat->second);
  json invoice = {{"title", inv.title},
                  {"description", inv.description},
                  {"start_parameter", ""},
                  {"currency", "XTR"},
                  {"total_amount", inv.amount}};
  auto& m = add_message(em, bot, chat->second, true, {{"invoice", invoice}});
  m.invoice_payload = inv.payload;
  m.visible_text = inv.title + " — " + std::to_string(inv.amount) + " ⭐";
  return ok(m.body);
}

// The bot's answer to a pre-checkout query: the payment succeeds or fails.
http::Response answer_pre_checkout(Emulator& em, Bot& bot, const Params& p) {
  auto id = p.get("pre_checkout_query_id").value_or("");
  auto it = bot.payments.find(id);
  if (it == bot.payments.end() || it->second.state != "pending") bad("QUERY_ID_INVALID");
  auto& payment = it->second;
  if (em.now_s() - payment.created_s > 10) {  // too late: the payment already failed for the user
    payment.state = "failed";
    bad("QUERY_ID_INVALID");
  }
  auto ok_value = p.get("ok").value_or("");
  if (ok_value != "true" && ok_value != "1") {
    if (p.get("error_message").value_or("").empty()) bad("error_message is required when ok is false");
    payment.state = "failed";
    return ok(true);
  }
  payment.state = "paid";
  payment.charge_id = em.unique_id("stxCharge");
  auto& chat = bot.chats[payment.user_id];
  json success = {{"currency", "XTR"},
                  {"total_amount", payment.amount},
                  {"invoice_payload", payment.payload},
                  {"telegram_payment_charge_id", payment.charge_id},
                  {"provider_payment_charge_id", ""}};
  auto& m = add_message(em, bot, chat, false, {{"successful_payment", success}});
  m.visible_text = "Paid " + std::to_string(payment.amount) + " ⭐";
  em.push(bot, "message", m.body);
  return ok(true);
}

http::Response refund_star_payment(Emulator& em, Bot& bot, const Params& p) {
  auto user = p.get("user_id").value_or("");
  auto charge = p.get("telegram_payment_charge_id").value_or("");
  for (auto& [id, payment] : bot.payments) {
    if (payment.charge_id != charge || std::to_string(payment.user_id) != user) continue;
    refund_payment(em, bot, payment);
    return ok(true);
  }
  bad("CHARGE_NOT_FOUND");
}

}  // namespace

http::Response payment_method(Emulator& em, Bot& bot, const std::string& method, const Params& p) {
  if (method == "sendInvoice") return send_invoice(em, bot, p);
  if (method == "createInvoiceLink") {
    read_invoice(p);
    return ok("https://t.me/$" + em.unique_id("inv"));
  }
  if (method == "answerPreCheckoutQuery") return answer_pre_checkout(em, bot, p);
  if (method == "refundStarPayment") return refund_star_payment(em, bot, p);
  throw BotError{404, "Not Found"};
}

void refund_payment(Emulator& em, Bot& bot, Payment& payment) {
  if (payment.state == "refunded") bad("CHARGE_ALREADY_REFUNDED");
  if (payment.state != "paid") bad("CHARGE_NOT_FOUND");
  payment.state = "refunded";
  auto& chat = bot.chats[payment.user_id];
  json refunded = {{"currency", "XTR"},
                   {"total_amount", payment.amount},
                   {"invoice_payload", payment.payload},
                   {"telegram_payment_charge_id", payment.charge_id}};
  auto& m = add_message(em, bot, chat, false, {{"refunded_payment", refunded}});
  m.visible_text = "Refunded " + std::to_string(payment.amount) + " ⭐";
  em.push(bot, "message", m.body);
}

json start_payment(std::shared_ptr<Emulator> em, Bot& bot, std::int64_t user_id, std::int64_t invoice_message_id) {
  auto chat = bot.chats.find(user_id);
  if (chat == bot.chats.end()) throw http::BadRequest{404, "not_found", "no chat with this user"};
  auto m = chat->second.messages.find(invoice_message_id);
  if (m == chat->second.messages.end() || !m->second.body.contains("invoice")) {
    throw http::BadRequest{404, "not_found", "no invoice with this message_id"};
  }
  Payment payment;
  payment.pre_checkout_id = em->unique_id("pcq");
  payment.user_id = user_id;
  payment.invoice_message_id = invoice_message_id;
  payment.amount = m->second.body["invoice"]["total_amount"].get<std::int64_t>();
  payment.payload = m->second.invoice_payload;
  payment.created_s = em->now_s();
  bot.payments[payment.pre_checkout_id] = payment;
  json query = {{"id", payment.pre_checkout_id},
                {"from", chat->second.user},
                {"currency", "XTR"},
                {"total_amount", payment.amount},
                {"invoice_payload", payment.payload}};
  em->push(bot, "pre_checkout_query", query);
  em->background->spawn("payment_expiry", expire_payment(em, bot.token, payment.pre_checkout_id));
  return {{"update_id", bot.next_update_id - 1}, {"pre_checkout_query_id", payment.pre_checkout_id}};
}

}  // namespace kiebot::tg
