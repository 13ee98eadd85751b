// The dialog's consumer loop (see dispatcher.hpp).
#include "dispatcher.hpp"
#include "kiebot/base/json.hpp"

#include <boost/asio/this_coro.hpp>

#include <charconv>

#include <nlohmann/json.hpp>

#include "dialog.hpp"
#include "dialog_metrics.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/runtime/backoff.hpp"
#include "store.hpp"

namespace kiebot::dialog {

using nlohmann::json;

namespace {

bool cancelled(const net::cancellation_state& state) {
  return state.cancelled() != net::cancellation_type::none;
}

}  // namespace

bool money_update(const json& update) {
  auto message = update.find("message");
  if (message == update.end() || !message->is_object()) return false;
  return message->contains("successful_payment") || message->contains("refunded_payment");
}

Dispatcher::Dispatcher(net::any_io_executor executor, kafka::ConsumerOptions consumer, Dialog& dialog, Store& store,
                       DispatcherOptions options)
    : executor_(executor),
      consumer_(std::make_unique<kafka::Consumer>(executor, std::move(consumer))),
      dialog_(dialog),
      store_(store),
      options_(options),
      tasks_(executor, "dialog") {}

Dispatcher::~Dispatcher() {
  consumer_->close();
  consumer_.reset();
}

kafka::ConsumeOptions Dispatcher::consume_options() const {
  kafka::ConsumeOptions o;
  o.name = "dialog-updates";
  o.max_batch = 500;
  o.poll_wait = std::chrono::milliseconds(100);
  // Key: the chat id (the poller keys tg.updates by chat): a chat's updates
  // one at a time, chats in parallel.
  o.max_concurrency = options_.max_chats;
  o.max_buffered = options_.max_buffered;
  // One chat that floods must not fill the buffer everyone shares.
  o.max_waiting_per_key = options_.max_waiting_per_chat;
  o.commit_interval = options_.commit_interval;
  o.held_wait = std::chrono::milliseconds(5);
  o.drain = options_.drain;
  return o;
}

std::string Dispatcher::callback_id(const kafka::Message& message) {
  if (message.value.find("\"callback_query\"") == std::string::npos) return {};
  auto update = parse_untrusted(message.value);
  if (!update.is_object() || !update.contains("callback_query") || !update["callback_query"].is_object()) return {};
  // A field of the wrong type must not end the consumer: read it as absent.
  return string_field(update["callback_query"], "id");
}

void Dispatcher::arrived(const kafka::Message& message) {
  // The button spins until answered: if the chat is busy for long, the
  // watchdog answers it empty (callback_watchdog after it was consumed). A
  // dropped button is answered the same way, so the queue stays in deadline order.
  auto id = callback_id(message);
  if (!id.empty())
    callbacks_.emplace_back(std::chrono::steady_clock::now() + options_.callback_watchdog, std::move(id));
}

void Dispatcher::drop(const kafka::Message& message) {
  Metrics::get().outcome(callback_id(message).empty() ? "dropped" : "dropped_button");
  auto now = std::chrono::steady_clock::now();
  auto [it, fresh] = warned_.try_emplace(message.key, now);
  if (!fresh && now - it->second < options_.slow_down_every) return;
  it->second = now;
  if (warned_.size() > 10'000)
    std::erase_if(warned_, [&](const auto& w) { return now - w.second >= options_.slow_down_every; });
  log::warn("chat_flooding", {{"chat", message.key}, {"waiting", options_.max_waiting_per_chat}});
  std::int64_t chat_id = 0;
  auto [ptr, ec] = std::from_chars(message.key.data(), message.key.data() + message.key.size(), chat_id);
  if (ec == std::errc{} && chat_id != 0) tasks_.spawn(dialog_.slow_down(chat_id));
}

net::awaitable<bool> Dispatcher::process(kafka::Message message) {
  auto started = std::chrono::steady_clock::now();
  auto update = parse_untrusted(message.value);
  if (!update.is_object() || !update.contains("update_id") || !update["update_id"].is_number_integer()) {
    log::warn("update_unreadable", {{"partition", message.partition}, {"offset", message.offset}});
    Metrics::get().outcome("unreadable");
    co_return true;
  }
  auto update_id = update["update_id"].get<std::int64_t>();
  bool money = money_update(update);
  auto state = co_await net::this_coro::cancellation_state;
  log::debug("update_handling", {{"update_id", update_id}, {"chat", message.key}});
  for (int attempt = 1;; ++attempt) {
    auto tried = co_await try_once(update, update_id, attempt);
    if (tried.result == Try::Result::duplicate) co_return true;
    if (tried.result == Try::Result::handled) break;
    if (tried.result == Try::Result::malformed) {
      co_await skip_malformed(update_id, std::move(tried.error));
      co_return true;
    }
    if (cancelled(state)) co_return false;
    bool must_not_skip = money || tried.money_not_recorded;
    log::warn("update_failed",
              {{"update_id", update_id}, {"attempt", attempt}, {"money", must_not_skip}, {"error", tried.error}});
    if (must_not_skip) {
      // Money already moved (or was decided) and is not recorded anywhere
      // else yet: retried until it is, however long accounts or Redis is away.
      Metrics::get().outcome("money_retry");
      if (!co_await sleep_for(backoff_delay(options_.retry_delay, options_.money_retry_max, attempt))) co_return false;
      continue;
    }
    if (attempt >= options_.attempts) {
      co_await give_up(update, update_id, std::move(tried.error));
      break;
    }
    if (!co_await sleep_for(backoff_delay(options_.retry_delay, options_.retry_delay * 8, attempt))) co_return false;
  }
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  Metrics::get().handle_seconds.observe(took.count());
  co_return true;
}

net::awaitable<Dispatcher::Try> Dispatcher::try_once(json update, std::int64_t update_id, int attempt) {
  Try tried;
  try {
    if (co_await store_.handled(update_id)) {
      Metrics::get().outcome("duplicate");
      tried.result = Try::Result::duplicate;
      co_return tried;
    }
    co_await dialog_.handle(std::move(update));
    co_await store_.mark_handled(update_id);
    Metrics::get().outcome(attempt == 1 ? "ok" : "retried");
    tried.result = Try::Result::handled;
    co_return tried;
  } catch (const MoneyNotRecorded& e) {
    tried.error = e.what();
    tried.money_not_recorded = true;
  } catch (const nlohmann::json::exception& e) {
    tried.error = e.what();
    tried.result = Try::Result::malformed;
  } catch (const MalformedUpdate& e) {
    tried.error = e.what();
    tried.result = Try::Result::malformed;
  } catch (const std::exception& e) {
    tried.error = e.what();
  }
  co_return tried;
}

net::awaitable<void> Dispatcher::skip_malformed(std::int64_t update_id, std::string error) {
  // A field of the wrong type: no retry can fix it, money or not.
  log::error("update_malformed", {{"update_id", update_id}, {"error", error}});
  Metrics::get().outcome("malformed");
  try {
    co_await store_.mark_handled(update_id);
  } catch (const std::exception& e) {
    log::warn("mark_handled_failed", {{"update_id", update_id}, {"error", e.what()}});
  }
}

net::awaitable<void> Dispatcher::give_up(json update, std::int64_t update_id, std::string error) {
  // Skipped, never silently: logged, counted, and the user is told.
  log::error("update_skipped", {{"update_id", update_id}, {"error", error}});
  Metrics::get().outcome("failed");
  try {
    co_await dialog_.apologize(std::move(update));
    co_await store_.mark_handled(update_id);
  } catch (const std::exception& e) {
    log::warn("apology_failed", {{"update_id", update_id}, {"error", e.what()}});
  }
}

net::awaitable<void> Dispatcher::watchdog() {
  while (!stopping_) {
    if (!co_await sleep_for(std::chrono::milliseconds(100))) co_return;
    auto now = std::chrono::steady_clock::now();
    while (!callbacks_.empty() && callbacks_.front().first <= now) {
      auto id = std::move(callbacks_.front().second);
      callbacks_.pop_front();
      co_await dialog_.ensure_answered(std::move(id));
    }
  }
}

net::awaitable<void> Dispatcher::run() {
  tasks_.spawn(watchdog());
  kafka::ConsumeHandlers handlers;
  handlers.handle = [this](kafka::Message message) { return process(std::move(message)); };
  handlers.arrived = [this](const kafka::Message& message) { arrived(message); };
  handlers.overflow = [this](const kafka::Message& message) { drop(message); };
  handlers.load = [](std::size_t handling, std::size_t buffered) {
    Metrics::get().chats_in_flight.set(static_cast<double>(handling));
    Metrics::get().updates_buffered.set(static_cast<double>(buffered));
  };
  auto options = consume_options();
  std::exception_ptr stop;
  try {
    // Until cancelled; then the chats being handled get the drain to finish
    // their current update, and what finished is committed.
    co_await kafka::consume(*consumer_, std::move(options), std::move(handlers));
  } catch (const std::exception&) {
    stop = std::current_exception();
  }
  co_await net::this_coro::reset_cancellation_state();
  // The watchdog ends at once; a slow-down reply still being sent gets the drain.
  stopping_ = true;
  co_await tasks_.join(options_.drain);
  consumer_->close();
  log::info("dialog_stopped");
  if (stop) std::rethrow_exception(stop);
}

}  // namespace kiebot::dialog
