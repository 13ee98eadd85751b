// The client's private part (Client::Impl): TLS context, the keep-alive
// pool and connecting (http_pool.cpp), shared with http_client.cpp.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http_exchange.hpp"
#include "kiebot/http/client.hpp"

namespace kiebot::http {

struct Client::Impl {
  Impl(net::any_io_executor ex, ClientOptions opt) : executor(ex), options(std::move(opt)) {}

  // Built on first HTTPS use: loading the system trust store costs
  // milliseconds, which plain-HTTP clients (most of ours) never need to pay.
  boost::asio::ssl::context& tls();
  // A pooled connection to `key` that is still fresh and open, or null.
  std::unique_ptr<Connection> take_idle(const std::string& key);
  // Pools `conn` under `key`, unless that key's pool is full.
  void give_back(const std::string& key, std::unique_ptr<Connection> conn);
  // Resolves, checks the addresses against `policy`, connects and, for
  // https, handshakes, all by `deadline`. Throws ClientError.
  net::awaitable<std::unique_ptr<Connection>> connect(Url url, std::chrono::steady_clock::time_point deadline,
                                                      const FetchPolicy* policy);

  net::any_io_executor executor;
  ClientOptions options;
  std::optional<boost::asio::ssl::context> tls_context;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;
};

}  // namespace kiebot::http
