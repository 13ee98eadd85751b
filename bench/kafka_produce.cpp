// Produces every line of a file as one message through libs/kafka's
// Producer (idempotent, acks=all; lines are key<TAB>value) and prints messages per second from
// the first send to the last acknowledgement. bench/run.sh times the whole
// process instead, as it does for kcat -P on the same file and broker.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>

#include <chrono>
#include <iostream>

#include "kiebot/base/log.hpp"
#include "kiebot/kafka/kafka.hpp"

using namespace kiebot;

namespace {

struct Work {
  kafka::Producer* producer;
  std::string topic;
  std::string_view file;  // the whole input, mapped; messages are its lines
  std::size_t pos = 0;
  std::size_t count = 0;
  int running = 0;
  std::exception_ptr failure;
};

// Several of these run at once so that batches overlap, as concurrent
// handlers do in a service: one waits for its acknowledgements while
// another fills librdkafka's queue.
net::awaitable<void> produce(Work& work) {
  constexpr std::size_t kBatch = 5'000;
  while (work.pos < work.file.size()) {
    std::vector<kafka::OutMessage> batch;
    batch.reserve(kBatch);
    while (work.pos < work.file.size() && batch.size() < kBatch) {
      auto end = work.file.find('\n', work.pos);
      if (end == std::string::npos) end = work.file.size();
      // "key<TAB>value", as kcat -K '\t' reads it.
      auto line = work.file.substr(work.pos, end - work.pos);
      auto tab = line.find('\t');
      auto key = tab == std::string_view::npos ? std::string_view{} : line.substr(0, tab);
      auto value = tab == std::string_view::npos ? line : line.substr(tab + 1);
      batch.push_back({work.topic, std::string(key), std::string(value), {}});
      ++work.count;
      work.pos = end + 1;
    }
    co_await work.producer->send_batch(std::move(batch));
  }
}

// Maps the file read-only, as kcat -l does, so both pay the same to read it.
std::string_view map_file(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  struct stat st {};
  fstat(fd, &st);
  void* data =
      st.st_size > 0 ? mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
  ::close(fd);
  if (data == MAP_FAILED) return {};
  return {static_cast<const char*>(data), static_cast<std::size_t>(st.st_size)};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: bench-kafka-produce BROKERS TOPIC FILE\n";
    return 2;
  }
  log::init({"bench-kafka-produce", "bench", log::Level::warn, {}});
  net::io_context io(1);
  kafka::ProducerOptions options;
  options.brokers = argv[1];
  auto file = map_file(argv[3]);
  if (file.empty()) {
    std::cerr << "cannot map " << argv[3] << "\n";
    return 1;
  }
  kafka::Producer producer(io.get_executor(), options);
  Work work{&producer, argv[2], file, 0, 0, 0, nullptr};

  constexpr int kConcurrent = 4;
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kConcurrent; ++i) {
    ++work.running;
    net::co_spawn(io, produce(work), [&work, &io](std::exception_ptr e) {
      if (e && !work.failure) work.failure = e;
      if (--work.running == 0) io.stop();
    });
  }
  io.run();
  if (work.failure) std::rethrow_exception(work.failure);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << static_cast<long>(static_cast<double>(work.count) / seconds) << "\n";
  return 0;
}
