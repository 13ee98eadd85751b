// HTTP/1.1 client: keep-alive pool per host, HTTPS with verification, deadlines.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "kiebot/common/http.hpp"
#include "kiebot/common/net.hpp"

namespace kiebot::http {

struct ClientOptions {
  std::chrono::milliseconds timeout{30'000};       // default per-request deadline
  std::size_t max_response_bytes = 64 << 20;
  std::string ca_file;                              // extra trust anchors; empty = system store
  std::size_t max_idle_per_host = 16;
  std::chrono::milliseconds idle_timeout{15'000};   // drop pooled connections older than this
  std::string user_agent = "kiebot/1.0";
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{0};  // 0: ClientOptions::timeout
};

// Transport failures. An HTTP status (4xx, 5xx) is not an error: it comes
// back as a Response.
class ClientError : public std::runtime_error {
 public:
  enum class Kind { invalid_url, resolve, connect, tls, timeout, io, too_large, protocol };
  ClientError(Kind kind, bool maybe_sent, const std::string& what)
      : std::runtime_error(what), kind_(kind), maybe_sent_(maybe_sent) {}
  Kind kind() const { return kind_; }
  // True when the server may have received and acted on the request
  // (e.g. it timed out while waiting for the answer): the outcome is unknown.
  bool maybe_sent() const { return maybe_sent_; }

 private:
  Kind kind_;
  bool maybe_sent_;
};

// Single-threaded: use from one executor. The client must outlive its requests.
class Client {
 public:
  explicit Client(net::any_io_executor executor, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  net::awaitable<Response> send(ClientRequest request);
  net::awaitable<Response> get(std::string url, Headers headers = {});
  net::awaitable<Response> post_json(std::string url, nlohmann::json body, Headers headers = {});

  std::size_t idle_connections() const;
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiebot::http
