// HTTP message types shared by the client and the server (no Beast here).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiebot/base/errors.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// A body read piece by piece instead of held whole (a download being
// relayed, a large upload received, a generated file served).
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Up to `size` bytes into `data` (which must stay valid until it
  // completes); 0 at the end. Throws on failure (the client's ClientError).
  virtual net::awaitable<std::size_t> read(char* data, std::size_t size) = 0;
};

// Case-insensitive header lookup.
std::optional<std::string_view> find_header(const Headers& headers, std::string_view name);

struct Request {
  std::string method = "GET";
  std::string target = "/";  // path and query as sent
  Headers headers;
  std::string body;

  // Set by the server for a route that streams its body (ServerOptions::
  // stream_body): `body` stays empty and this reads it, while the handler runs.
  BodySource* body_stream = nullptr;

  // Filled by the server's router.
  std::string path;
  std::map<std::string, std::string, std::less<>> params;

  std::optional<std::string_view> header(std::string_view name) const { return find_header(headers, name); }
  std::optional<std::string> query(std::string_view name) const;
  // Parses the body as JSON; throws BadRequest when it is not.
  nlohmann::json json() const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set, the server sends this instead of `body`: exactly
  // `body_stream_length` bytes, read piece by piece.
  std::shared_ptr<BodySource> body_stream = {};
  std::uint64_t body_stream_length = 0;

  std::optional<std::string_view> header(std::string_view name) const { return find_header(headers, name); }
  nlohmann::json json() const;  // throws nlohmann::json::parse_error

  static Response json(int status, const nlohmann::json& body);
  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  // The house error shape: {"error":"code","message":"..."}.
  static Response error(int status, std::string_view code, std::string_view message);
};

// Thrown by handlers to answer 4xx with the house error shape.
// A permanent error; logged as "<code>: <message>".
struct BadRequest : ClassifiedError {
  BadRequest() = default;
  BadRequest(int status, std::string code, std::string message = {})
      : status(status), code(std::move(code)), message(std::move(message)) {}
  ErrorKind error_kind() const noexcept override { return ErrorKind::permanent; }
  std::string error_text() const override { return code + ": " + message; }

  int status = 400;
  std::string code = "bad_request";
  std::string message;
};

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;
  std::uint16_t port = 0;
  std::string target = "/";  // path and query

  // Accepts http:// and https:// URLs; nothing else.
  static std::optional<Url> parse(std::string_view text);
  bool tls() const { return scheme == "https"; }
};

std::string percent_decode(std::string_view text, bool plus_as_space);
std::string percent_encode(std::string_view text);
// a=1&b=2 -> {a:1, b:2}; later duplicates are ignored.
std::map<std::string, std::string, std::less<>> parse_query(std::string_view query);

}  // namespace kiebot::http
