// Client request/response exchange over TLS.
#include "http_exchange_impl.hpp"

namespace kiebot::http {

net::awaitable<Exchange> exchange_tls(boost::beast::ssl_stream<boost::beast::tcp_stream>& stream,
                                      boost::beast::flat_buffer& buffer, BeastRequest& request,
                                      std::size_t body_limit) {
  return detail::exchange(stream, buffer, request, body_limit);
}

}  // namespace kiebot::http
