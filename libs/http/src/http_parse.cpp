// Parsing one request from bytes (see http_parse.hpp): the parser configured
// as run_session configures it, fed as async_read feeds it.
#include "kiebot/http/parse.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>

namespace kiebot::http {

namespace bhttp = boost::beast::http;

Response request_refusal(const boost::system::error_code& ec, const RequestLimits& limits) {
  if (ec == bhttp::error::body_limit) {
    return Response::error(limits.body_limit_status, "payload_too_large",
                           "request body is larger than " + std::to_string(limits.body_limit) + " bytes");
  }
  if (ec == bhttp::error::header_limit) {
    return Response::error(431, "headers_too_large", "request header fields too large");
  }
  return Response::error(400, "bad_request", "malformed HTTP request");
}

ParsedRequest parse_request(std::string_view bytes, const RequestLimits& limits) {
  ParsedRequest out;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(limits.body_limit);
  parser.header_limit(limits.header_limit);
  parser.eager(true);
  while (!parser.is_done()) {
    boost::system::error_code ec;
    auto used = parser.put(boost::asio::buffer(bytes.data() + out.consumed, bytes.size() - out.consumed), ec);
    out.consumed += used;
    if (ec == bhttp::error::need_more || (!ec && used == 0)) return out;
    if (ec) {
      out.outcome = ParsedRequest::Outcome::refused;
      out.refusal = request_refusal(ec, limits);
      return out;
    }
  }
  auto message = parser.release();
  out.outcome = ParsedRequest::Outcome::complete;
  out.keep_alive = message.keep_alive();
  out.request.method = std::string(message.method_string());
  out.request.target = std::string(message.target());
  for (const auto& field : message) {
    out.request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.request.body = std::move(message.body());
  return out;
}

}  // namespace kiebot::http
