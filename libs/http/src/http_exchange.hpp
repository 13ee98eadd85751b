// One request/response exchange on an open connection (client side).
// Instantiated once per stream type, each in its own file, so that the two
// heaviest Beast instantiations compile in parallel.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <optional>
#include <utility>

#include "kiebot/runtime/net.hpp"

namespace kiebot::http {

struct Exchange {
  boost::system::error_code ec;
  bool wrote = false;     // the whole request reached the socket
  bool got_some = false;  // some of the response arrived
  std::optional<boost::beast::http::response<boost::beast::http::string_body>> response;
};

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

// A client connection, pooled by the client or owned by a streamed download.
struct Connection {
  std::optional<boost::beast::tcp_stream> plain;
  std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls;
  boost::beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;

  boost::beast::tcp_stream& lowest() { return plain ? *plain : boost::beast::get_lowest_layer(*tls); }
};

// Streamed exchanges (http_stream.cpp): a body read or written piece by
// piece. Each returns the error as a value, like exchange_*.
using StreamParser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;
using StreamHead = boost::beast::http::request<boost::beast::http::empty_body>;

net::awaitable<boost::system::error_code> write_request(Connection& c, BeastRequest& request);
net::awaitable<boost::system::error_code> read_head(Connection& c, StreamParser& parser);
// Bytes of the body into data (0 and no error at its end).
net::awaitable<std::pair<boost::system::error_code, std::size_t>> read_body(Connection& c, StreamParser& parser,
                                                                            char* data, std::size_t size);
net::awaitable<boost::system::error_code> write_head(Connection& c, StreamHead& head);
net::awaitable<boost::system::error_code> write_bytes(Connection& c, const char* data, std::size_t size);
net::awaitable<boost::system::error_code> read_answer(
    Connection& c, boost::beast::http::response_parser<boost::beast::http::string_body>& parser);

net::awaitable<Exchange> exchange_plain(boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer,
                                        BeastRequest& request, std::size_t body_limit);
net::awaitable<Exchange> exchange_tls(boost::beast::ssl_stream<boost::beast::tcp_stream>& stream,
                                      boost::beast::flat_buffer& buffer, BeastRequest& request, std::size_t body_limit);

}  // namespace kiebot::http
