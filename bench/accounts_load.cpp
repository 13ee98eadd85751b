// Load for the accounts benchmark: N keep-alive connections, each looping
// hold -> commit for one funded user; prints requests/s, pairs/s and the
// p50/p99 request latency in milliseconds (one line of JSON). RATE 0 runs
// closed-loop (as fast as answers come); RATE > 0 offers that many requests
// per second in total, and latency counts from each request's scheduled
// time, so a stall is not hidden by the requests it delayed.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "kiebot/base/log.hpp"
#include "kiebot/http/client.hpp"

using namespace kiebot;
using Clock = std::chrono::steady_clock;

namespace {

struct Load {
  std::string base;
  std::string token;
  Clock::time_point end;
  double rate = 0;  // requests per second in total; 0 = closed loop
  int connections = 1;
  std::vector<double> latencies_ms;
  long failures = 0;
  int running = 0;
};

net::awaitable<http::Response> timed(Load& load, http::Client& client, http::ClientRequest request,
                                     Clock::time_point started) {
  auto response = co_await client.send(std::move(request));
  load.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - started).count());
  co_return response;
}

net::awaitable<void> worker(Load& load, int user, int index) {
  auto executor = co_await net::this_coro::executor;
  http::Client client(executor);
  http::Headers headers{{"Authorization", "Bearer " + load.token}, {"Content-Type", "application/json"}};
  auto holds = load.base + "/v1/users/" + std::to_string(user) + "/holds";
  net::steady_timer pace(executor);
  auto interval =
      load.rate > 0
          ? std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(load.connections / load.rate))
          : Clock::duration::zero();
  // Workers are spread evenly over one interval, so that the offered load
  // is smooth rather than 64 requests at the same instant.
  auto next = Clock::now() + interval * index / load.connections;
  auto slot = [&] {
    if (interval == Clock::duration::zero()) return Clock::now();
    auto at = next;
    next += interval;
    return at;
  };
  for (long i = 0; Clock::now() < load.end; ++i) {
    nlohmann::json body = {{"amount", 100}, {"kind", "paid"}, {"idempotency_key", "bench-" + std::to_string(i)}};
    http::ClientRequest hold_request{"POST", holds, headers, body.dump(), std::chrono::seconds(10)};
    auto at = slot();
    pace.expires_at(at);
    co_await pace.async_wait(net::use_awaitable);
    auto hold = co_await timed(load, client, std::move(hold_request), at);
    if (hold.status != 200) {
      ++load.failures;
      continue;
    }
    auto id = hold.json()["hold_id"].get<std::string>();
    http::ClientRequest commit_request{"POST", load.base + "/v1/holds/" + id + "/commit", headers, "{}",
                                       std::chrono::seconds(10)};
    at = slot();
    pace.expires_at(at);
    co_await pace.async_wait(net::use_awaitable);
    auto commit = co_await timed(load, client, std::move(commit_request), at);
    if (commit.status != 200) ++load.failures;
  }
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: bench-accounts-load BASE_URL TOKEN CONNECTIONS SECONDS FIRST_USER_ID RATE\n";
    return 2;
  }
  log::init({"bench-accounts-load", "bench", log::Level::warn, {}});
  int connections = std::stoi(argv[3]);
  Load load{
      argv[1], argv[2], Clock::now() + std::chrono::seconds(std::stoi(argv[4])), std::stod(argv[6]), connections, {},
      0,       0};
  int first_user = std::stoi(argv[5]);
  net::io_context io(1);
  auto started = Clock::now();
  for (int c = 0; c < connections; ++c) {
    ++load.running;
    net::co_spawn(io, worker(load, first_user + c, c), [&load, &io](std::exception_ptr e) {
      if (e) ++load.failures;
      if (--load.running == 0) io.stop();
    });
  }
  io.run();
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  auto requests = static_cast<double>(load.latencies_ms.size());
  nlohmann::json out = {{"requests_per_s", requests / seconds},
                        {"pairs_per_s", requests / 2 / seconds},
                        {"p50_ms", percentile(load.latencies_ms, 0.50)},
                        {"p99_ms", percentile(load.latencies_ms, 0.99)},
                        {"failures", load.failures}};
  std::cout << out.dump() << "\n";
  return 0;
}
