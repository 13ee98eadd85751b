// Producer -> consumer through kafka-dev: order, no loss, no duplicates, broker outages.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <map>
#include <set>

#include "kafka_dev.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;

namespace {

std::vector<kafka::OutMessage> batch(const std::string& topic, int first, int count, int keys) {
  std::vector<kafka::OutMessage> out;
  for (int i = first; i < first + count; ++i) {
    // Per key, the value carries a sequence number that must arrive in order.
    int key = i % keys;
    out.push_back({topic, "chat-" + std::to_string(key), std::to_string(i / keys), {{"update_id", std::to_string(i)}}});
  }
  return out;
}

// Consumes until `expected` distinct messages arrived or `timeout`; checks order per key.
struct Collector {
  std::map<std::string, long> last_seq;
  std::set<std::string> ids;
  std::vector<kafka::Message> all;
  int duplicates = 0;
  int out_of_order = 0;

  void add(const kafka::Message& m) {
    auto id = std::string(m.header("update_id").value_or("?"));
    if (!ids.insert(id).second) ++duplicates;
    long seq = std::stol(m.value);
    auto it = last_seq.find(m.key);
    if (it != last_seq.end() && seq <= it->second) ++out_of_order;
    last_seq[m.key] = seq;
    all.push_back(m);
  }
};

net::awaitable<void> consume(kafka::Consumer& consumer, Collector& c, std::size_t expected,
                             std::chrono::milliseconds timeout, bool commit) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (c.ids.size() < expected && std::chrono::steady_clock::now() < deadline) {
    auto messages = co_await consumer.poll(500, 200ms);
    for (const auto& m : messages) c.add(m);
    if (commit && !messages.empty()) co_await consumer.commit(std::move(messages));
  }
}

kafka::ConsumerOptions consumer_options(const std::string& brokers, const std::string& group,
                                        const std::string& topic) {
  kafka::ConsumerOptions o;
  o.brokers = brokers;
  o.group_id = group;
  o.topics = {topic};
  o.properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
  return o;
}

kafka::ProducerOptions producer_options(const std::string& brokers) {
  kafka::ProducerOptions o;
  o.brokers = brokers;
  o.properties = {{"retry.backoff.ms", "50"}};
  return o;
}

net::awaitable<void> produce_batches(kafka::Producer& producer, int batches, int per_batch, int* acked) {
  for (int b = 0; b < batches; ++b) {
    co_await producer.send_batch(batch("gen.jobs", b * per_batch, per_batch, 50));
    ++*acked;
  }
}

}  // namespace

TEST(Kafka, TenThousandKeyedMessagesInOrderNoneLostNoneDuplicated) {
  test::KafkaDev kafka;
  net::io_context io;
  kafka::Producer producer(io.get_executor(), producer_options(kafka.bootstrap()));
  for (int first = 0; first < 10'000; first += 1'000) {
    test::run(io, producer.send_batch(batch("tg.updates", first, 1'000, 100)));
  }

  Collector got;
  {
    kafka::Consumer consumer(io.get_executor(), consumer_options(kafka.bootstrap(), "group-a", "tg.updates"));
    test::run(io, consume(consumer, got, 10'000, 60s, true));
    consumer.close();
  }
  EXPECT_EQ(got.ids.size(), 10'000u);
  EXPECT_EQ(got.duplicates, 0);
  EXPECT_EQ(got.out_of_order, 0);
  EXPECT_EQ(got.last_seq.size(), 100u);
  EXPECT_EQ(got.all.front().header("update_id").has_value(), true);

  // Same group after the commit: only what is new arrives.
  test::run(io, producer.send_batch(batch("tg.updates", 10'000, 10, 100)));
  Collector after;
  kafka::Consumer again(io.get_executor(), consumer_options(kafka.bootstrap(), "group-a", "tg.updates"));
  test::run(io, consume(again, after, 10, 30s, true));
  test::run(io, consume(again, after, 11, 1s, true));
  EXPECT_EQ(after.ids.size(), 10u);
  for (const auto& id : after.ids) EXPECT_GE(std::stoi(id), 10'000);
  again.close();
}

TEST(Kafka, BrokerDownAndUpLosesNothing) {
  test::KafkaDev kafka;
  net::io_context io;
  kafka::Producer producer(io.get_executor(), producer_options(kafka.bootstrap()));
  constexpr int kBatches = 20;
  constexpr int kPerBatch = 100;
  int acked = 0;
  std::exception_ptr failure;
  bool done = false;
  net::co_spawn(io, produce_batches(producer, kBatches, kPerBatch, &acked), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  auto drive_until = [&](auto pred, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < deadline) io.run_one_for(20ms);
  };
  drive_until([&] { return acked >= 5; }, 30s);
  ASSERT_GE(acked, 5);
  ASSERT_EQ(kafka.control("POST", "/brokers/1/down"), 200);
  drive_until([] { return false; }, 1500ms);  // keep producing while the broker is down
  ASSERT_EQ(kafka.control("POST", "/brokers/1/up"), 200);
  drive_until([&] { return done; }, 60s);
  ASSERT_TRUE(done);
  if (failure) std::rethrow_exception(failure);
  EXPECT_EQ(acked, kBatches);

  Collector got;
  kafka::Consumer consumer(io.get_executor(), consumer_options(kafka.bootstrap(), "group-b", "gen.jobs"));
  test::run(io, consume(consumer, got, kBatches * kPerBatch, 60s, true));
  EXPECT_EQ(got.ids.size(), static_cast<std::size_t>(kBatches * kPerBatch));
  EXPECT_EQ(got.duplicates, 0);  // idempotent producer: retries never duplicate
  EXPECT_EQ(got.out_of_order, 0);
  consumer.close();
}

TEST(Kafka, InjectedProduceErrorsAreRetried) {
  test::KafkaDev kafka;
  ASSERT_EQ(kafka.control("POST", "/errors",
                          R"({"api":"Produce","errors":["NOT_LEADER_FOR_PARTITION","REQUEST_TIMED_OUT"]})"),
            200);
  net::io_context io;
  kafka::Producer producer(io.get_executor(), producer_options(kafka.bootstrap()));
  test::run(io, producer.send("gen.results", "job-1", "1", {{"epoch", "7"}, {"update_id", "1"}}));
  Collector got;
  kafka::Consumer consumer(io.get_executor(), consumer_options(kafka.bootstrap(), "group-c", "gen.results"));
  test::run(io, consume(consumer, got, 1, 30s, true));
  ASSERT_EQ(got.all.size(), 1u);
  EXPECT_EQ(got.all[0].key, "job-1");
  EXPECT_EQ(got.all[0].header("epoch"), "7");
  consumer.close();
}

TEST(Kafka, PollReturnsEmptyOnTimeout) {
  test::KafkaDev kafka;
  net::io_context io;
  kafka::Consumer consumer(io.get_executor(), consumer_options(kafka.bootstrap(), "group-d", "gen.jobs.dlq"));
  auto started = std::chrono::steady_clock::now();
  auto messages = test::run(io, consumer.poll(10, 300ms));
  EXPECT_TRUE(messages.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  consumer.close();
}

TEST(Kafka, ControlApiRejectsUnknownBroker) {
  test::KafkaDev kafka;
  EXPECT_EQ(kafka.control("POST", "/brokers/9/down"), 404);
  EXPECT_EQ(kafka.control("POST", "/errors", R"({"api":"Nope","errors":[]})"), 400);
}

TEST(Kafka, BrokersUpFollowsTheClusterWithoutDeliveries) {
  test::KafkaDev kafka;
  net::io_context io;
  auto options = producer_options(kafka.bootstrap());
  options.properties["statistics.interval.ms"] = "500";
  kafka::Producer producer(io.get_executor(), options);
  auto drive_until = [&](auto pred, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < deadline) io.run_one_for(50ms);
    return pred();
  };
  // An idle producer (a standby ingress) still sees the cluster come and go.
  drive_until([] { return false; }, 1500ms);
  EXPECT_TRUE(producer.brokers_up());
  for (int b = 1; b <= 3; ++b) ASSERT_EQ(kafka.control("POST", "/brokers/" + std::to_string(b) + "/down"), 200);
  EXPECT_TRUE(drive_until([&] { return !producer.brokers_up(); }, 10s));
  for (int b = 1; b <= 3; ++b) ASSERT_EQ(kafka.control("POST", "/brokers/" + std::to_string(b) + "/up"), 200);
  EXPECT_TRUE(drive_until([&] { return producer.brokers_up(); }, 10s));
}
