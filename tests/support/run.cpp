// Drives an io_context until a flag is set or time runs out.
#include "run.hpp"

#include <boost/asio/io_context.hpp>

namespace kiebot::test::detail {

void drive(net::io_context& io, const bool& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  io.restart();
  while (!done) {
    if (std::chrono::steady_clock::now() >= deadline) throw std::runtime_error("test coroutine timed out");
    io.run_one_for(std::chrono::milliseconds(50));
    if (io.stopped()) io.restart();
  }
}

}  // namespace kiebot::test::detail
