// Produces every line of a file as one message through libs/common's
// Producer (idempotent, acks=all) and prints messages per second, for
// bench/run.sh to compare with kcat -P on the same file and broker.
#include <boost/asio/co_spawn.hpp>

#include <chrono>
#include <fstream>
#include <iostream>

#include "kiebot/common/kafka.hpp"
#include "kiebot/common/log.hpp"

using namespace kiebot;

namespace {

net::awaitable<void> produce(kafka::Producer& producer, std::string topic, std::vector<std::string> lines) {
  constexpr std::size_t kWindow = 20'000;  // messages in flight per batch
  std::size_t i = 0;
  while (i < lines.size()) {
    std::vector<kafka::OutMessage> batch;
    for (; i < lines.size() && batch.size() < kWindow; ++i) {
      batch.push_back({topic, std::to_string(i % 64), std::move(lines[i]), {}});
    }
    co_await producer.send_batch(std::move(batch));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: bench-kafka-produce BROKERS TOPIC FILE\n";
    return 2;
  }
  log::init({"bench-kafka-produce", "bench", log::Level::warn, {}});
  std::vector<std::string> lines;
  std::ifstream in(argv[3]);
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  auto count = lines.size();

  net::io_context io(1);
  kafka::ProducerOptions options;
  options.brokers = argv[1];
  kafka::Producer producer(io.get_executor(), options);
  std::exception_ptr failure;
  auto started = std::chrono::steady_clock::now();
  net::co_spawn(io, produce(producer, argv[2], std::move(lines)), [&](std::exception_ptr e) {
    failure = e;
    io.stop();
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << static_cast<long>(static_cast<double>(count) / seconds) << "\n";
  return 0;
}
