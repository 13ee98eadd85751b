// Webhook delivery (core.telegram.org/bots/api#setwebhook): one update at a
// time, in order, with X-Telegram-Bot-Api-Secret-Token; a failed delivery is
// retried with growing delays and the update stays pending meanwhile.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "api.hpp"
#include "kiebot/common/http_client.hpp"
#include "kiebot/common/log.hpp"

namespace kiebot::tg {

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
    http::ClientRequest request{"POST", *bot.webhook_url, {{"Content-Type", "application/json"}}, update.body.dump(),
                                std::chrono::seconds(10)};
    if (!bot.webhook_secret.empty()) request.headers.emplace_back("X-Telegram-Bot-Api-Secret-Token", bot.webhook_secret);
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
