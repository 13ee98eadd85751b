// An HTTP server inside the test process (webhook and callback receivers,
// media origins), served whenever the test drives its io_context.
#pragma once

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "kiebot/base/log.hpp"
#include "kiebot/http/server.hpp"

namespace kiebot::test {

class LocalServer {
 public:
  LocalServer(net::io_context& io, http::Router router) : io_(io) {
    http::ServerOptions options;
    options.address = "127.0.0.1";
    options.name = "test";
    server_ = std::make_unique<http::Server>(io.get_executor(), std::move(router), options);
    port_ = server_->bind();
    net::co_spawn(io, server_->run(), net::bind_cancellation_slot(stop_.slot(), log::on_failure("test_server_failed")));
  }
  ~LocalServer() {
    stop_.emit(net::cancellation_type::terminal);
    for (int i = 0; i < 20; ++i) io_.run_one_for(std::chrono::milliseconds(10));
  }
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

 private:
  net::io_context& io_;
  std::unique_ptr<http::Server> server_;
  net::cancellation_signal stop_;
  std::uint16_t port_ = 0;
};

}  // namespace kiebot::test
