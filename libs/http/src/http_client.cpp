// Beast HTTP client: requests with redirects under a fetch policy, streamed
// downloads and uploads (the pool and TLS are in http_pool.cpp).
#include "kiebot/http/client.hpp"

#include "http_client_impl.hpp"
#include "http_exchange.hpp"
#include "kiebot/http/fetch_policy.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <optional>

namespace kiebot::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS";
}

// Connections made under a fetch policy were checked against that policy
// only: they are pooled apart.
std::string pool_key(const Url& url, const FetchPolicy* policy) {
  auto origin = origin_of(url);
  if (!policy) return origin;
  return "policy:" + std::to_string(reinterpret_cast<std::uintptr_t>(policy)) + "|" + origin;
}

bool redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Points `request` at a redirect's target (after `hops` redirects so far),
// as browsers do: 303, and 301/302 of a POST, become a GET; credentials are
// dropped when the origin changes. Throws past the policy's cap.
void follow_redirect(ClientRequest& request, int status, std::string_view location, const std::string& first_origin,
                     int hops) {
  if (hops >= request.policy->max_redirects) {
    throw ClientError(ClientError::Kind::refused, false,
                      "more than " + std::to_string(request.policy->max_redirects) + " redirects");
  }
  auto base = Url::parse(request.url);
  auto next = base ? resolve_reference(*base, location) : std::string();
  if (next.empty()) throw ClientError(ClientError::Kind::invalid_url, false, "redirect to an invalid URL");
  request.url = std::move(next);
  if (status == 303 || (status <= 302 && request.method == "POST")) {
    request.method = "GET";
    request.body.clear();
  }
  if (origin_of(request.url) != first_origin) {
    std::erase_if(request.headers, [](const std::pair<std::string, std::string>& h) {
      auto name = h.first;
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return name == "authorization" || name == "cookie";
    });
  }
}

ClientError::Kind kind_of(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return ClientError::Kind::timeout;
  bool parse_error = ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                     ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
  return parse_error ? ClientError::Kind::protocol : ClientError::Kind::io;
}

Response to_response(const bhttp::response_header<>& head) {
  Response out;
  out.status = static_cast<int>(head.result_int());
  for (const auto& field : head) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  return out;
}

BeastRequest beast_request(const ClientRequest& request, const Url& url, const std::string& user_agent) {
  BeastRequest out{bhttp::string_to_verb(request.method), url.target, 11};
  if (out.method() == bhttp::verb::unknown) out.method_string(request.method);
  bool default_port = url.port == (url.tls() ? 443 : 80);
  out.set(bhttp::field::host, default_port ? url.host : url.host + ":" + std::to_string(url.port));
  out.set(bhttp::field::user_agent, user_agent);
  for (const auto& [name, value] : request.headers) out.set(name, value);
  return out;
}

// The error to throw for an exchange that failed with `result.ec`.
ClientError exchange_error(const Exchange& result, const std::string& method, const Url& url) {
  const auto& ec = result.ec;
  if (ec == bhttp::error::body_limit) {
    return ClientError(ClientError::Kind::too_large, true, "response from " + url.host + " is too large");
  }
  auto kind = kind_of(ec);
  return ClientError(kind, result.wrote,
                     method + " " + url.host + ":" + std::to_string(url.port) + ": " +
                         (kind == ClientError::Kind::timeout ? std::string("timed out") : ec.message()));
}

}  // namespace

Client::Client(net::any_io_executor executor, ClientOptions options)
    : impl_(std::make_unique<Impl>(executor, std::move(options))) {}

Client::~Client() = default;

std::size_t Client::idle_connections() const {
  std::size_t n = 0;
  for (const auto& [key, list] : impl_->idle) n += list.size();
  return n;
}

net::awaitable<Response> Client::send(ClientRequest request) {
  if (!request.policy) co_return co_await send_once(std::move(request));
  auto first_origin = origin_of(request.url);
  for (int hop = 0;; ++hop) {
    auto response = co_await send_once(request);
    auto location = response.header("Location");
    if (!redirect(response.status) || !location) co_return response;
    follow_redirect(request, response.status, *location, first_origin, hop);
  }
}

net::awaitable<Response> Client::send_once(ClientRequest request) {
  auto url = Url::parse(request.url);
  if (!url) throw ClientError(ClientError::Kind::invalid_url, false, "invalid URL");
  auto timeout = request.timeout.count() > 0 ? request.timeout : impl_->options.timeout;
  auto deadline = Clock::now() + timeout;
  const auto* policy = request.policy.get();
  auto key = pool_key(*url, policy);
  auto out = beast_request(request, *url, impl_->options.user_agent);
  out.body() = std::move(request.body);
  out.keep_alive(true);
  out.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    auto conn = impl_->take_idle(key);
    bool reused = conn != nullptr;
    if (!conn) conn = co_await impl_->connect(*url, deadline, policy);
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
      auto response = to_response(*result.response);
      response.body = std::move(result.response->body());
      if (result.response->keep_alive()) impl_->give_back(key, std::move(conn));
      co_return response;
    }
    // A pooled connection the server closed while idle fails at once with no
    // answer. Retrying is safe when nothing was sent, or the method is idempotent.
    bool stale = reused && !result.got_some && result.ec != beast::error::timeout &&
                 (!result.wrote || idempotent(request.method));
    if (stale && attempt == 0) continue;
    throw exchange_error(result, request.method, *url);
  }
}

struct Download::State {
  std::unique_ptr<Connection> conn;
  StreamParser parser;
  std::chrono::milliseconds timeout{0};
  std::string host;
};

Download::Download(std::unique_ptr<State> state) : state_(std::move(state)) {}
Download::~Download() = default;

net::awaitable<std::size_t> Download::read(char* data, std::size_t size) {
  state_->conn->lowest().expires_after(state_->timeout);
  auto [ec, n] = co_await read_body(*state_->conn, state_->parser, data, size);
  if (ec) throw ClientError(kind_of(ec), true, "reading from " + state_->host + ": " + ec.message());
  co_return n;
}

net::awaitable<std::unique_ptr<Download>> Client::open(ClientRequest request) {
  auto first_origin = origin_of(request.url);
  for (int hop = 0;; ++hop) {
    auto url = Url::parse(request.url);
    if (!url) throw ClientError(ClientError::Kind::invalid_url, false, "invalid URL");
    auto timeout = request.timeout.count() > 0 ? request.timeout : impl_->options.timeout;
    auto state = std::make_unique<Download::State>();
    state->conn = co_await impl_->connect(*url, Clock::now() + timeout, request.policy.get());
    state->timeout = timeout;
    state->host = url->host;
    auto out = beast_request(request, *url, impl_->options.user_agent);
    out.body() = request.body;
    out.keep_alive(false);
    out.prepare_payload();
    state->conn->lowest().expires_after(timeout);
    auto wec = co_await write_request(*state->conn, out);
    if (wec) throw ClientError(kind_of(wec), true, request.method + " " + url->host + ": " + wec.message());
    state->parser.body_limit(boost::none);
    state->parser.header_limit(64 * 1024);
    state->conn->lowest().expires_after(timeout);
    auto hec = co_await read_head(*state->conn, state->parser);
    if (hec) throw ClientError(kind_of(hec), true, request.method + " " + url->host + ": " + hec.message());
    auto head = to_response(state->parser.get());
    auto location = head.header("Location");
    if (request.policy && redirect(head.status) && location) {
      follow_redirect(request, head.status, *location, first_origin, hop);
      continue;
    }
    auto length = state->parser.content_length();
    auto download = std::make_unique<Download>(std::move(state));
    download->status = head.status;
    download->headers = std::move(head.headers);
    if (length) download->content_length = *length;
    co_return download;
  }
}

net::awaitable<Response> Client::send_streamed(ClientRequest request, std::uint64_t length, BodySource* body) {
  auto url = Url::parse(request.url);
  if (!url) throw ClientError(ClientError::Kind::invalid_url, false, "invalid URL");
  auto timeout = request.timeout.count() > 0 ? request.timeout : impl_->options.timeout;
  auto conn = co_await impl_->connect(*url, Clock::now() + timeout, request.policy.get());
  auto full = beast_request(request, *url, impl_->options.user_agent);
  StreamHead head{full.method(), full.target(), 11};
  for (const auto& field : full) head.set(field.name_string(), field.value());
  head.content_length(length);
  head.keep_alive(false);
  auto where = request.method + " " + url->host + ":" + std::to_string(url->port) + ": ";
  conn->lowest().expires_after(timeout);
  auto ec = co_await write_head(*conn, head);
  if (ec) throw ClientError(kind_of(ec), false, where + ec.message());
  std::vector<char> chunk(64 * 1024);
  for (std::uint64_t left = length; left > 0;) {
    auto n = co_await body->read(chunk.data(), static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size())));
    if (n == 0) throw ClientError(ClientError::Kind::io, false, where + "the body ended before its length");
    conn->lowest().expires_after(timeout);
    ec = co_await write_bytes(*conn, chunk.data(), n);
    if (ec) throw ClientError(kind_of(ec), false, where + ec.message());
    left -= n;
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(impl_->options.max_response_bytes);
  parser.header_limit(64 * 1024);
  conn->lowest().expires_after(timeout);
  ec = co_await read_answer(*conn, parser);
  if (ec) throw ClientError(kind_of(ec), true, where + ec.message());
  auto response = to_response(parser.get());
  response.body = std::move(parser.get().body());
  co_return response;
}

net::awaitable<std::string> fetch_refusal(std::string url, std::shared_ptr<const FetchPolicy> policy,
                                          std::chrono::milliseconds timeout) {
  auto parsed = Url::parse(url);
  if (!parsed) co_return "not a valid http(s) URL";
  if (!policy || policy->allowed_origin(*parsed)) co_return std::string();
  auto executor = co_await net::this_coro::executor;
  tcp::resolver resolver(executor);
  net::steady_timer guard(executor, timeout);
  guard.async_wait([&resolver](boost::system::error_code ec) {
    if (!ec) resolver.cancel();
  });
  auto [ec, endpoints] = co_await resolver.async_resolve(parsed->host, std::to_string(parsed->port), use_tuple);
  guard.cancel();
  if (ec) co_return std::string();  // not refused: the fetch itself fails (and checks again)
  for (const auto& entry : endpoints) {
    auto why = policy->refusal(*parsed, entry.endpoint().address());
    if (!why.empty()) {
      co_return parsed->host + " resolves to a " + why + " address (" + entry.endpoint().address().to_string() + ")";
    }
  }
  co_return std::string();
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
