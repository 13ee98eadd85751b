// Kafka producer (acknowledged sends) and consumer-group consumer on
// librdkafka, with librdkafka's queues wired into Asio. No rdkafka.h here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kiebot/base/errors.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::kafka {

using Properties = std::map<std::string, std::string>;

// KAFKA_CFG_SECURITY_PROTOCOL=sasl_ssl -> {"security.protocol": "sasl_ssl"}.
Properties properties_from_env(const std::map<std::string, std::string>& environment);
// Properties whose values must never be logged (passwords, keys, secrets).
bool is_secret_property(std::string_view name);

struct Header {
  std::string key;
  std::string value;
};
using Headers = std::vector<Header>;

struct Message {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  Headers headers;
  std::int64_t timestamp_ms = 0;

  std::optional<std::string_view> header(std::string_view name) const;
};

struct OutMessage {
  std::string topic;
  std::string key;
  std::string value;
  Headers headers;
  std::int64_t timestamp_ms = 0;  // the message's CreateTime; 0: when it is produced
};

class Error : public std::runtime_error, public ClassifiedError {
 public:
  Error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }  // rd_kafka_resp_err_t
  ErrorKind error_kind() const noexcept override { return ErrorKind::transient; }

 private:
  int code_;
};

struct ProducerOptions {
  std::string brokers = "127.0.0.1:9092";
  Properties properties;  // applied last, e.g. from KAFKA_CFG_*
  std::chrono::milliseconds delivery_timeout{30'000};
  std::string name = "producer";
};

// Idempotent (enable.idempotence=true, acks=all). Single-threaded: use from
// one executor; the producer must outlive its sends.
class Producer {
 public:
  Producer(net::any_io_executor executor, ProducerOptions options);
  ~Producer();  // flushes for up to 5 s
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Completes when the broker acknowledged the message; throws Error when it
  // could not be delivered within the delivery timeout.
  net::awaitable<void> send(std::string topic, std::string key, std::string value, Headers headers = {});
  // Completes when every message was acknowledged; throws the first error.
  net::awaitable<void> send_batch(std::vector<OutMessage> messages);
  // True unless librdkafka reported every broker down.
  bool brokers_up() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
};

struct ConsumerOptions {
  std::string brokers = "127.0.0.1:9092";
  std::string group_id;
  std::vector<std::string> topics;
  Properties properties;
  std::string name = "consumer";
  // Called on rebalance, before the assignment changes.
  std::function<void(const std::vector<TopicPartition>&)> on_assigned;
  std::function<void(const std::vector<TopicPartition>&)> on_revoked;
};

// A consumer-group member with auto-commit off: commit() what was processed.
// Single-threaded: use from one executor.
class Consumer {
 public:
  Consumer(net::any_io_executor executor, ConsumerOptions options);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Up to `max` messages; empty when none arrived within `wait`.
  net::awaitable<std::vector<Message>> poll(std::size_t max, std::chrono::milliseconds wait);
  // Commits, for each partition, the offset after the highest message given.
  net::awaitable<void> commit(std::vector<Message> processed);
  net::awaitable<void> commit(std::vector<std::pair<TopicPartition, std::int64_t>> next_offsets);
  // Leaves the group (revoking partitions) so that others take over at once.
  void close();
  std::vector<TopicPartition> assignment() const;
  // Stops fetching from these partitions; what was fetched ahead is
  // dropped, and resume() fetches again from after the last message poll()
  // returned. Throws Error when librdkafka refuses.
  void pause(const std::vector<TopicPartition>& partitions);
  void resume(const std::vector<TopicPartition>& partitions);
  // Told of every rebalance, after ConsumerOptions' callbacks and with the
  // new assignment in place (for the consume loop, kafka_consume.hpp); an
  // empty function removes it.
  using RebalanceListener = std::function<void(const std::vector<TopicPartition>& partitions, bool assigned)>;
  void set_rebalance_listener(RebalanceListener listener);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace kiebot::kafka
