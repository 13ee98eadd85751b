// One HTTP/1.1 request read from bytes with the limits the server's sessions
// set (body, header block) and the answer the server gives when a request is
// refused: pure, so that unit tests and fuzz/ reach Beast's parser without a
// socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kiebot/http/http.hpp"

namespace boost::system {
class error_code;
}

namespace kiebot::http {

struct RequestLimits {
  std::size_t body_limit = 1 << 20;
  std::uint32_t header_limit = 16 * 1024;
  int body_limit_status = 413;
};

struct ParsedRequest {
  enum class Outcome {
    complete,    // `request` holds it; `consumed` bytes were its own
    incomplete,  // the bytes end before the request does
    refused,     // malformed or over a limit: `refusal` is the answer
  };
  Outcome outcome = Outcome::incomplete;
  Request request;
  Response refusal;
  std::size_t consumed = 0;
  bool keep_alive = false;
};

ParsedRequest parse_request(std::string_view bytes, const RequestLimits& limits = {});

// The answer to a request Beast's parser refused with `ec` (the server's
// and parse_request's): the body limit's status, 431, or 400.
Response request_refusal(const boost::system::error_code& ec, const RequestLimits& limits);

}  // namespace kiebot::http
