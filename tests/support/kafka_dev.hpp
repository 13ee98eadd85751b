// kafka-dev fixture: an in-memory Kafka cluster with a control API.
#pragma once

#include <memory>
#include <string>

#include "process.hpp"

namespace kiebot::test {

class KafkaDev {
 public:
  explicit KafkaDev(std::string topics = "tg.updates:12,gen.jobs:24,gen.results:12,gen.jobs.dlq:3", int brokers = 3);
  const std::string& bootstrap() const { return bootstrap_; }
  std::uint16_t control_port() const { return control_port_; }
  // POSTs to the control API; returns the HTTP status.
  int control(const std::string& method, const std::string& path, const std::string& body = "{}");
  Process& process() { return *process_; }

 private:
  std::unique_ptr<Process> process_;
  std::string bootstrap_;
  std::uint16_t control_port_ = 0;
};

}  // namespace kiebot::test
