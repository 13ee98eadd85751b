// One request/response exchange on an open connection (client side).
// Instantiated once per stream type, each in its own file, so that the two
// heaviest Beast instantiations compile in parallel.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <optional>

#include "kiebot/common/net.hpp"

namespace kiebot::http {

struct Exchange {
  boost::system::error_code ec;
  bool wrote = false;     // the whole request reached the socket
  bool got_some = false;  // some of the response arrived
  std::optional<boost::beast::http::response<boost::beast::http::string_body>> response;
};

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

net::awaitable<Exchange> exchange_plain(boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer,
                                        BeastRequest& request, std::size_t body_limit);
net::awaitable<Exchange> exchange_tls(boost::beast::ssl_stream<boost::beast::tcp_stream>& stream,
                                      boost::beast::flat_buffer& buffer, BeastRequest& request,
                                      std::size_t body_limit);

}  // namespace kiebot::http
