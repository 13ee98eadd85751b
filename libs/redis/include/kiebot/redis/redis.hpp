// Async Redis client on hiredis, driven by Asio, with reconnect and deadlines.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kiebot/base/errors.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::redis {

struct Reply {
  enum class Type { nil, integer, string, status, error, array };
  Type type = Type::nil;
  std::int64_t integer = 0;
  std::string str;  // string, status and error replies
  std::vector<Reply> elements;

  bool is_nil() const { return type == Type::nil; }
  bool is_error() const { return type == Type::error; }
  // Throw Error(protocol) when the reply has another type.
  const std::string& as_string() const;
  std::int64_t as_integer() const;
};

// Its ErrorKind: invalid_url is permanent; an error reply is a bug unless
// Redis said it is busy, loading, read-only or out of memory
// (transient_error_reply); the rest is transient.
class Error : public std::runtime_error, public ClassifiedError {
 public:
  enum class Kind { unavailable, timeout, protocol, invalid_url };
  Error(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }
  ErrorKind error_kind() const noexcept override;

 private:
  Kind kind_;
};

// For callers to whom an error reply is a failure: throws Error(protocol)
// naming `what` (e.g. the script) and Redis's message.
void throw_if_error(const Reply& reply, std::string_view what);

// True when an error reply (or an Error's message naming one) reports a
// passing state of Redis (LOADING, BUSY, READONLY, MASTERDOWN, TRYAGAIN,
// CLUSTERDOWN, NOREPLICAS, OOM) rather than a mistake in the command or script.
bool transient_error_reply(std::string_view message);

struct Endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string username;
  std::string password;
  int db = 0;
};

// redis://[[user]:password@]host[:port][/db]
std::optional<Endpoint> parse_url(std::string_view url);

// A Lua script sent by EVALSHA, falling back to EVAL on NOSCRIPT.
class Script {
 public:
  explicit Script(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

struct Options {
  std::string url = "redis://127.0.0.1:6379/0";
  std::chrono::milliseconds command_timeout{2'000};
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5'000};
  std::string name = "redis";  // for logs and metrics
};

// Single-threaded: use from one executor. Commands sent while disconnected
// fail at once with Error(unavailable); a command without an answer by its
// deadline fails with Error(timeout). Error replies from Redis are values
// (Reply::is_error), not exceptions.
class Client {
 public:
  Client(net::any_io_executor executor, Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void start();  // connect, and keep reconnecting until stop()
  void stop();   // let pending replies arrive, then disconnect for good
  bool connected() const;
  net::awaitable<bool> wait_connected(std::chrono::milliseconds timeout);

  net::awaitable<Reply> exec(std::vector<std::string> args);
  net::awaitable<Reply> exec(std::vector<std::string> args, std::chrono::milliseconds timeout);
  // By reference (an exception to CP.53): scripts are long-lived, usually
  // static, and copying their source per call would cost more than the call.
  net::awaitable<Reply> eval(const Script& script, std::vector<std::string> keys, std::vector<std::string> args);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace kiebot::redis
