// librdkafka queue -> pipe -> Asio readiness.
#include "kafka_wakeup.hpp"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <optional>
#include <system_error>

#include "kiebot/runtime/completion.hpp"

namespace kiebot::kafka {

QueueWakeup::QueueWakeup(net::any_io_executor executor, rd_kafka_queue_s* queue) : queue_(queue), read_end_(executor) {
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  read_end_.assign(fds[0]);
  write_fd_ = fds[1];
  static const char kByte = 1;
  rd_kafka_queue_io_event_enable(queue_, write_fd_, &kByte, 1);
}

QueueWakeup::~QueueWakeup() {
  rd_kafka_queue_io_event_enable(queue_, -1, nullptr, 0);
  boost::system::error_code ignored;
  read_end_.close(ignored);
  ::close(write_fd_);
}

void QueueWakeup::drain() {
  char buf[256];
  while (::read(read_end_.native_handle(), buf, sizeof buf) > 0) {
  }
}

net::awaitable<void> QueueWakeup::wait(std::chrono::milliseconds timeout) {
  // The descriptor's handler holds its own handle on the completion, so it
  // is harmless whenever it runs; a wait that ends without it cancels it.
  Completion<boost::system::error_code> readable;
  read_end_.async_wait(net::posix::stream_descriptor::wait_read,
                       [readable](boost::system::error_code ec) mutable { readable.complete(ec); });
  std::optional<boost::system::error_code> woken;
  try {
    woken = co_await readable.wait_for(timeout);
  } catch (const boost::system::system_error&) {
    read_end_.cancel();  // the calling coroutine was cancelled
    throw;
  }
  if (!woken) read_end_.cancel();  // timed out
}

void QueueWakeup::watch(std::function<void()> serve) {
  serve_ = std::move(serve);
  arm();
}

void QueueWakeup::arm() {
  read_end_.async_wait(net::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
    if (ec) return;  // closed: the owner is being destroyed
    drain();
    serve_();
    arm();
  });
}

}  // namespace kiebot::kafka
