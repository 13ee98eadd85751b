// HTTP/1.1 client: keep-alive pool per host, HTTPS with verification, deadlines.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "kiebot/http/http.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::http {

class FetchPolicy;

struct ClientOptions {
  std::chrono::milliseconds timeout{30'000};  // default per-request deadline
  std::size_t max_response_bytes = 64 << 20;
  std::string ca_file;  // extra trust anchors; empty = system store
  std::size_t max_idle_per_host = 16;
  std::chrono::milliseconds idle_timeout{15'000};  // drop pooled connections older than this
  std::string user_agent = "kiebot/1.0";
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{0};  // 0: ClientOptions::timeout
  // Set for a URL named by outside input: only addresses the policy allows
  // are connected to (checked on the resolved address actually used), and
  // redirects are followed, each checked the same way, up to its cap.
  std::shared_ptr<const FetchPolicy> policy = {};
};

// Transport failures. An HTTP status (4xx, 5xx) is not an error: it comes
// back as a Response.
// Its ErrorKind: invalid_url, refused and too_large are permanent, the rest
// transient.
class ClientError : public std::runtime_error, public ClassifiedError {
 public:
  enum class Kind { invalid_url, resolve, connect, tls, timeout, io, too_large, protocol, refused };
  ClientError(Kind kind, bool maybe_sent, const std::string& what)
      : std::runtime_error(what), kind_(kind), maybe_sent_(maybe_sent) {}
  Kind kind() const { return kind_; }
  ErrorKind error_kind() const noexcept override {
    return kind_ == Kind::invalid_url || kind_ == Kind::refused || kind_ == Kind::too_large ? ErrorKind::permanent
                                                                                            : ErrorKind::transient;
  }
  // True when the server may have received and acted on the request
  // (e.g. it timed out while waiting for the answer): the outcome is unknown.
  // Kind::refused: the fetch policy forbade the address or a redirect.
  bool maybe_sent() const { return maybe_sent_; }

 private:
  Kind kind_;
  bool maybe_sent_;
};

// A response whose body is read piece by piece (Client::open): only the
// caller's buffer holds it. Owns its connection, which is closed with it.
class Download final : public BodySource {
 public:
  int status = 0;
  Headers headers;
  std::optional<std::uint64_t> content_length;  // none when chunked or until close

  std::optional<std::string_view> header(std::string_view name) const { return find_header(headers, name); }
  // Throws ClientError (io, timeout) when the body breaks off.
  net::awaitable<std::size_t> read(char* data, std::size_t size) override;

  struct State;
  explicit Download(std::unique_ptr<State> state);
  ~Download() override;

 private:
  std::unique_ptr<State> state_;
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
  // Sends `request` and returns once the answer's head arrived; its body is
  // read through the Download. Redirects are followed as by send(). Each
  // read (not the whole body) must progress within the request's timeout.
  net::awaitable<std::unique_ptr<Download>> open(ClientRequest request);
  // Sends `request` (its `body` ignored) with a body of exactly `length`
  // bytes read from `body` as they are sent; reads the whole answer. Never
  // repeated: the body cannot be read twice.
  net::awaitable<Response> send_streamed(ClientRequest request, std::uint64_t length, BodySource* body);

  std::size_t idle_connections() const;
  struct Impl;

 private:
  net::awaitable<Response> send_once(ClientRequest request);

  std::unique_ptr<Impl> impl_;
};

// Why `url` may not be fetched under `policy`, or "" when it may: not a
// valid http(s) URL, or its host resolves to an address the policy refuses.
// A host that does not resolve (in `timeout`) is not refused here: its
// fetch fails on its own, and checks the address it connects to anyway.
net::awaitable<std::string> fetch_refusal(std::string url, std::shared_ptr<const FetchPolicy> policy,
                                          std::chrono::milliseconds timeout);

}  // namespace kiebot::http
