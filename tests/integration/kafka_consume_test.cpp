// kafka::consume against kafka-dev: the contiguous prefix is committed when
// messages finish out of order, what did not finish is redelivered, pausing
// loses nothing, and two members share the partitions after a rebalance.
#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <map>
#include <set>
#include <stdexcept>

#include "kafka_dev.hpp"
#include "kiebot/kafka/consume.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/runtime/backoff.hpp"
#include "kiebot/runtime/completion.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;

namespace {

// What a member's handler saw, and how it behaves.
struct Seen {
  std::vector<kafka::Message> handled;
  std::map<std::string, Completion<bool>> gates;  // value -> handled only once opened
  std::string fail_on;                            // value whose handler throws
  bool hold = false;                              // backpressure from outside
  std::chrono::milliseconds each{0};              // time a message takes
  std::size_t max_buffered_seen = 0;

  std::multiset<std::string> values() const {
    std::multiset<std::string> out;
    for (const auto& m : handled) out.insert(m.value);
    return out;
  }
};

net::awaitable<bool> handle(Seen* seen, kafka::Message message) {
  if (auto it = seen->gates.find(message.value); it != seen->gates.end()) {
    auto gate = it->second;
    seen->gates.erase(it);  // a redelivered copy passes
    co_await gate.wait();
  }
  if (seen->each.count() > 0 && !co_await sleep_for(seen->each)) co_return false;
  if (message.value == seen->fail_on) throw std::runtime_error("handler failed on " + message.value);
  seen->handled.push_back(std::move(message));
  co_return true;
}

net::awaitable<bool> held(Seen* seen) {
  co_return seen->hold;
}

struct Member {
  Member(net::io_context& io, const std::string& brokers, const std::string& group, const std::string& topic)
      : consumer(io.get_executor(), options(brokers, group, topic)) {}

  static kafka::ConsumerOptions options(const std::string& brokers, const std::string& group,
                                        const std::string& topic) {
    kafka::ConsumerOptions o;
    o.brokers = brokers;
    o.group_id = group;
    o.topics = {topic};
    o.properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    return o;
  }

  void start(net::io_context& io, kafka::ConsumeOptions o) {
    kafka::ConsumeHandlers h;
    h.handle = [seen = &seen](kafka::Message m) { return handle(seen, std::move(m)); };
    h.hold = [seen = &seen] { return held(seen); };
    h.load = [seen = &seen](std::size_t, std::size_t buffered) {
      seen->max_buffered_seen = std::max(seen->max_buffered_seen, buffered);
    };
    net::co_spawn(io, kafka::consume(consumer, std::move(o), std::move(h)),
                  net::bind_cancellation_slot(signal.slot(), [this](std::exception_ptr e) {
                    done = true;
                    error = e;
                  }));
  }
  void stop() { signal.emit(net::cancellation_type::terminal); }

  kafka::Consumer consumer;
  Seen seen;
  net::cancellation_signal signal;
  bool done = false;
  std::exception_ptr error;
};

kafka::ConsumeOptions fast_options() {
  kafka::ConsumeOptions o;
  o.name = "test";
  o.max_concurrency = 8;
  o.poll_wait = 100ms;
  o.commit_interval = 50ms;
  o.held_wait = 20ms;
  o.drain = 300ms;
  return o;
}

template <class Pred>
bool drive_until(net::io_context& io, Pred pred, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred() && std::chrono::steady_clock::now() < deadline) io.run_one_for(20ms);
  return pred();
}

void drive_for(net::io_context& io, std::chrono::milliseconds d) {
  drive_until(
      io, [] { return false; }, d);
}

void produce(net::io_context& io, const std::string& brokers, const std::string& topic, int first, int count,
             int keys) {
  kafka::ProducerOptions o;
  o.brokers = brokers;
  kafka::Producer producer(io.get_executor(), o);
  std::vector<kafka::OutMessage> batch;
  for (int i = first; i < first + count; ++i) {
    batch.push_back({topic, "k" + std::to_string(i % keys), std::to_string(i), {}});
  }
  test::run(io, producer.send_batch(std::move(batch)));
}

std::multiset<std::string> range(int first, int count) {
  std::multiset<std::string> out;
  for (int i = first; i < first + count; ++i) out.insert(std::to_string(i));
  return out;
}

void stop(net::io_context& io, Member& m) {
  m.stop();
  ASSERT_TRUE(drive_until(
      io, [&] { return m.done; }, 10s));
  m.consumer.close();
}

}  // namespace

TEST(KafkaConsume, CommitsTheContiguousPrefixAndRedeliversTheRest) {
  test::KafkaDev kafka("t.one:1");
  net::io_context io;
  produce(io, kafka.bootstrap(), "t.one", 0, 6, 6);  // offsets 0..5, six keys: handled in parallel

  {
    Member a(io, kafka.bootstrap(), "g", "t.one");
    a.seen.gates.emplace("1", Completion<bool>{});  // offset 1 never finishes here
    a.start(io, fast_options());
    ASSERT_TRUE(drive_until(
        io, [&] { return a.seen.handled.size() == 5; }, 30s));
    drive_for(io, 300ms);  // commits happen meanwhile
    stop(io, a);           // offset 1 is cancelled after the drain
    if (a.error) std::rethrow_exception(a.error);
    EXPECT_EQ(a.seen.values(), (std::multiset<std::string>{"0", "2", "3", "4", "5"}));
  }
  // Only offset 0 was committed: 1 is redelivered, and 2..5 with it,
  // since they lie past the first unfinished offset.
  {
    Member b(io, kafka.bootstrap(), "g", "t.one");
    b.start(io, fast_options());
    ASSERT_TRUE(drive_until(
        io, [&] { return b.seen.handled.size() >= 5; }, 30s));
    drive_for(io, 300ms);
    stop(io, b);
    EXPECT_EQ(b.seen.values(), range(1, 5));
  }
  // Everything finished and was committed: nothing comes again.
  Member c(io, kafka.bootstrap(), "g", "t.one");
  c.start(io, fast_options());
  drive_for(io, 3s);
  stop(io, c);
  EXPECT_TRUE(c.seen.handled.empty());
}

TEST(KafkaConsume, AHandlerThatThrowsEndsTheLoopAndItsMessageIsRedelivered) {
  test::KafkaDev kafka("t.one:1");
  net::io_context io;
  produce(io, kafka.bootstrap(), "t.one", 0, 10, 1);  // one key: in order, one at a time

  {
    Member a(io, kafka.bootstrap(), "g", "t.one");
    a.seen.fail_on = "4";
    a.start(io, fast_options());
    ASSERT_TRUE(drive_until(
        io, [&] { return a.done; }, 30s));
    ASSERT_TRUE(a.error);
    EXPECT_THROW(std::rethrow_exception(a.error), std::runtime_error);
    EXPECT_EQ(a.seen.values(), range(0, 4));
    a.consumer.close();
  }
  Member b(io, kafka.bootstrap(), "g", "t.one");
  b.start(io, fast_options());
  ASSERT_TRUE(drive_until(
      io, [&] { return b.seen.handled.size() >= 6; }, 30s));
  drive_for(io, 300ms);
  stop(io, b);
  ASSERT_EQ(b.seen.handled.size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(b.seen.handled[i].value, std::to_string(4 + i));  // in order
}

TEST(KafkaConsume, PausedPartitionsDeliverNothingAndResumeLosesNothing) {
  test::KafkaDev kafka("t.four:4");
  net::io_context io;
  constexpr int kCount = 200;
  produce(io, kafka.bootstrap(), "t.four", 0, kCount, 20);

  Member a(io, kafka.bootstrap(), "g", "t.four");
  a.seen.hold = true;
  auto o = fast_options();
  o.max_batch = 10;
  o.max_buffered = 10;  // the loop pauses itself too, as handlers are slow
  o.pause_after = 0ms;
  a.seen.each = 2ms;
  a.start(io, o);
  drive_for(io, 2s);
  EXPECT_TRUE(a.seen.handled.empty()) << "held: nothing may be consumed";

  a.seen.hold = false;
  ASSERT_TRUE(drive_until(
      io, [&] { return a.seen.handled.size() >= kCount; }, 60s));
  drive_for(io, 300ms);
  stop(io, a);
  EXPECT_EQ(a.seen.values(), range(0, kCount)) << "each exactly once";
  EXPECT_LE(a.seen.max_buffered_seen, o.max_buffered + o.max_batch);
  // Per key, in the order produced.
  std::map<std::string, int> last;
  for (const auto& m : a.seen.handled) {
    int v = std::stoi(m.value);
    auto it = last.find(m.key);
    if (it != last.end()) {
      EXPECT_LT(it->second, v) << m.key;
    }
    last[m.key] = v;
  }
}

TEST(KafkaConsume, TwoMembersShareThePartitionsAfterARebalance) {
  test::KafkaDev kafka("t.four:4");
  net::io_context io;
  produce(io, kafka.bootstrap(), "t.four", 0, 100, 20);

  Member a(io, kafka.bootstrap(), "g", "t.four");
  a.start(io, fast_options());
  ASSERT_TRUE(drive_until(
      io, [&] { return a.seen.handled.size() >= 100; }, 30s));
  drive_for(io, 300ms);  // committed

  Member b(io, kafka.bootstrap(), "g", "t.four");
  b.start(io, fast_options());
  ASSERT_TRUE(drive_until(
      io,
      [&] {
        auto na = a.consumer.assignment().size();
        auto nb = b.consumer.assignment().size();
        return na > 0 && nb > 0 && na + nb == 4;
      },
      60s))
      << "the group did not rebalance";

  produce(io, kafka.bootstrap(), "t.four", 100, 100, 20);
  auto all = [&] {
    std::multiset<std::string> out = a.seen.values();
    auto more = b.seen.values();
    out.insert(more.begin(), more.end());
    return out;
  };
  auto distinct = [&] {
    auto values = all();
    return std::set<std::string>(values.begin(), values.end()).size();
  };
  ASSERT_TRUE(drive_until(
      io, [&] { return distinct() >= 200; }, 60s));
  drive_for(io, 300ms);
  stop(io, a);
  stop(io, b);
  EXPECT_EQ(all(), range(0, 200)) << "each exactly once: nothing was in flight at the rebalance";
  std::size_t b_second_wave = 0;
  for (const auto& m : b.seen.handled) b_second_wave += std::stoi(m.value) >= 100;
  EXPECT_GT(b_second_wave, 0u);
  EXPECT_LT(b_second_wave, 100u);

  Member c(io, kafka.bootstrap(), "g", "t.four");
  c.start(io, fast_options());
  drive_for(io, 3s);
  stop(io, c);
  EXPECT_TRUE(c.seen.handled.empty()) << "every offset was committed";
}

TEST(KafkaConsume, ARevokedPartitionIsNotCommittedPastTheMessageInFlight) {
  test::KafkaDev kafka("t.four:4");
  net::io_context io;
  produce(io, kafka.bootstrap(), "t.four", 0, 40, 20);

  Member a(io, kafka.bootstrap(), "g", "t.four");
  Completion<bool> gate;
  a.seen.gates.emplace("7", gate);
  a.start(io, fast_options());
  ASSERT_TRUE(drive_until(
      io, [&] { return a.seen.handled.size() >= 38; }, 30s));  // not "7", nor "27" behind it (same key)
  drive_for(io, 300ms);                                        // committed: "7"'s partition only up to "7"

  // B joins: every partition is revoked from A and assigned again, while
  // "7" is still being handled by A.
  Member b(io, kafka.bootstrap(), "g", "t.four");
  b.start(io, fast_options());
  ASSERT_TRUE(drive_until(
      io,
      [&] {
        auto na = a.consumer.assignment().size();
        auto nb = b.consumer.assignment().size();
        return na > 0 && nb > 0 && na + nb == 4;
      },
      60s))
      << "the group did not rebalance";
  gate.complete(true);  // A's old "7" finishes now: too late to commit anything

  auto count = [&](const std::string& v) { return a.seen.values().count(v) + b.seen.values().count(v); };
  // "7" came again to its partition's new owner: nothing was committed past it.
  ASSERT_TRUE(drive_until(
      io, [&] { return count("7") >= 2; }, 30s));
  drive_for(io, 300ms);
  stop(io, a);
  stop(io, b);
  EXPECT_EQ(count("7"), 2u);
  for (int i = 0; i < 40; ++i) EXPECT_GE(count(std::to_string(i)), 1u) << i;

  Member c(io, kafka.bootstrap(), "g", "t.four");
  c.start(io, fast_options());
  drive_for(io, 3s);
  stop(io, c);
  EXPECT_TRUE(c.seen.handled.empty()) << "every offset was committed in the end";
}
