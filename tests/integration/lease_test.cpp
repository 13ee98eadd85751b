// Redis lease against a real redis-server: one holder, handover, loss, fencing.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>

#include "kiebot/base/log.hpp"
#include "kiebot/redis/lease.hpp"
#include "kiebot/redis/redis.hpp"
#include "redis_server.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Record {
  std::map<std::string, bool> active;
  std::vector<std::pair<std::string, std::int64_t>> acquisitions;
  int overlaps = 0;
  std::map<std::string, Clock::time_point> stopped_at;
};

// The leased work: marks itself active until cancelled.
net::awaitable<void> hold(Record* record, std::string who, std::int64_t epoch) {
  for (const auto& [name, on] : record->active) {
    if (on && name != who) ++record->overlaps;
  }
  record->active[who] = true;
  record->acquisitions.emplace_back(who, epoch);
  auto executor = co_await net::this_coro::executor;
  net::steady_timer forever(executor, net::steady_timer::time_point::max());
  co_await forever.async_wait(net::as_tuple(net::use_awaitable));
  record->active[who] = false;
  record->stopped_at[who] = Clock::now();
}

struct Replica {
  std::unique_ptr<redis::Client> client;
  std::unique_ptr<Lease> lease;
  net::cancellation_signal stop;
  bool finished = false;

  Replica(net::io_context& io, const std::string& url, const std::string& owner, Record* record) {
    redis::Options options;
    options.url = url;
    options.command_timeout = 300ms;
    options.reconnect_min = 50ms;
    options.reconnect_max = 200ms;
    client = std::make_unique<redis::Client>(io.get_executor(), options);
    client->start();
    lease = std::make_unique<Lease>(*client, LeaseOptions{"poller", owner, 1000ms, 300ms});
    auto work = [record, owner](std::int64_t epoch) { return hold(record, owner, epoch); };
    net::co_spawn(io, lease->run(work), net::bind_cancellation_slot(stop.slot(), [this](std::exception_ptr e) {
                    finished = true;
                    log::on_failure("lease_run_failed")(e);
                  }));
  }
};

void drive(net::io_context& io, std::chrono::milliseconds d, const std::function<bool()>& until = nullptr) {
  auto deadline = Clock::now() + d;
  while (Clock::now() < deadline && !(until && until())) io.run_one_for(10ms);
}

// One replica "a" that holds the lease.
struct Holder {
  test::RedisServer server;
  net::io_context io;
  Record record;
  Replica a{io, server.url(), "a", &record};

  Holder() {
    drive(io, 2s, [this] { return record.active["a"]; });
  }
  ~Holder() {
    a.stop.emit(net::cancellation_type::terminal);
    drive(io, 1s, [this] { return a.finished; });
  }
};

}  // namespace

TEST(Lease, OneHolderAtATimeAndFastHandover) {
  test::RedisServer server;
  net::io_context io;
  Record record;
  Replica a(io, server.url(), "a", &record);
  Replica b(io, server.url(), "b", &record);
  drive(io, 3s);  // several renewals
  ASSERT_EQ(record.acquisitions.size(), 1u);
  auto holder = record.acquisitions[0].first;
  EXPECT_EQ(record.acquisitions[0].second, 1);
  auto& leaving = holder == "a" ? a : b;
  EXPECT_TRUE(leaving.lease->held());
  leaving.stop.emit(net::cancellation_type::terminal);
  auto started = Clock::now();
  drive(io, 3s, [&] { return record.acquisitions.size() == 2; });
  ASSERT_EQ(record.acquisitions.size(), 2u);
  EXPECT_LT(Clock::now() - started, 500ms);  // released, not left to expire
  EXPECT_NE(record.acquisitions[1].first, holder);
  EXPECT_EQ(record.acquisitions[1].second, 2);  // a new fencing epoch
  EXPECT_TRUE(leaving.finished);
  EXPECT_EQ(record.overlaps, 0);
  (holder == "a" ? b : a).stop.emit(net::cancellation_type::terminal);
  drive(io, 1s, [&] { return a.finished && b.finished; });
}

TEST(Lease, HolderStopsBeforeItsTtlWhenRedisIsGone) {
  Holder h;
  auto& [server, io, record, a] = h;
  ASSERT_TRUE(record.active["a"]);
  drive(io, 500ms);
  auto killed_at = Clock::now();
  server.kill();
  drive(io, 2s, [&] { return !record.active["a"]; });
  EXPECT_FALSE(record.active["a"]);
  // Its last renewal was before the kill, so it must stop within ttl - safety
  // (700 ms) of the kill, and in any case before its TTL (1 s) runs out.
  EXPECT_LT(record.stopped_at["a"] - killed_at, 900ms);
  EXPECT_FALSE(a.lease->held());
}

TEST(Lease, FencingStopsAHolderWhoseLeaseWasTaken) {
  Holder h;
  auto& [server, io, record, a] = h;
  ASSERT_TRUE(record.active["a"]);
  // As if a's lease had expired while it was frozen and someone else took it.
  std::vector<std::string> steal{"SET", "{lease:poller}", "intruder#99", "PX", "60000"};
  test::run(io, a.client->exec(std::move(steal)));
  drive(io, 1s, [&] { return !record.active["a"]; });
  EXPECT_FALSE(record.active["a"]);
  std::vector<std::string> get{"GET", "{lease:poller}"};
  EXPECT_EQ(test::run(io, a.client->exec(std::move(get))).str, "intruder#99");  // not released by a
}

namespace {
net::awaitable<void> fail_at_once(std::int64_t) {
  throw std::runtime_error("work failed");
  co_return;
}
}  // namespace

TEST(Lease, AFailingWorkReleasesTheLeaseAndFailsTheRun) {
  test::RedisServer server;
  net::io_context io;
  redis::Options options;
  options.url = server.url();
  redis::Client client(io.get_executor(), options);
  client.start();
  Lease lease(client, LeaseOptions{"poller", "a", 1000ms, 300ms});
  std::exception_ptr failure;
  bool finished = false;
  net::co_spawn(io, lease.run(fail_at_once), [&](std::exception_ptr e) {
    failure = e;
    finished = true;
  });
  drive(io, 2s, [&] { return finished; });
  ASSERT_TRUE(finished) << "the work's failure must end the run, not leave the lease renewed";
  ASSERT_TRUE(failure);
  EXPECT_THROW(std::rethrow_exception(failure), std::runtime_error);
  std::vector<std::string> get{"GET", "{lease:poller}"};
  EXPECT_TRUE(test::run(io, client.exec(std::move(get))).is_nil()) << "released";
  client.stop();
}
