// librdkafka queue -> pipe -> Asio readiness.
#include "kafka_wakeup.hpp"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <system_error>

namespace kiebot::kafka {

QueueWakeup::QueueWakeup(net::any_io_executor executor, rd_kafka_queue_s* queue)
    : queue_(queue), read_end_(executor) {
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
  struct Race {
    bool timed_out = false;
    bool finished = false;
  };
  auto race = std::make_shared<Race>();
  net::steady_timer timer(read_end_.get_executor(), timeout);
  // The timer may complete after this frame is gone, so it only touches the
  // shared race state and cancels the wait while it is still ours.
  timer.async_wait([this, race](boost::system::error_code ec) {
    if (ec || race->finished) return;
    race->timed_out = true;
    read_end_.cancel();
  });
  auto [ec] = co_await read_end_.async_wait(net::posix::stream_descriptor::wait_read,
                                            net::as_tuple(net::use_awaitable));
  race->finished = true;
  timer.cancel();
  if (ec == net::error::operation_aborted && !race->timed_out) throw boost::system::system_error(ec);
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
