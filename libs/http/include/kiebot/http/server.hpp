// HTTP/1.1 server: one coroutine per connection, limits, timeouts, drain.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "kiebot/http/router.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::http {

struct ServerOptions {
  std::string address = "0.0.0.0";
  std::uint16_t port = 0;  // 0: any free port
  std::size_t body_limit = 1 << 20;
  int body_limit_status = 413;  // some APIs document 400 for oversized bodies
  std::uint32_t header_limit = 16 * 1024;
  std::chrono::milliseconds idle_timeout{60'000};     // keep-alive wait for the next request
  std::chrono::milliseconds request_timeout{30'000};  // read body + handle + write
  std::chrono::milliseconds drain_timeout{10'000};    // in-flight requests after stop
  std::size_t max_connections = 10'000;
  std::string name = "http";  // for logs and metrics
  // Requests it answers true for (from their head) are not read whole: the
  // handler reads the body through Request::body_stream, without body_limit.
  std::function<bool(const Request&)> stream_body;
};

// Runs on a single-threaded executor. bind() then co_await run(); cancelling
// run() (e.g. by Lifecycle on SIGTERM) stops accepting, closes idle
// keep-alive connections, lets in-flight requests finish within
// drain_timeout, and returns.
class Server {
 public:
  Server(net::any_io_executor executor, Router router, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; logs {"event":"listening","port":N}; returns the port.
  std::uint16_t bind();
  std::uint16_t port() const;
  net::awaitable<void> run();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace kiebot::http
