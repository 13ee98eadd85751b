// Streamed client exchanges: a response body read, or a request body
// written, piece by piece (Beast instantiated here only).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "http_exchange.hpp"

namespace kiebot::http {

namespace bhttp = boost::beast::http;
using boost::system::error_code;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

net::awaitable<error_code> write_request(Connection& c, BeastRequest& request) {
  error_code ec;
  if (c.tls) {
    std::tie(ec, std::ignore) = co_await bhttp::async_write(*c.tls, request, use_tuple);
  } else {
    std::tie(ec, std::ignore) = co_await bhttp::async_write(*c.plain, request, use_tuple);
  }
  co_return ec;
}

net::awaitable<error_code> read_head(Connection& c, StreamParser& parser) {
  error_code ec;
  if (c.tls) {
    std::tie(ec, std::ignore) = co_await bhttp::async_read_header(*c.tls, c.buffer, parser, use_tuple);
  } else {
    std::tie(ec, std::ignore) = co_await bhttp::async_read_header(*c.plain, c.buffer, parser, use_tuple);
  }
  co_return ec;
}

net::awaitable<std::pair<error_code, std::size_t>> read_body(Connection& c, StreamParser& parser, char* data,
                                                             std::size_t size) {
  if (parser.is_done() || size == 0) co_return std::pair{error_code{}, std::size_t{0}};
  auto& body = parser.get().body();
  body.data = data;
  body.size = size;
  body.more = true;
  error_code ec;
  if (c.tls) {
    std::tie(ec, std::ignore) = co_await bhttp::async_read(*c.tls, c.buffer, parser, use_tuple);
  } else {
    std::tie(ec, std::ignore) = co_await bhttp::async_read(*c.plain, c.buffer, parser, use_tuple);
  }
  if (ec == bhttp::error::need_buffer) ec = {};
  co_return std::pair{ec, size - body.size};
}

net::awaitable<error_code> write_head(Connection& c, StreamHead& head) {
  bhttp::request_serializer<bhttp::empty_body> serializer(head);
  error_code ec;
  if (c.tls) {
    std::tie(ec, std::ignore) = co_await bhttp::async_write_header(*c.tls, serializer, use_tuple);
  } else {
    std::tie(ec, std::ignore) = co_await bhttp::async_write_header(*c.plain, serializer, use_tuple);
  }
  co_return ec;
}

net::awaitable<error_code> write_bytes(Connection& c, const char* data, std::size_t size) {
  error_code ec;
  if (c.tls) {
    std::tie(ec, std::ignore) = co_await net::async_write(*c.tls, net::buffer(data, size), use_tuple);
  } else {
    std::tie(ec, std::ignore) = co_await net::async_write(*c.plain, net::buffer(data, size), use_tuple);
  }
  co_return ec;
}

net::awaitable<error_code> read_answer(Connection& c, bhttp::response_parser<bhttp::string_body>& parser) {
  error_code ec;
  if (c.tls) {
    std::tie(ec, std::ignore) = co_await bhttp::async_read(*c.tls, c.buffer, parser, use_tuple);
  } else {
    std::tie(ec, std::ignore) = co_await bhttp::async_read(*c.plain, c.buffer, parser, use_tuple);
  }
  co_return ec;
}

}  // namespace kiebot::http
