// redis-server fixture.
#include "redis_server.hpp"

#include <signal.h>

#include <stdexcept>
#include <thread>

namespace kiebot::test {

RedisServer::RedisServer(std::vector<std::string> extra_args)
    : port_(free_port()), extra_args_(std::move(extra_args)) {
  start();
}

RedisServer::~RedisServer() { stop(); }

void RedisServer::start() {
  std::vector<std::string> argv{"/usr/bin/redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                "--dir", dir_.path().string(), "--save", "", "--daemonize", "no", "--logfile", ""};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  process_ = std::make_unique<Process>(std::move(argv));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!port_open(port_)) {
    if (!process_->running() || std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("redis-server did not start: " + process_->stderr_text());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void RedisServer::stop() {
  if (process_) process_->stop(SIGTERM, std::chrono::seconds(5));
  process_.reset();
}

void RedisServer::kill() {
  if (process_) process_->stop(SIGKILL, std::chrono::seconds(5));
  process_.reset();
}

}  // namespace kiebot::test
