// The dialog's consumer loop (see dispatcher.hpp).
#include "kiebot/common/json.hpp"
#include "dispatcher.hpp"

#include <boost/asio/this_coro.hpp>

#include <charconv>

#include <nlohmann/json.hpp>

#include "dialog.hpp"
#include "dialog_metrics.hpp"
#include "kiebot/common/backoff.hpp"
#include "kiebot/common/log.hpp"
#include "store.hpp"

namespace kiebot::dialog {

using nlohmann::json;

namespace {

bool cancelled(const net::cancellation_state& state) { return state.cancelled() != net::cancellation_type::none; }

}  // namespace

bool money_update(const json& update) {
  auto message = update.find("message");
  if (message == update.end() || !message->is_object()) return false;
  return message->contains("successful_payment") || message->contains("refunded_payment");
}

Dispatcher::Dispatcher(net::any_io_executor executor, kafka::ConsumerOptions consumer, Dialog& dialog, Store& store,
                       DispatcherOptions options)
    : executor_(executor), dialog_(dialog), store_(store), options_(options), tasks_(executor, "dialog") {
  consumer.on_revoked = [this](const std::vector<kafka::TopicPartition>& parts) { revoked(parts); };
  consumer_ = std::make_unique<kafka::Consumer>(executor, std::move(consumer));
}

Dispatcher::~Dispatcher() {
  consumer_->close();
  consumer_.reset();
}

void Dispatcher::enqueue(kafka::Message message) {
  auto& partition = partitions_[{message.topic, message.partition}];
  partition.next = std::max(partition.next, message.offset + 1);
  // The button spins until answered: if the chat is busy for long, the
  // watchdog answers it empty (callback_watchdog after it was consumed).
  std::string callback_id;
  if (message.value.find("\"callback_query\"") != std::string::npos) {
    auto update = parse_untrusted(message.value);
    if (update.is_object() && update.contains("callback_query") && update["callback_query"].is_object()) {
      // A field of the wrong type must not end the consumer: read it as absent.
      callback_id = string_field(update["callback_query"], "id");
    }
  }
  // Key: the chat id (the poller keys tg.updates by chat). One chat that
  // floods must not fill the buffer everyone shares.
  // (A dropped button is answered by the watchdog like any other, so the
  // queue stays in deadline order.)
  if (!callback_id.empty()) {
    callbacks_.emplace_back(std::chrono::steady_clock::now() + options_.callback_watchdog, callback_id);
  }
  auto waiting = chats_.find(message.key);
  if (waiting != chats_.end() && waiting->second.queue.size() >= options_.max_waiting_per_chat) {
    drop(message, !callback_id.empty());
    return;
  }
  partition.pending.insert(message.offset);
  ++buffered_;
  auto& chat = chats_[message.key];
  chat.queue.push_back(std::move(message));
  if (!chat.running) {
    chat.running = true;
    ready_.push_back(chat.queue.back().key);
  }
}

void Dispatcher::drop(const kafka::Message& message, bool callback) {
  Metrics::get().outcome(callback ? "dropped_button" : "dropped");
  auto now = std::chrono::steady_clock::now();
  auto [it, fresh] = warned_.try_emplace(message.key, now);
  if (!fresh && now - it->second < options_.slow_down_every) return;
  it->second = now;
  if (warned_.size() > 10'000) std::erase_if(warned_, [&](const auto& w) { return now - w.second >= options_.slow_down_every; });
  log::warn("chat_flooding", {{"chat", message.key}, {"waiting", options_.max_waiting_per_chat}});
  std::int64_t chat_id = 0;
  auto [ptr, ec] = std::from_chars(message.key.data(), message.key.data() + message.key.size(), chat_id);
  if (ec == std::errc{} && chat_id != 0) tasks_.spawn(dialog_.slow_down(chat_id));
}

void Dispatcher::start_ready() {
  while (running_ < options_.max_chats && !ready_.empty()) {
    auto chat = std::move(ready_.front());
    ready_.pop_front();
    ++running_;
    tasks_.spawn(drain_chat(std::move(chat)));
  }
  Metrics::get().chats_in_flight.set(static_cast<double>(running_));
  Metrics::get().updates_buffered.set(static_cast<double>(buffered_));
}

net::awaitable<void> Dispatcher::drain_chat(std::string key) {
  while (true) {
    auto it = chats_.find(key);
    if (it == chats_.end() || it->second.queue.empty()) {
      if (it != chats_.end()) chats_.erase(it);
      break;
    }
    auto message = std::move(it->second.queue.front());
    it->second.queue.pop_front();
    // Cancelled mid-update (shutdown): its offset stays uncommitted, so the
    // partition's next owner handles it again.
    if (!co_await process(message)) break;
    done(message);
  }
  --running_;
  start_ready();
}

void Dispatcher::done(const kafka::Message& message) {
  --buffered_;
  auto it = partitions_.find({message.topic, message.partition});
  if (it != partitions_.end()) it->second.pending.erase(message.offset);
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
    std::string error;
    bool must_not_skip = money;
    bool malformed = false;
    try {
      if (co_await store_.handled(update_id)) {
        Metrics::get().outcome("duplicate");
        co_return true;
      }
      co_await dialog_.handle(update);
      co_await store_.mark_handled(update_id);
      Metrics::get().outcome(attempt == 1 ? "ok" : "retried");
      break;
    } catch (const MoneyNotRecorded& e) {
      error = e.what();
      must_not_skip = true;
    } catch (const nlohmann::json::exception& e) {
      error = e.what();
      malformed = true;
    } catch (const MalformedUpdate& e) {
      error = e.what();
      malformed = true;
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (malformed) {
      // A field of the wrong type: no retry can fix it, money or not.
      log::error("update_malformed", {{"update_id", update_id}, {"error", error}});
      Metrics::get().outcome("malformed");
      try {
        co_await store_.mark_handled(update_id);
      } catch (const std::exception& e) {
        log::warn("mark_handled_failed", {{"update_id", update_id}, {"error", e.what()}});
      }
      co_return true;
    }
    if (cancelled(state)) co_return false;
    log::warn("update_failed", {{"update_id", update_id}, {"attempt", attempt}, {"money", must_not_skip}, {"error", error}});
    if (must_not_skip) {
      // Money already moved (or was decided) and is not recorded anywhere
      // else yet: retried until it is, however long accounts or Redis is away.
      Metrics::get().outcome("money_retry");
      if (!co_await sleep_for(backoff_delay(options_.retry_delay, options_.money_retry_max, attempt))) co_return false;
      continue;
    }
    if (attempt >= options_.attempts) {
      // Skipped, never silently: logged, counted, and the user is told.
      log::error("update_skipped", {{"update_id", update_id}, {"error", error}});
      Metrics::get().outcome("failed");
      try {
        co_await dialog_.apologize(update);
        co_await store_.mark_handled(update_id);
      } catch (const std::exception& e) {
        log::warn("apology_failed", {{"update_id", update_id}, {"error", e.what()}});
      }
      break;
    }
    if (!co_await sleep_for(backoff_delay(options_.retry_delay, options_.retry_delay * 8, attempt))) co_return false;
  }
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  Metrics::get().handle_seconds.observe(took.count());
  co_return true;
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

void Dispatcher::revoked(const std::vector<kafka::TopicPartition>& parts) {
  // Updates not started yet belong to the partitions' next owner now.
  for (const auto& tp : parts) {
    for (auto& [key, chat] : chats_) {
      std::erase_if(chat.queue, [&](const kafka::Message& m) {
        bool gone = m.topic == tp.topic && m.partition == tp.partition;
        if (gone) --buffered_;
        return gone;
      });
    }
    partitions_.erase({tp.topic, tp.partition});
  }
}

net::awaitable<void> Dispatcher::commit() {
  std::vector<std::pair<kafka::TopicPartition, std::int64_t>> offsets;
  for (auto& [tp, p] : partitions_) {
    auto safe = p.pending.empty() ? p.next : *p.pending.begin();
    if (safe > p.committed && safe >= 0) {
      offsets.push_back({kafka::TopicPartition{tp.first, tp.second}, safe});
      p.committed = safe;
    }
  }
  if (offsets.empty()) co_return;
  try {
    co_await consumer_->commit(std::move(offsets));
  } catch (const kafka::Error& e) {
    // During a rebalance: the next owner starts from the last commit, and
    // the handled-update ids keep it from repeating what was done here.
    log::info("dialog_commit_failed", {{"error", e.what()}});
  }
}

net::awaitable<void> Dispatcher::run() {
  tasks_.spawn(watchdog());
  auto last_commit = std::chrono::steady_clock::now();
  std::exception_ptr stop;
  try {
    while (true) {
      if (buffered_ >= options_.max_buffered) {
        if (!co_await sleep_for(std::chrono::milliseconds(5))) break;
      } else {
        auto messages = co_await consumer_->poll(500, std::chrono::milliseconds(100));
        if (!messages.empty()) log::debug("updates_consumed", {{"count", messages.size()}});
        for (auto& m : messages) enqueue(std::move(m));
        start_ready();
      }
      if (std::chrono::steady_clock::now() - last_commit >= options_.commit_interval) {
        co_await commit();
        last_commit = std::chrono::steady_clock::now();
      }
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != net::error::operation_aborted) stop = std::current_exception();
  }
  // Shutdown: let the chats being handled finish their current update.
  co_await net::this_coro::reset_cancellation_state();
  for (auto& [key, chat] : chats_) {
    buffered_ -= chat.queue.size();
    chat.queue.clear();
  }
  ready_.clear();
  // The watchdog ends at once; the chats get the drain to finish their
  // update, then are cancelled, and nothing of theirs runs after this.
  stopping_ = true;
  co_await tasks_.join(options_.drain);
  co_await commit();
  consumer_->close();
  log::info("dialog_stopped", {{"unfinished_chats", running_}});
  if (stop) std::rethrow_exception(stop);
}

}  // namespace kiebot::dialog
