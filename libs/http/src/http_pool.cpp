// The client's connections: TLS context, the keep-alive pool, and
// connecting under a fetch policy (resolve, check, connect, handshake).
#include "http_client_impl.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kiebot/http/fetch_policy.hpp"

namespace kiebot::http {

namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

ssl::context& Client::Impl::tls() {
  if (!tls_context) {
    tls_context.emplace(ssl::context::tls_client);
    tls_context->set_verify_mode(ssl::verify_peer);
    tls_context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                             ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (options.ca_file.empty()) {
      tls_context->set_default_verify_paths();
    } else {
      tls_context->load_verify_file(options.ca_file);
    }
  }
  return *tls_context;
}

std::unique_ptr<Connection> Client::Impl::take_idle(const std::string& key) {
  auto it = idle.find(key);
  if (it == idle.end()) return nullptr;
  auto now = Clock::now();
  while (!it->second.empty()) {
    auto conn = std::move(it->second.back());
    it->second.pop_back();
    if (now - conn->idle_since < options.idle_timeout && conn->lowest().socket().is_open()) return conn;
  }
  return nullptr;
}

void Client::Impl::give_back(const std::string& key, std::unique_ptr<Connection> conn) {
  auto& list = idle[key];
  if (list.size() >= options.max_idle_per_host) return;
  conn->idle_since = Clock::now();
  conn->lowest().expires_never();
  list.push_back(std::move(conn));
}

net::awaitable<std::unique_ptr<Connection>> Client::Impl::connect(Url url, Clock::time_point deadline,
                                                                  const FetchPolicy* policy) {
  tcp::resolver resolver(executor);
  net::steady_timer guard(executor, deadline);
  guard.async_wait([&resolver](boost::system::error_code ec) {
    if (!ec) resolver.cancel();
  });
  auto [rec, endpoints] = co_await resolver.async_resolve(url.host, std::to_string(url.port), use_tuple);
  guard.cancel();
  if (rec) {
    bool timed_out = Clock::now() >= deadline;
    throw ClientError(timed_out ? ClientError::Kind::timeout : ClientError::Kind::resolve, false,
                      "resolve " + url.host + ": " + (timed_out ? "timed out" : rec.message()));
  }
  // Only the addresses checked here are connected to: no second lookup
  // that a rebinding DNS server could answer differently.
  // A name that resolves to any refused address is refused as a whole.
  std::vector<tcp::endpoint> allowed;
  for (const auto& entry : endpoints) {
    auto why = policy ? policy->refusal(url, entry.endpoint().address()) : std::string();
    if (!why.empty()) {
      throw ClientError(
          ClientError::Kind::refused, false,
          url.host + " resolves to a " + why + " address (" + entry.endpoint().address().to_string() + ")");
    }
    allowed.push_back(entry.endpoint());
  }
  auto conn = std::make_unique<Connection>();
  if (url.tls()) {
    conn->tls.emplace(executor, tls());
  } else {
    conn->plain.emplace(executor);
  }
  auto& lowest = conn->lowest();
  lowest.expires_at(deadline);
  auto [cec, ep] = co_await lowest.async_connect(allowed, use_tuple);
  if (cec) {
    throw ClientError(cec == beast::error::timeout ? ClientError::Kind::timeout : ClientError::Kind::connect, false,
                      "connect " + url.host + ":" + std::to_string(url.port) + ": " + cec.message());
  }
  lowest.socket().set_option(tcp::no_delay(true));
  if (conn->tls) {
    // SNI, then certificate chain (verify_peer) and host name (RFC 6125).
    if (SSL_set_tlsext_host_name(conn->tls->native_handle(), url.host.c_str()) != 1) {
      throw ClientError(ClientError::Kind::tls, false, "cannot set TLS server name");
    }
    conn->tls->set_verify_callback(ssl::host_name_verification(url.host));
    auto [hec] = co_await conn->tls->async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
      throw ClientError(hec == beast::error::timeout ? ClientError::Kind::timeout : ClientError::Kind::tls, false,
                        "TLS handshake with " + url.host + ": " + hec.message());
    }
  }
  co_return conn;
}

}  // namespace kiebot::http
