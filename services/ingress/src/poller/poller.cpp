// The getUpdates loop (see poller.hpp and docs/ingress.md).
#include "poller.hpp"
#include "kiebot/base/clock.hpp"

#include <optional>

#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "bot_api.hpp"
#include "ingress_metrics.hpp"
#include "kiebot/base/errors.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/redis/lease.hpp"
#include "kiebot/redis/redis.hpp"
#include "kiebot/runtime/backoff.hpp"
#include "kiebot/runtime/lifecycle.hpp"
#include "kiebot/runtime/task_group.hpp"

namespace kiebot::ingress {

namespace {

// A started batch is not cancelled: it ends by itself (published, fenced,
// or given up while stopping) or with the process's drain.
constexpr std::chrono::hours kShieldedBatch{24};

using Clock = std::chrono::steady_clock;

net::awaitable<bool> cancelled() {
  auto state = co_await net::this_coro::cancellation_state;
  co_return state.cancelled() != net::cancellation_type::none;
}

const char* conflict_advice(ConflictCause cause) {
  switch (cause) {
    case ConflictCause::webhook_active:
      return "a webhook is set for this bot, so getUpdates cannot work: set TELEGRAM_DELETE_WEBHOOK=1 to delete it, "
             "or run with TELEGRAM_MODE=webhook";
    case ConflictCause::other_poller:
      return "another process is calling getUpdates with this bot token (an old deployment, a script, a developer's "
             "machine); only one may poll: stop it, or revoke the token with @BotFather";
    default:
      return "Telegram refused getUpdates with 409 Conflict";
  }
}

// How long to wait before the next getUpdates after `answer`; 0 to go on
// with its updates. Throws ExitError when Telegram refuses the token.
std::chrono::milliseconds pause_after(const Answer& answer, Backoff& errors, Backoff& conflicts) {
  auto& m = Metrics::get();
  switch (answer.kind) {
    case Answer::Kind::ok:
      return std::chrono::milliseconds{0};
    case Answer::Kind::conflict:
      return conflicts.next();
    case Answer::Kind::throttled:
      m.throttled.inc();
      log::warn("telegram_throttled", {{"retry_after_s", answer.retry_after.count()}});
      return answer.retry_after;
    case Answer::Kind::unauthorized:
      log::error("telegram_unauthorized", {{"status", answer.status}, {"description", answer.description}});
      throw ExitError(2, "Telegram refused TELEGRAM_BOT_TOKEN (" + std::to_string(answer.status) + " " +
                             answer.description + "): check the token with @BotFather and TELEGRAM_API_BASE");
    case Answer::Kind::transient:
    case Answer::Kind::rejected:
      break;
  }
  m.telegram_errors.inc();
  auto wait = errors.next();
  log::warn("get_updates_failed",
            {{"status", answer.status}, {"description", answer.description}, {"retry_in_ms", wait.count()}});
  return wait;
}

// The updates of a getUpdates body; nothing when it cannot be read.
std::optional<std::vector<RawUpdate>> read_updates(const std::string& body) {
  try {
    return scan_get_updates(body);
  } catch (const ScanError& e) {
    Metrics::get().telegram_errors.inc();
    log::error("get_updates_unreadable", {{"error", e.what()}});
    return std::nullopt;
  }
}

}  // namespace

const std::vector<std::string>& allowed_updates() {
  static const std::vector<std::string> types{"message", "edited_message", "callback_query", "pre_checkout_query",
                                              "my_chat_member"};
  return types;
}

Poller::Poller(BotApi& api, kafka::Producer& producer, Lease& lease, OffsetStore& offsets, PollerOptions options,
               std::function<bool()> stopping)
    : api_(api),
      producer_(producer),
      lease_(lease),
      offsets_(offsets),
      options_(std::move(options)),
      stopping_(std::move(stopping)) {}

bool Poller::fenced(std::int64_t epoch, const char* step) const {
  if (lease_.valid() && lease_.epoch() == epoch) return false;
  Metrics::get().fenced.inc();
  log::warn("poll_fenced", {{"epoch", epoch},
                            {"step", step},
                            {"message", "the lease may have passed to another replica: this batch is left to it"}});
  return true;
}

net::awaitable<StoredOffset> Poller::read_offset() {
  Backoff backoff(options_.backoff_min, options_.backoff_max);
  while (true) {
    try {
      auto stored = co_await offsets_.read();
      if (!stored.owner.empty() && stored.owner != options_.owner) {
        Metrics::get().failovers.inc();
        log::warn("poll_takeover",
                  {{"previous_owner", stored.owner}, {"previous_epoch", stored.epoch}, {"offset", stored.offset}});
      }
      co_return stored;
    } catch (const redis::Error&) {
      // Retried whatever the kind (polling cannot go on without it); a bug is loud.
      report_error("offset_read_failed", std::current_exception());
    }
    if (!co_await sleep_for(backoff.next())) throw boost::system::system_error(net::error::operation_aborted);
  }
}

net::awaitable<void> Poller::run(std::int64_t epoch) {
  auto& m = Metrics::get();
  last_ = co_await read_offset();
  m.offset.set(static_cast<double>(last_.offset));
  log::info("polling", {{"epoch", epoch}, {"offset", last_.offset}, {"long_poll_s", options_.long_poll.count()}});
  Backoff backoff(options_.backoff_min, options_.backoff_max);
  Backoff conflict_backoff(std::chrono::seconds(1), std::chrono::seconds(30));
  // The offset of the next getUpdates, 0 for none. A holder starts without
  // one: the stored offset may belong to a batch its predecessor published
  // but never confirmed, which plan_batch recognises by its ids, and never
  // confirming what nobody has seen is safe even if Telegram restarted its
  // numbering. Once a call with the offset succeeded, everything below it is
  // confirmed and later calls go without it until the next batch.
  std::int64_t confirm = 0;
  while (!co_await cancelled()) {
    auto answer = co_await get_updates(confirm);
    if (co_await cancelled()) co_return;
    if (answer.kind == Answer::Kind::conflict) {
      bool webhook_deleted = co_await resolve_conflict(answer.description);
      if (webhook_deleted) continue;
    }
    auto wait = pause_after(answer, backoff, conflict_backoff);
    if (wait.count() > 0) {
      if (!co_await sleep_for(wait)) co_return;
      continue;
    }
    backoff.reset();
    conflict_backoff.reset();
    if (confirm > 0) {
      // The call succeeded: everything below `confirm` is confirmed, so an
      // id of the stored batch seen from now on is a new update (Telegram
      // may restart its numbering), never one to skip.
      std::erase_if(last_.batch, [confirm](std::int64_t id) { return id < confirm; });
      confirm = 0;
    }
    Received received;
    received.at = Clock::now();
    received.body = std::make_shared<const std::string>(std::move(answer.body));
    auto updates = read_updates(*received.body);
    if (!updates) {
      if (!co_await sleep_for(backoff.next())) co_return;
      continue;
    }
    if (updates->empty()) continue;
    received.updates = std::move(*updates);
    auto next = co_await take(epoch, std::move(received));
    if (!next) co_return;
    confirm = *next;
    m.offset.set(static_cast<double>(confirm));
  }
}

net::awaitable<Answer> Poller::get_updates(std::int64_t confirm) {
  const auto http_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.long_poll) + std::chrono::seconds(10);
  nlohmann::json request = {
      {"limit", 100}, {"timeout", options_.long_poll.count()}, {"allowed_updates", allowed_updates()}};
  if (confirm > 0) request["offset"] = confirm;
  auto body = request.dump();
  auto answer = co_await api_.call("getUpdates", std::move(body), http_timeout);
  co_return answer;
}

net::awaitable<bool> Poller::resolve_conflict(std::string description) {
  auto& m = Metrics::get();
  auto cause = conflict_cause(description);
  (cause == ConflictCause::webhook_active ? m.conflicts_webhook : m.conflicts_other_poller).inc();
  log::error("telegram_conflict",
             {{"cause", to_string(cause)}, {"description", description}, {"message", conflict_advice(cause)}});
  if (cause != ConflictCause::webhook_active || !options_.delete_webhook) co_return false;
  // Pending updates are kept: they come through getUpdates next.
  std::string keep_pending = R"({"drop_pending_updates":false})";
  auto deleted = co_await api_.call("deleteWebhook", std::move(keep_pending), std::chrono::seconds(10));
  log::warn("webhook_deleted", {{"ok", deleted.kind == Answer::Kind::ok}, {"description", deleted.description}});
  co_return deleted.kind == Answer::Kind::ok;
}

net::awaitable<std::optional<std::int64_t>> Poller::take(std::int64_t epoch, Received received) {
  auto& m = Metrics::get();
  m.received.inc(static_cast<double>(received.updates.size()));
  auto plan = plan_batch(received.updates, last_);
  if (plan.skipped > 0) {
    m.skipped.inc(static_cast<double>(plan.skipped));
    log::info("batch_already_published", {{"skipped", plan.skipped}, {"stored_offset", last_.offset}});
  }
  if (plan.publish.empty()) co_return plan.confirm;
  if (plan.restarted) {
    log::warn("update_ids_restarted", {{"stored_offset", last_.offset},
                                       {"first_update_id", plan.publish.front().update_id},
                                       {"message", "Telegram restarted its update numbering (after a quiet week)"}});
  }
  if (fenced(epoch, "poll")) co_return std::nullopt;
  Batch batch;
  batch.body = std::move(received.body);
  batch.updates = std::move(plan.publish);
  for (const auto& u : batch.updates) batch.ids.push_back(u.update_id);
  batch.confirm = plan.confirm;
  batch.restarted = plan.restarted;
  batch.received_at = received.at;
  batch.received_at_ms = unix_ms();
  bool go_on = co_await deliver_shielded(epoch, std::move(batch));
  if (!go_on) co_return std::nullopt;
  co_return plan.confirm;
}

net::awaitable<bool> Poller::deliver_shielded(std::int64_t epoch, Batch batch) {
  // Shielded: once started, the batch is published and its offset
  // stored even if shutdown begins meanwhile. It runs as a child of its
  // own group, which our cancellation does not reach (join() is not
  // interrupted by it); only the process's drain deadline ends it.
  auto executor = co_await net::this_coro::executor;
  TaskGroup shield(executor, "poller_batch");
  Delivery delivery;
  shield.spawn(deliver_into(epoch, std::move(batch), &delivery));
  co_await shield.join(kShieldedBatch);
  if (delivery.failure) std::rethrow_exception(delivery.failure);
  co_return delivery.go_on;
}

net::awaitable<void> Poller::deliver_into(std::int64_t epoch, Batch batch, Delivery* out) {
  try {
    out->go_on = co_await deliver(epoch, std::move(batch));
  } catch (...) {
    out->failure = std::current_exception();
  }
}

net::awaitable<bool> Poller::deliver(std::int64_t epoch, Batch batch) {
  auto& m = Metrics::get();
  if (!co_await publish(epoch, batch)) co_return false;
  m.published.inc(static_cast<double>(batch.updates.size()));
  auto published_at = Clock::now();
  if (!co_await store_offset(epoch, batch)) co_return false;
  auto stored_at = Clock::now();
  last_ = StoredOffset{batch.confirm, epoch, options_.owner, std::move(batch.ids)};
  m.batches.inc();
  m.publish_seconds.observe(std::chrono::duration<double>(stored_at - batch.received_at).count());
  auto us = [](Clock::duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); };
  log::debug("batch_confirmed", {{"updates", batch.updates.size()},
                                 {"offset", batch.confirm},
                                 {"publish_us", us(published_at - batch.received_at)},
                                 {"store_us", us(stored_at - published_at)}});
  co_return true;
}

net::awaitable<bool> Poller::publish(std::int64_t epoch, const Batch& batch) {
  auto& m = Metrics::get();
  // While Kafka cannot take the batch, it is held here and Telegram is not
  // polled: the updates stay unconfirmed there, so none is lost.
  Backoff backoff(options_.backoff_min, std::chrono::seconds(5));
  while (true) {
    // Stamped with a time taken before the lease check: a holder frozen
    // between the check and librdkafka's enqueue (a stop-the-world pause)
    // still publishes messages that belong to its valid tenure. Stopping
    // such in-flight messages outright would take Kafka transactions;
    // consumers drop their duplicates by update_id.
    auto authorized_ms = unix_ms();
    if (fenced(epoch, "publish")) co_return false;
    try {
      auto messages = to_messages(batch.updates, options_.topic, epoch, batch.received_at_ms, authorized_ms);
      co_await producer_.send_batch(std::move(messages));
      if (backoff.attempts() > 0) log::info("publish_recovered", {{"attempts", backoff.attempts() + 1}});
      co_return true;
    } catch (const kafka::Error& e) {
      m.publish_failures.inc();
      log::error("publish_failed", {{"error", e.what()},
                                    {"updates", batch.updates.size()},
                                    {"first_update_id", batch.updates.front().update_id},
                                    {"message", "Kafka did not acknowledge the batch; polling paused until it does"}});
    }
    if (stopping_()) {
      log::warn("publish_abandoned", {{"updates", batch.updates.size()},
                                      {"message", "stopping: the batch stays unconfirmed for the next holder"}});
      co_return false;
    }
    co_await sleep_for(backoff.next());
  }
}

net::awaitable<bool> Poller::store_offset(std::int64_t epoch, const Batch& batch) {
  Backoff backoff(std::chrono::milliseconds(100), std::chrono::seconds(2));
  while (true) {
    if (fenced(epoch, "store_offset")) co_return false;
    try {
      auto result = co_await offsets_.store(epoch, batch.confirm, batch.ids, options_.owner, batch.restarted);
      if (result == OffsetStore::Result::stored) co_return true;
      Metrics::get().fenced.inc();
      log::warn("offset_refused",
                {{"epoch", epoch},
                 {"offset", batch.confirm},
                 {"reason", result == OffsetStore::Result::stale_epoch ? "stale_epoch" : "offset_behind"}});
      co_return false;
    } catch (const redis::Error&) {
      report_error("offset_store_failed", std::current_exception(), {{"offset", batch.confirm}});
    }
    if (stopping_()) co_return false;
    co_await sleep_for(backoff.next());
  }
}

}  // namespace kiebot::ingress
