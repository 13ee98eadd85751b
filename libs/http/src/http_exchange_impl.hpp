// The client exchange template, instantiated by http_exchange_plain.cpp and
// http_exchange_tls.cpp only.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "http_exchange.hpp"

namespace kiebot::http::detail {

namespace bhttp = boost::beast::http;

template <class Stream>
net::awaitable<Exchange> exchange(Stream& stream, boost::beast::flat_buffer& buffer, BeastRequest& request,
                                  std::size_t body_limit) {
  Exchange out;
  auto [wec, wn] = co_await bhttp::async_write(stream, request, net::as_tuple(net::use_awaitable));
  if (wec) {
    out.ec = wec;
    co_return out;
  }
  out.wrote = true;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(body_limit);
  parser.header_limit(64 * 1024);
  if (request.method() == bhttp::verb::head) parser.skip(true);
  auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, net::as_tuple(net::use_awaitable));
  out.got_some = parser.got_some();
  if (rec) {
    out.ec = rec;
    co_return out;
  }
  out.response = parser.release();
  co_return out;
}

}  // namespace kiebot::http::detail
