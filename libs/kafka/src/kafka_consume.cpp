// The consume loop (see kafka_consume.hpp).
#include "kiebot/kafka/consume.hpp"

#include <boost/asio/this_coro.hpp>
#include <nlohmann/json.hpp>

#include <deque>
#include <exception>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include "kiebot/base/log.hpp"
#include "kiebot/runtime/backoff.hpp"
#include "kiebot/runtime/task_group.hpp"

namespace kiebot::kafka {

namespace {

struct Item {
  Message message;
  OffsetTracker::Ticket ticket;
};

// One key's messages: handled one at a time, in the order consumed.
struct Lane {
  std::deque<Item> queue;
  bool running = false;  // a task drains it, or it waits in `ready` for one
};

// The loop's state, shared with the tasks that drain lanes; every one of
// them is joined before consume() returns.
struct Loop {
  Loop(Consumer& c, ConsumeOptions o, ConsumeHandlers h, net::any_io_executor ex)
      : consumer(c), options(std::move(o)), handlers(std::move(h)), tasks(ex, options.name) {}

  Consumer& consumer;
  ConsumeOptions options;
  ConsumeHandlers handlers;
  OffsetTracker offsets;
  std::unordered_map<std::string, Lane> lanes;
  std::deque<std::string> ready;  // lanes with messages, waiting for a slot
  std::size_t handling = 0;
  std::size_t buffered = 0;  // consumed, not finished and not dropped
  bool paused = false;
  bool repause = false;        // partitions were assigned while paused
  bool stopping = false;       // only now may a handler be cancelled
  std::exception_ptr failure;  // the first handler exception
  TaskGroup tasks;

  void report() {
    if (handlers.load) handlers.load(handling, buffered);
  }

  void enqueue(Message message) {
    if (handlers.arrived) handlers.arrived(message);
    auto ticket = offsets.consumed(message);
    auto waiting = lanes.find(message.key);
    if (waiting != lanes.end() && waiting->second.queue.size() >= options.max_waiting_per_key) {
      offsets.finish(ticket);
      if (handlers.overflow) handlers.overflow(message);
      return;
    }
    ++buffered;
    auto& lane = lanes[message.key];
    auto key = message.key;
    lane.queue.push_back(Item{std::move(message), std::move(ticket)});
    if (!lane.running) {
      lane.running = true;
      ready.push_back(std::move(key));
    }
  }

  void rebalanced(const std::vector<TopicPartition>& partitions, bool assigned) {
    if (assigned) {
      repause = paused;
      return;
    }
    // Waiting messages belong to the partitions' next owner now; those being
    // handled finish, but their offsets are no longer ours to commit.
    for (const auto& tp : partitions) {
      offsets.revoke(tp);
      for (auto& [key, lane] : lanes) {
        buffered -= std::erase_if(lane.queue, [&](const Item& item) {
          return item.message.topic == tp.topic && item.message.partition == tp.partition;
        });
      }
    }
    report();
  }

  void set_paused(bool hold) {
    if (hold && (!paused || repause)) {
      consumer.pause(consumer.assignment());
      if (!paused) log::info("kafka_consume_paused", {{"client", options.name}, {"buffered", buffered}});
      paused = true;
      repause = false;
    } else if (!hold && paused) {
      consumer.resume(consumer.assignment());
      paused = false;
      log::info("kafka_consume_resumed", {{"client", options.name}, {"buffered", buffered}});
    }
  }

  void drop_waiting() {
    for (auto& [key, lane] : lanes) {
      buffered -= lane.queue.size();
      lane.queue.clear();
    }
    ready.clear();
    report();
  }
};

// True when the message is finished; false when it was cancelled or failed.
net::awaitable<bool> handle_one(Loop* loop, Message message) {
  try {
    auto task = loop->handlers.handle(std::move(message));
    bool finished = co_await std::move(task);
    co_return finished;
  } catch (const boost::system::system_error& e) {
    if (loop->stopping && e.code() == net::error::operation_aborted) co_return false;
    if (!loop->failure) loop->failure = std::current_exception();
  } catch (const std::exception&) {
    if (!loop->failure) loop->failure = std::current_exception();
  }
  co_return false;
}

void start_ready(const std::shared_ptr<Loop>& loop);

net::awaitable<void> drain_lane(std::shared_ptr<Loop> loop, std::string key) {
  while (true) {
    auto it = loop->lanes.find(key);
    if (it == loop->lanes.end()) break;
    if (it->second.queue.empty() || loop->failure) {
      loop->buffered -= it->second.queue.size();
      loop->lanes.erase(it);
      break;
    }
    auto item = std::move(it->second.queue.front());
    it->second.queue.pop_front();
    bool finished = co_await handle_one(loop.get(), std::move(item.message));
    --loop->buffered;
    if (finished) {
      loop->offsets.finish(item.ticket);
      continue;
    }
    // Cancelled or failed: this message and the lane's later ones stay
    // unfinished, so they are redelivered. A handler that gives up while
    // nothing stops would hold its partition's commits back for good: that
    // stops the loop instead.
    if (!loop->stopping && !loop->failure) {
      loop->failure = std::make_exception_ptr(
          std::logic_error("kafka " + loop->options.name + ": a handler gave up on a message without being cancelled"));
    }
    if (auto rest = loop->lanes.find(key); rest != loop->lanes.end()) {
      loop->buffered -= rest->second.queue.size();
      loop->lanes.erase(rest);
    }
    break;
  }
  --loop->handling;
  start_ready(loop);
}

void start_ready(const std::shared_ptr<Loop>& loop) {
  while (loop->handling < loop->options.max_concurrency && !loop->ready.empty()) {
    auto key = std::move(loop->ready.front());
    loop->ready.pop_front();
    ++loop->handling;
    loop->tasks.spawn(drain_lane(loop, std::move(key)));
  }
  loop->report();
}

net::awaitable<void> commit(Loop& loop) {
  auto offsets = loop.offsets.committable();
  if (offsets.empty()) co_return;
  std::string failure;
  try {
    co_await loop.consumer.commit(offsets);
    loop.offsets.committed(offsets);
  } catch (const Error& e) {
    failure = e.what();
  }
  // Refused during a rebalance: the next owner starts from the last commit
  // and sees again what finished since (handlers are idempotent).
  if (!failure.empty()) log::info("kafka_commit_failed", {{"client", loop.options.name}, {"error", failure}});
}

}  // namespace

net::awaitable<void> consume(Consumer& consumer, ConsumeOptions options, ConsumeHandlers handlers) {
  auto executor = co_await net::this_coro::executor;
  auto loop = std::make_shared<Loop>(consumer, std::move(options), std::move(handlers), executor);
  std::weak_ptr<Loop> weak = loop;
  consumer.set_rebalance_listener([weak](const std::vector<TopicPartition>& partitions, bool assigned) {
    if (auto l = weak.lock()) l->rebalanced(partitions, assigned);
  });
  struct Unlisten {
    Consumer& consumer;
    ~Unlisten() { consumer.set_rebalance_listener({}); }
  } unlisten{consumer};

  const auto& opt = loop->options;
  auto last_commit = std::chrono::steady_clock::now();
  auto room_since = std::chrono::steady_clock::now();  // when the buffer last had room
  std::exception_ptr stop;
  try {
    while (!loop->failure) {
      auto now = std::chrono::steady_clock::now();
      bool full = loop->buffered >= opt.max_buffered;
      if (!full) room_since = now;
      bool hold = full && now - room_since >= opt.pause_after;
      if (!full && loop->handlers.hold) hold = co_await loop->handlers.hold();
      loop->set_paused(hold);
      if (full && !hold) {
        // Briefly full: wait for the handlers without polling, which keeps
        // what librdkafka fetched ahead (a pause would drop it).
        if (!co_await sleep_for(opt.held_wait)) break;
      } else {
        // Paused partitions return nothing: the poll keeps serving
        // rebalances and the group while the loop waits for room.
        auto wait = hold ? std::min(opt.held_wait, opt.poll_wait) : opt.poll_wait;
        auto messages = co_await consumer.poll(opt.max_batch, wait);
        if (!messages.empty()) log::debug("kafka_consumed", {{"client", opt.name}, {"count", messages.size()}});
        for (auto& m : messages) loop->enqueue(std::move(m));
        start_ready(loop);
      }
      if (std::chrono::steady_clock::now() - last_commit >= opt.commit_interval) {
        co_await commit(*loop);
        last_commit = std::chrono::steady_clock::now();
      }
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != net::error::operation_aborted) stop = std::current_exception();
  } catch (const std::exception&) {
    stop = std::current_exception();
  }
  // Stopping (cancelled, or a handler failed): the messages being handled
  // get the drain to finish; nothing else starts.
  co_await net::this_coro::reset_cancellation_state();
  loop->stopping = true;
  loop->drop_waiting();
  co_await loop->tasks.join(opt.drain);
  co_await commit(*loop);
  if (stop) std::rethrow_exception(stop);
  if (loop->failure) std::rethrow_exception(loop->failure);
}

}  // namespace kiebot::kafka
