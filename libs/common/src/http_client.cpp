// Beast HTTP client with a keep-alive pool and verified TLS.
#include "kiebot/common/http_client.hpp"

#include "http_exchange.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <nlohmann/json.hpp>

#include <optional>

namespace kiebot::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

struct Connection {
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  Clock::time_point idle_since;

  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }
};

bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS";
}

std::string pool_key(const Url& url) { return url.scheme + "://" + url.host + ":" + std::to_string(url.port); }

}  // namespace

struct Client::Impl {
  Impl(net::any_io_executor ex, ClientOptions opt) : executor(ex), options(std::move(opt)) {}

  // Built on first HTTPS use: loading the system trust store costs
  // milliseconds, which plain-HTTP clients (most of ours) never need to pay.
  ssl::context& tls() {
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

  std::unique_ptr<Connection> take_idle(const std::string& key) {
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

  void give_back(const std::string& key, std::unique_ptr<Connection> conn) {
    auto& list = idle[key];
    if (list.size() >= options.max_idle_per_host) return;
    conn->idle_since = Clock::now();
    conn->lowest().expires_never();
    list.push_back(std::move(conn));
  }

  net::awaitable<std::unique_ptr<Connection>> connect(Url url, Clock::time_point deadline) {
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
    auto conn = std::make_unique<Connection>();
    if (url.tls()) {
      conn->tls.emplace(executor, tls());
    } else {
      conn->plain.emplace(executor);
    }
    auto& lowest = conn->lowest();
    lowest.expires_at(deadline);
    auto [cec, ep] = co_await lowest.async_connect(endpoints, use_tuple);
    if (cec) {
      throw ClientError(cec == beast::error::timeout ? ClientError::Kind::timeout : ClientError::Kind::connect,
                        false, "connect " + url.host + ":" + std::to_string(url.port) + ": " + cec.message());
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

  net::any_io_executor executor;
  ClientOptions options;
  std::optional<ssl::context> tls_context;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;
};

Client::Client(net::any_io_executor executor, ClientOptions options)
    : impl_(std::make_unique<Impl>(executor, std::move(options))) {}

Client::~Client() = default;

std::size_t Client::idle_connections() const {
  std::size_t n = 0;
  for (const auto& [key, list] : impl_->idle) n += list.size();
  return n;
}

net::awaitable<Response> Client::send(ClientRequest request) {
  auto url = Url::parse(request.url);
  if (!url) throw ClientError(ClientError::Kind::invalid_url, false, "invalid URL");
  auto timeout = request.timeout.count() > 0 ? request.timeout : impl_->options.timeout;
  auto deadline = Clock::now() + timeout;
  auto key = pool_key(*url);

  bhttp::request<bhttp::string_body> out{bhttp::string_to_verb(request.method), url->target, 11};
  if (out.method() == bhttp::verb::unknown) out.method_string(request.method);
  bool default_port = url->port == (url->tls() ? 443 : 80);
  out.set(bhttp::field::host, default_port ? url->host : url->host + ":" + std::to_string(url->port));
  out.set(bhttp::field::user_agent, impl_->options.user_agent);
  for (const auto& [name, value] : request.headers) out.set(name, value);
  out.body() = std::move(request.body);
  out.keep_alive(true);
  out.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    auto conn = impl_->take_idle(key);
    bool reused = conn != nullptr;
    if (!conn) conn = co_await impl_->connect(*url, deadline);
    conn->lowest().expires_at(deadline);
    // Two statements, not a conditional expression: g++ 12 miscompiles
    // co_await inside ?: (a use-after-free under ASan).
    Exchange result;
    auto limit = impl_->options.max_response_bytes;
    if (conn->tls) {
      result = co_await exchange_tls(*conn->tls, conn->buffer, out, limit);
    } else {
      result = co_await exchange_plain(*conn->plain, conn->buffer, out, limit);
    }
    if (!result.ec) {
      Response response;
      response.status = static_cast<int>(result.response->result_int());
      for (const auto& field : *result.response) {
        response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      response.body = std::move(result.response->body());
      if (result.response->keep_alive()) impl_->give_back(key, std::move(conn));
      co_return response;
    }
    const auto& ec = result.ec;
    // A pooled connection the server closed while idle fails at once with no
    // answer. Retrying is safe when nothing was sent, or the method is idempotent.
    bool stale = reused && !result.got_some && ec != beast::error::timeout &&
                 (!result.wrote || idempotent(request.method));
    if (stale && attempt == 0) continue;
    if (ec == bhttp::error::body_limit) {
      throw ClientError(ClientError::Kind::too_large, true, "response from " + url->host + " is too large");
    }
    auto kind = ec == beast::error::timeout ? ClientError::Kind::timeout
                : ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                          ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message
                    ? ClientError::Kind::protocol
                    : ClientError::Kind::io;
    throw ClientError(kind, result.wrote,
                      request.method + " " + url->host + ":" + std::to_string(url->port) + ": " +
                          (kind == ClientError::Kind::timeout ? std::string("timed out") : ec.message()));
  }
}

net::awaitable<Response> Client::get(std::string url, Headers headers) {
  ClientRequest request{"GET", std::move(url), std::move(headers), {}, {}};
  co_return co_await send(std::move(request));
}

net::awaitable<Response> Client::post_json(std::string url, nlohmann::json body, Headers headers) {
  headers.emplace_back("Content-Type", "application/json");
  ClientRequest request{"POST", std::move(url), std::move(headers), body.dump(), {}};
  co_return co_await send(std::move(request));
}

}  // namespace kiebot::http
