// Wakes Asio when a librdkafka queue becomes non-empty (io event on a pipe).
#pragma once

#include <boost/asio/posix/stream_descriptor.hpp>

#include <chrono>
#include <functional>

#include "kiebot/runtime/net.hpp"

struct rd_kafka_queue_s;

namespace kiebot::kafka {

class QueueWakeup {
 public:
  QueueWakeup(net::any_io_executor executor, rd_kafka_queue_s* queue);
  ~QueueWakeup();
  QueueWakeup(const QueueWakeup&) = delete;
  QueueWakeup& operator=(const QueueWakeup&) = delete;

  // Empties the pipe; call before serving the queue so that an event that
  // arrives while serving wakes the next wait.
  void drain();
  // Returns when the queue may have events or after `timeout`; rethrows
  // cancellation of the calling coroutine.
  net::awaitable<void> wait(std::chrono::milliseconds timeout);
  // Calls `serve` every time the queue may have events, until destroyed.
  void watch(std::function<void()> serve);

 private:
  void arm();

  rd_kafka_queue_s* queue_;
  int write_fd_ = -1;
  net::posix::stream_descriptor read_end_;
  std::function<void()> serve_;
};

}  // namespace kiebot::kafka
