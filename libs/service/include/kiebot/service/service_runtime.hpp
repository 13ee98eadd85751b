// What every service binary builds the same way: config, log, io_context,
// Redis, Kafka options, the HTTP server with health routes, and the lifecycle.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiebot/base/config.hpp"
#include "kiebot/http/health.hpp"
#include "kiebot/http/router.hpp"
#include "kiebot/http/server.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/redis/redis.hpp"
#include "kiebot/runtime/lifecycle.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot {

// A service's main() in three steps:
//   ServiceRuntime rt("accounts", "owns balances ...", argc, argv);
//   rt.read_endpoints(8083, "HTTP API ...", "Redis holding ...");   // then its own variables
//   if (auto code = rt.start()) return *code;                      // log, io, Redis, lifecycle
//   ... build parts on rt.executor() and rt.redis(), rt.spawn(...) them ...
//   rt.serve(router); return rt.run();
// Standard variables are read where the service asks for them, so `--help`
// lists them in the service's order; every config error reads
// "<service>: config error: <message>" and exits with status 2.
class ServiceRuntime {
 public:
  ServiceRuntime(std::string name, std::string description, int argc, char** argv);
  ~ServiceRuntime();
  ServiceRuntime(const ServiceRuntime&) = delete;
  ServiceRuntime& operator=(const ServiceRuntime&) = delete;

  Config& config() { return config_; }
  const std::string& name() const { return name_; }

  // HTTP_PORT and REDIS_URL; with `kafka`, also KAFKA_BROKERS and KAFKA_CFG_<NAME>.
  void read_endpoints(std::uint16_t port, std::string_view port_help, std::string_view redis_help, bool kafka = false);
  // INSTANCE_ID and LOG_LEVEL.
  void read_identity();
  const std::string& instance() const { return instance_; }
  std::uint16_t port() const { return port_; }

  // Writes "<name>: config error: <message>" to stderr and returns 2.
  int config_error(const std::string& message) const;
  // Ends config reading (help: 0, an error: 2), then starts log (with the
  // config's secrets and `secrets`), the io_context, Redis and the lifecycle,
  // whose tasks get `drain` to finish after SIGTERM.
  std::optional<int> start(std::chrono::milliseconds drain = std::chrono::seconds(10),
                           std::vector<std::string> secrets = {});

  net::io_context& io() { return *io_; }
  net::any_io_executor executor() { return io_->get_executor(); }
  redis::Client& redis() { return *redis_; }
  Lifecycle& lifecycle() { return *lifecycle_; }
  void spawn(std::string task, net::awaitable<void> coroutine);
  bool stopping() const { return lifecycle_ && lifecycle_->stopping(); }

  // Producer and consumer settings: KAFKA_BROKERS and every KAFKA_CFG_* property.
  kafka::ProducerOptions producer_options(std::string name) const;
  kafka::ConsumerOptions consumer_options(std::string group, std::vector<std::string> topics, std::string name) const;

  // Redis connected, and the Kafka producer's brokers when given.
  ReadinessChecks readiness(const kafka::Producer* producer = nullptr);
  // Binds HTTP_PORT ({"event":"listening"}) and serves `router` as the "http"
  // task; `options` gives limits, its port and name come from the runtime.
  void serve(http::Router router, http::ServerOptions options = {});

  // Runs until SIGTERM or a failed task, stops Redis, logs "stopped" and
  // returns the exit code.
  int run();

 private:
  std::string name_;
  Config config_;
  std::uint16_t port_ = 0;
  std::string redis_url_;
  std::string brokers_;
  std::string instance_;
  std::string level_;
  std::unique_ptr<net::io_context> io_;
  std::unique_ptr<redis::Client> redis_;
  std::unique_ptr<Lifecycle> lifecycle_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace kiebot
