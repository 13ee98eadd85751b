// ingress poller as separate processes against tg-emulator, kafka-dev and a
// real redis-server: one poller at a time, failover, fencing and outages.
#include <gtest/gtest.h>

#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <thread>

#include "ingress_fixture.hpp"
#include "kafka_dev.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/redis/redis.hpp"
#include "process.hpp"
#include "redis_server.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using test::IngressTest;

namespace {

TEST_F(IngressTest, ThreeReplicasPollOneAtATimeWithoutConflicts) {
  for (int i = 0; i < 3; ++i) start_replica("ingress-" + std::to_string(i));
  ASSERT_TRUE(holder());
  for (int round = 0; round < 10; ++round) {
    inject(1'000);
    std::this_thread::sleep_for(100ms);
  }
  auto got = collect(10'000);
  expect_all(got, 1, 10'000);
  EXPECT_EQ(got.duplicates(), 0u);
  auto s = stats();
  EXPECT_EQ(s["max_concurrent_polls"], 1) << s.dump();
  EXPECT_EQ(s["conflicts_409"], 0) << s.dump();
  // Keyed by chat: every update of a chat on one partition, i.e. one key.
  for (const auto& e : got.entries) {
    ASSERT_FALSE(e.key.empty());
  }
  double published = 0;
  int publishers = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    auto n = metric(i, "ingress_updates_published_total");
    published += n;
    publishers += n > 0 ? 1 : 0;
  }
  EXPECT_EQ(published, 10'000);
  EXPECT_EQ(publishers, 1);
}

TEST_F(IngressTest, SigkillOfTheHolderFailsOverWithoutLosingUpdates) {
  for (int i = 0; i < 3; ++i) start_replica("ingress-" + std::to_string(i));
  auto first = holder();
  ASSERT_TRUE(first);
  inject(10'000);
  // Kill it mid-stream, with batches in flight.
  ASSERT_TRUE(wait_until([&] { return pending() < 7'000; }, 30s));
  auto calls_before = get_updates_calls();
  auto killed_at = Clock::now();
  replicas[*first]->stop(SIGKILL, 5s);
  ASSERT_TRUE(wait_until([&] { return get_updates_calls() > calls_before; }, 10s));
  auto took = Clock::now() - killed_at;
  EXPECT_LT(took, 2000ms + 2s) << "LEASE_TTL_MS + 2 s";
  auto got = collect(10'000);
  expect_all(got, 1, 10'000);
  EXPECT_LE(got.duplicates(), 100u) << "only the killed batch may come twice";
  auto next = holder();
  ASSERT_TRUE(next);
  EXPECT_NE(*next, *first);
  EXPECT_EQ(metric(*next, "ingress_failovers_total"), 1);
}

TEST_F(IngressTest, SigtermHandsOverWithinASecondWithoutDuplicates) {
  for (int i = 0; i < 2; ++i) start_replica("ingress-" + std::to_string(i));
  auto first = holder();
  ASSERT_TRUE(first);
  auto standby = 1 - *first;
  inject(5'000);
  ASSERT_TRUE(wait_until([&] { return pending() < 3'000; }, 30s));
  auto stopped_at = Clock::now();
  std::thread stopper([&] { EXPECT_EQ(replicas[*first]->stop(SIGTERM, 20s), 0); });
  auto polled = replicas[standby]->wait_for_stderr("\"event\":\"polling\"", 5s);
  auto took = Clock::now() - stopped_at;
  stopper.join();
  ASSERT_TRUE(polled);
  EXPECT_LT(took, 1s);
  inject(5'000);
  auto got = collect(10'000);
  expect_all(got, 1, 10'000);
  EXPECT_EQ(got.duplicates(), 0u);
}

TEST_F(IngressTest, AFrozenHolderIsFencedAfterItsTtl) {
  for (int i = 0; i < 2; ++i) start_replica("ingress-" + std::to_string(i));
  auto first = holder();
  ASSERT_TRUE(first);
  auto other = 1 - *first;
  auto old_epoch = std::stoll(lease_value().substr(lease_value().find('#') + 1));
  inject(3'000);
  ASSERT_TRUE(wait_until([&] { return pending() < 2'000; }, 30s));
  ::kill(replicas[*first]->pid(), SIGSTOP);
  // The other replica takes over once the TTL ran out, and publishes.
  ASSERT_TRUE(replicas[other]->wait_for_stderr("\"event\":\"polling\"", 10s));
  inject(1'000);
  ASSERT_TRUE(wait_until([&] { return pending() == 0; }, 30s));
  auto offset_before = stored_offset();
  auto resumed_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  ::kill(replicas[*first]->pid(), SIGCONT);
  // Keep updates flowing while the old holder wakes up.
  std::int64_t lowest_offset_seen = offset_before;
  for (int i = 0; i < 10; ++i) {
    inject(100);
    std::this_thread::sleep_for(200ms);
    auto offset = stored_offset();
    EXPECT_GE(offset, lowest_offset_seen) << "the offset moved backwards";
    lowest_offset_seen = std::max(lowest_offset_seen, offset);
  }
  auto got = collect(5'000);
  expect_all(got, 1, 5'000);
  // Messages carry the time their publish was checked against the lease:
  // none of the old epoch may be authorized after it woke up.
  for (const auto& e : got.entries) {
    if (e.epoch == old_epoch) {
      EXPECT_LT(e.timestamp_ms, resumed_at_ms) << "update " << e.update_id;
    }
  }
  EXPECT_TRUE(replicas[*first]->running());
}

TEST_F(IngressTest, KafkaBrokerDownAndRedisRestartLoseNothing) {
  for (int i = 0; i < 2; ++i) start_replica("ingress-" + std::to_string(i), {{"PUBLISH_TIMEOUT_MS", "2000"}});
  ASSERT_TRUE(holder());
  inject(2'000);
  ASSERT_TRUE(wait_until([&] { return pending() < 1'500; }, 30s));
  ASSERT_EQ(kafka.control("POST", "/brokers/1/down"), 200);
  inject(2'000);
  std::this_thread::sleep_for(5s);
  ASSERT_EQ(kafka.control("POST", "/brokers/1/up"), 200);
  ASSERT_TRUE(wait_until([&] { return pending() < 1'000; }, 30s));
  redis.stop();
  inject(1'000);
  std::this_thread::sleep_for(1s);
  redis.start();
  inject(1'000);
  ASSERT_TRUE(wait_until([&] { return pending() == 0; }, 30s));
  auto got = collect(6'000);
  expect_all(got, 1, 6'000);
  for (auto& r : replicas) EXPECT_TRUE(r->running());
}

TEST_F(IngressTest, RestartedUpdateNumberingIsPublishedNotConfirmedAway) {
  start_replica("ingress-0");
  ASSERT_TRUE(holder());
  inject(50);
  ASSERT_TRUE(wait_until([&] { return stored_offset() == 51; }, 20s));
  // Telegram picks a random next update_id after a quiet week; here lower
  // than the stored offset, and inside the last batch's ids.
  control("POST", "/config", {{"next_update_id", 3}});
  inject(5);
  ASSERT_TRUE(wait_until([&] { return stored_offset() == 8; }, 20s)) << "offset " << stored_offset();
  auto got = collect(50, 30s, 500ms);
  EXPECT_EQ(got.entries.size(), 55u) << "every update once, ids 3-7 twice as Telegram numbered them";
  for (std::int64_t id = 3; id <= 7; ++id) EXPECT_EQ(got.copies[id], 2) << id;
}

}  // namespace
