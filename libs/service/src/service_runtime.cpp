// ServiceRuntime (see service_runtime.hpp).
#include "kiebot/service/service_runtime.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

#include "kiebot/base/log.hpp"

namespace kiebot {

ServiceRuntime::ServiceRuntime(std::string name, std::string description, int argc, char** argv)
    : name_(name), config_(std::move(name), std::move(description), argc, argv) {}

ServiceRuntime::~ServiceRuntime() = default;

void ServiceRuntime::read_endpoints(std::uint16_t port, std::string_view port_help, std::string_view redis_help,
                                    bool kafka) {
  port_ = config_.port("HTTP_PORT", port, port_help);
  redis_url_ = config_.str("REDIS_URL", "redis://127.0.0.1:6379/0", redis_help);
  if (!kafka) return;
  brokers_ = config_.str("KAFKA_BROKERS", "127.0.0.1:9092", "Kafka bootstrap servers");
  config_.describe("KAFKA_CFG_<NAME>", "librdkafka property, e.g. KAFKA_CFG_SECURITY_PROTOCOL=sasl_ssl");
}

void ServiceRuntime::read_identity() {
  instance_ = config_.instance_id();
  level_ = config_.log_level();
}

int ServiceRuntime::config_error(const std::string& message) const {
  std::cerr << name_ << ": config error: " << message << "\n";
  return 2;
}

std::optional<int> ServiceRuntime::start(std::chrono::milliseconds drain, std::vector<std::string> secrets) {
  if (auto code = config_.finish()) return code;
  auto all_secrets = config_.secrets();
  all_secrets.insert(all_secrets.end(), secrets.begin(), secrets.end());
  log::init({name_, instance_, log::parse_level(level_), std::move(all_secrets)});
  io_ = std::make_unique<net::io_context>(1);
  redis::Options redis_options;
  redis_options.url = redis_url_;
  try {
    redis_ = std::make_unique<redis::Client>(io_->get_executor(), redis_options);
  } catch (const redis::Error& e) {
    return config_error(e.what());
  }
  redis_->start();
  lifecycle_ = std::make_unique<Lifecycle>(*io_, drain);
  return std::nullopt;
}

void ServiceRuntime::spawn(std::string task, net::awaitable<void> coroutine) {
  lifecycle_->spawn(std::move(task), std::move(coroutine));
}

kafka::ProducerOptions ServiceRuntime::producer_options(std::string name) const {
  kafka::ProducerOptions options;
  options.brokers = brokers_;
  options.properties = kafka::properties_from_env(environment_with_prefix("KAFKA_CFG_"));
  options.name = std::move(name);
  return options;
}

kafka::ConsumerOptions ServiceRuntime::consumer_options(std::string group, std::vector<std::string> topics,
                                                        std::string name) const {
  kafka::ConsumerOptions options;
  options.brokers = brokers_;
  options.group_id = std::move(group);
  options.topics = std::move(topics);
  options.properties = kafka::properties_from_env(environment_with_prefix("KAFKA_CFG_"));
  options.name = std::move(name);
  return options;
}

ReadinessChecks ServiceRuntime::readiness(const kafka::Producer* producer) {
  auto* redis = redis_.get();
  if (!producer) return [redis] { return std::vector<std::pair<std::string, bool>>{{"redis", redis->connected()}}; };
  return [redis, producer] {
    return std::vector<std::pair<std::string, bool>>{{"redis", redis->connected()}, {"kafka", producer->brokers_up()}};
  };
}

void ServiceRuntime::serve(http::Router router, http::ServerOptions options) {
  options.port = port_;
  options.name = name_;
  server_ = std::make_unique<http::Server>(io_->get_executor(), std::move(router), std::move(options));
  server_->bind();
  spawn("http", server_->run());
}

int ServiceRuntime::run() {
  int rc = lifecycle_->run();
  redis_->stop();
  log::info("stopped", {{"exit_code", rc}});
  return rc;
}

}  // namespace kiebot
