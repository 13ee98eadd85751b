// Private librdkafka helpers shared by the producer and the consumer.
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>

#include "kiebot/kafka/kafka.hpp"

namespace kiebot::kafka {

// R.1: one RAII wrapper per C handle.
template <class T, void (*Destroy)(T*)>
struct Deleter {
  void operator()(T* p) const {
    if (p != nullptr) Destroy(p);
  }
};
template <class T, void (*Destroy)(T*)>
using Handle = std::unique_ptr<T, Deleter<T, Destroy>>;

using ConfHandle = Handle<rd_kafka_conf_t, &rd_kafka_conf_destroy>;
using KafkaHandle = Handle<rd_kafka_t, &rd_kafka_destroy>;
using QueueHandle = Handle<rd_kafka_queue_t, &rd_kafka_queue_destroy>;
using PartitionListHandle = Handle<rd_kafka_topic_partition_list_t, &rd_kafka_topic_partition_list_destroy>;
using MessageHandle = Handle<rd_kafka_message_t, &rd_kafka_message_destroy>;
using TopicHandle = Handle<rd_kafka_topic_t, &rd_kafka_topic_destroy>;

// Applies `defaults`, then `overrides` (logged with secrets redacted); routes
// librdkafka's log lines into ours. Throws Error on an unknown property.
ConfHandle make_conf(const std::string& name, const Properties& defaults, const Properties& overrides);
void log_callback(const rd_kafka_t* rk, int level, const char* facility, const char* message);
KafkaHandle make_handle(rd_kafka_type_t type, ConfHandle conf, const std::string& name);
Headers read_headers(rd_kafka_message_t* message);

}  // namespace kiebot::kafka
