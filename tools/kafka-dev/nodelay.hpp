// TCP_NODELAY for the mock brokers' connections, as real Kafka brokers set it.
#pragma once

#include "kiebot/runtime/net.hpp"

namespace kiebot::kafka_dev {

// librdkafka's mock brokers accept connections without TCP_NODELAY. With
// several requests in flight on one connection, Nagle's algorithm then holds
// a response until the client's delayed ACK (about 40 ms): measured as 42 ms
// produce round trips that a real broker (which sets TCP_NODELAY on every
// connection) does not have. This loop sets it on each new TCP socket of the
// process, checking every `interval`, until cancelled.
net::awaitable<void> keep_sockets_nodelay(std::chrono::milliseconds interval);

}  // namespace kiebot::kafka_dev
