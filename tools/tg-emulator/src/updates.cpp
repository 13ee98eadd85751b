// Receiving updates (core.telegram.org/bots/api#getting-updates): getUpdates
// long polling as tdlib/telegram-bot-api does it, and webhooks, delivered one
// update at a time, in order, with X-Telegram-Bot-Api-Secret-Token and
// retried with growing delays while the update stays pending.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "args.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/http/client.hpp"
#include "updates.hpp"

namespace kiebot::tg {

namespace {

void expire_updates(Emulator& em, Bot& bot) {
  auto now = em.now_s();
  if (now == bot.expired_at_s) return;
  bot.expired_at_s = now;
  std::erase_if(bot.queue, [now](const Update& u) {
    bool short_lived = u.type == "callback_query" || u.type == "pre_checkout_query" || u.type == "shipping_query";
    return now - u.created_s > (short_lived ? 150 : 86'400);
  });
}

// At most `limit` pending updates; `*count` says how many.
std::string take_updates(Emulator& em, Bot& bot, std::size_t limit, std::size_t* count) {
  expire_updates(em, bot);
  std::string out = "[";
  std::size_t n = 0;
  for (const auto& u : bot.queue) {
    if (n == limit) break;
    if (n++ > 0) out += ',';
    out += u.raw;
  }
  out += ']';
  if (count != nullptr) *count = n;
  return out;
}

// The updates are serialized once, when queued: answering 100 of them is
// then a concatenation, as fast as a load test needs it to be.
http::Response ok_updates(const std::string& array) {
  return http::Response::text(200, "{\"ok\":true,\"result\":" + array + "}", "application/json");
}

}  // namespace

http::Response webhook_info(Emulator& em, Bot& bot) {
  json info = {{"url", bot.webhook_url.value_or("")},
               {"has_custom_certificate", false},
               {"pending_update_count", bot.queue.size()},
               {"max_connections", 40}};
  if (bot.webhook_error) {
    info["last_error_date"] = bot.webhook_error_date;
    info["last_error_message"] = *bot.webhook_error;
  }
  if (!bot.allowed_updates.empty()) info["allowed_updates"] = bot.allowed_updates;
  (void)em;
  return ok(info);
}

http::Response set_webhook(std::shared_ptr<Emulator> em, Bot& bot, const Params& p) {
  auto url = p.get("url").value_or("");
  if (url.empty()) {  // an empty URL removes the webhook, as deleteWebhook
    bot.webhook_url.reset();
    ++bot.webhook_generation;
    return ok(true);
  }
  auto parsed = http::Url::parse(url);
  if (!parsed) bad("bad webhook: Failed to resolve host: Name or service not known");
  bool loopback = parsed->host == "127.0.0.1" || parsed->host == "localhost" || parsed->host == "::1";
  // Telegram requires HTTPS; the emulator also accepts plain HTTP on loopback
  // so that a local bot can receive webhooks without a certificate.
  if (!parsed->tls() && !loopback) bad("bad webhook: An HTTPS URL must be provided for webhook");
  auto secret = p.get("secret_token").value_or("");
  if (secret.size() > 256) bad("secret token is too long");
  for (char c : secret) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      bad("secret token contains unallowed characters");
    }
  }
  if (auto allowed = json_param(p, "allowed_updates"); allowed.is_array()) {
    bot.allowed_updates.clear();
    for (const auto& a : allowed) bot.allowed_updates.insert(a.get<std::string>());
  }
  if (flag(p, "drop_pending_updates")) bot.queue.clear();
  bot.webhook_url = url;
  bot.webhook_secret = secret;
  bot.webhook_error.reset();
  auto generation = ++bot.webhook_generation;
  if (bot.waiting) {  // a waiting getUpdates ends: the webhook takes over
    bot.waiting->conflict = true;
    bot.waiting->timer.cancel();
  }
  em->background->spawn("webhook", run_webhook(em, bot.token, generation));
  return ok(true);
}

http::Response delete_webhook(Bot& bot, const Params& p) {
  if (flag(p, "drop_pending_updates")) bot.queue.clear();
  bot.webhook_url.reset();
  ++bot.webhook_generation;
  if (bot.waiting) bot.waiting->timer.cancel();
  return ok(true);
}

net::awaitable<http::Response> get_updates(std::shared_ptr<Emulator> em, std::string token, Params p) {
  auto& bot = *em->bot(token);
  if (bot.webhook_url) {
    ++em->stats.conflicts_409;
    throw BotError{409,
                   "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
                   "the webhook first"};
  }
  if (auto offset = p.get("offset")) {
    auto value = integer(*offset, "offset");
    if (value > 0) {
      while (!bot.queue.empty() && bot.queue.front().id < value) bot.queue.pop_front();
    } else if (value < 0) {
      while (static_cast<std::int64_t>(bot.queue.size()) > -value) bot.queue.pop_front();
    }
  }
  auto limit = std::clamp<std::int64_t>(p.has("limit") ? integer(*p.get("limit"), "limit") : 100, 1, 100);
  auto timeout = std::clamp<std::int64_t>(p.has("timeout") ? integer(*p.get("timeout"), "timeout") : 0, 0, 50);
  if (auto allowed = json_param(p, "allowed_updates"); allowed.is_array()) {
    bot.allowed_updates.clear();
    for (const auto& a : allowed) bot.allowed_updates.insert(a.get<std::string>());
  }
  struct Active {
    Emulator& em;
    Bot& bot;
    Active(Emulator& e, Bot& b) : em(e), bot(b) {
      em.stats.max_concurrent_polls = std::max(em.stats.max_concurrent_polls, ++bot.active_polls);
    }
    ~Active() { --bot.active_polls; }
  } active(*em, bot);
  std::size_t count = 0;
  auto updates = take_updates(*em, bot, static_cast<std::size_t>(limit), &count);
  if (count > 0 || timeout == 0) co_return ok_updates(updates);
  // A new long poll that has to wait ends the one already waiting.
  if (bot.waiting) {
    bot.waiting->conflict = true;
    bot.waiting->timer.cancel();
  }
  auto poll = std::make_shared<Poll>(em->executor);
  bot.waiting = poll;
  poll->timer.expires_after(std::chrono::seconds(timeout));
  co_await poll->timer.async_wait(net::as_tuple(net::use_awaitable));
  if (bot.waiting == poll) bot.waiting.reset();
  if (poll->conflict) {
    ++em->stats.conflicts_409;
    throw BotError{409,
                   "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
                   "running"};
  }
  co_return ok_updates(take_updates(*em, bot, static_cast<std::size_t>(limit), nullptr));
}

net::awaitable<void> run_webhook(std::shared_ptr<Emulator> em, std::string token, std::uint64_t generation) {
  auto& bot = *em->bot(token);
  auto delay = em->webhook_retry;
  while (bot.webhook_generation == generation && bot.webhook_url) {
    if (bot.queue.empty()) {
      auto poll = std::make_shared<Poll>(em->executor);
      bot.waiting = poll;
      poll->timer.expires_after(std::chrono::seconds(1));
      co_await poll->timer.async_wait(net::as_tuple(net::use_awaitable));
      if (bot.waiting == poll) bot.waiting.reset();
      continue;
    }
    auto update = bot.queue.front();
    http::ClientRequest request{
        "POST", *bot.webhook_url, {{"Content-Type", "application/json"}}, update.raw, std::chrono::seconds(10)};
    if (!bot.webhook_secret.empty())
      request.headers.emplace_back("X-Telegram-Bot-Api-Secret-Token", bot.webhook_secret);
    std::optional<std::string> failure;
    try {
      auto response = co_await em->client->send(std::move(request));
      if (response.status < 200 || response.status >= 300) {
        failure = "Wrong response from the webhook: " + std::to_string(response.status);
      }
    } catch (const http::ClientError& e) {
      failure = std::string("Connection failed: ") + e.what();
    }
    if (bot.webhook_generation != generation) break;
    if (!failure) {
      if (!bot.queue.empty() && bot.queue.front().id == update.id) bot.queue.pop_front();
      delay = em->webhook_retry;
      continue;
    }
    bot.webhook_error = *failure;
    bot.webhook_error_date = em->now_s();
    log::info("webhook_delivery_failed", {{"update_id", update.id}, {"error", *failure}});
    net::steady_timer wait(em->executor, delay);
    co_await wait.async_wait(net::as_tuple(net::use_awaitable));
    delay = std::min(delay * 2, std::chrono::milliseconds(60'000));
  }
}

}  // namespace kiebot::tg
