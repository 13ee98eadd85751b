// A real redis-server on a free loopback port, in a temporary directory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "process.hpp"

namespace kiebot::test {

class RedisServer {
 public:
  explicit RedisServer(std::vector<std::string> extra_args = {});
  ~RedisServer();
  std::uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  void start();
  void stop();  // SIGTERM and wait
  void kill();  // SIGKILL: a crash
  pid_t pid() const { return process_ ? process_->pid() : -1; }

 private:
  TempDir dir_;
  std::uint16_t port_;
  std::vector<std::string> extra_args_;
  std::unique_ptr<Process> process_;
};

}  // namespace kiebot::test
