// Beast HTTP server: accept loop, per-connection sessions, graceful drain.
#include "kiebot/http/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

#include <list>
#include <optional>
#include <vector>

#include "kiebot/base/errors.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/base/metrics.hpp"
#include "kiebot/http/parse.hpp"
#include "kiebot/runtime/task_group.hpp"

namespace kiebot::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

struct Session {
  beast::tcp_stream* stream = nullptr;
  bool idle = true;
};

struct Server::State {
  State(net::any_io_executor ex, Router r, ServerOptions o)
      : executor(ex),
        router(std::move(r)),
        options(std::move(o)),
        acceptor(ex),
        drained(ex),
        session_tasks(ex, options.name + "_sessions") {}

  net::any_io_executor executor;
  Router router;
  ServerOptions options;
  tcp::acceptor acceptor;
  std::list<Session> sessions;
  bool stopping = false;
  net::steady_timer drained;  // cancelled when the last session ends during drain
  TaskGroup session_tasks;    // one child per connection; joined when run() ends
  metrics::Gauge* open_connections = nullptr;
  metrics::Histogram* latency = nullptr;
  metrics::Counter* responses[6] = {};
};

namespace {

Request to_request_head(const bhttp::request_header<>& in) {
  Request out;
  out.method = std::string(in.method_string());
  out.target = std::string(in.target());
  out.headers.reserve(8);
  for (const auto& field : in) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return out;
}

Request to_request(bhttp::request<bhttp::string_body>&& in) {
  auto out = to_request_head(in);
  out.body = std::move(in.body());
  return out;
}

bhttp::response<bhttp::string_body> to_beast(Response&& in, unsigned version, bool keep_alive, bool head) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(in.status), version};
  for (auto& [name, value] : in.headers) out.insert(name, value);
  out.keep_alive(keep_alive);
  out.body() = std::move(in.body);
  out.prepare_payload();
  if (head) out.body().clear();
  return out;
}

net::awaitable<void> write_and_close(beast::tcp_stream& stream, Response response) {
  auto out = to_beast(std::move(response), 11, false, false);
  co_await bhttp::async_write(stream, out, use_tuple);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

// A response whose body comes from a BodySource: the head, then the body
// piece by piece, never whole in memory. False when the connection is unusable.
net::awaitable<bool> write_streamed(beast::tcp_stream& stream, Response response, unsigned version, bool keep_alive,
                                    bool head, std::chrono::milliseconds timeout) {
  bhttp::response<bhttp::empty_body> out{static_cast<bhttp::status>(response.status), version};
  for (auto& [name, value] : response.headers) out.insert(name, value);
  out.keep_alive(keep_alive);
  out.content_length(response.body_stream_length);
  bhttp::response_serializer<bhttp::empty_body> serializer(out);
  stream.expires_after(timeout);
  auto [hec, hn] = co_await bhttp::async_write_header(stream, serializer, use_tuple);
  if (hec) co_return false;
  if (head) co_return true;
  std::vector<char> chunk(64 * 1024);
  std::uint64_t left = response.body_stream_length;
  while (left > 0) {
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
    std::size_t got = 0;
    try {
      got = co_await response.body_stream->read(chunk.data(), want);
    } catch (...) {
      report_error("http_stream_source_failed", std::current_exception());
    }
    if (got == 0) co_return false;  // shorter than announced: the peer must see a cut
    stream.expires_after(timeout);
    auto [wec, wn] = co_await net::async_write(stream, net::buffer(chunk.data(), got), use_tuple);
    if (wec) co_return false;
    left -= got;
  }
  co_return true;
}

// A response, streamed or whole; false when the connection is unusable.
net::awaitable<bool> write_response(beast::tcp_stream& stream, Response response, unsigned version, bool keep_alive,
                                    bool head, std::chrono::milliseconds timeout) {
  if (response.body_stream) {
    bool written = co_await write_streamed(stream, std::move(response), version, keep_alive, head, timeout);
    co_return written;
  }
  auto out = to_beast(std::move(response), version, keep_alive, head);
  stream.expires_after(timeout);
  auto [wec, wn] = co_await bhttp::async_write(stream, out, use_tuple);
  co_return !wec;
}

// The answer to a request that could not be read: a malformed or oversized
// request gets one; EOF, timeouts, resets and drain cancellation none.
std::optional<Response> answer_read_error(const beast::error_code& ec, const ServerOptions& opt) {
  bool parse_error = ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                     ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
  if (!parse_error) return std::nullopt;
  return request_refusal(ec, RequestLimits{opt.body_limit, opt.header_limit, opt.body_limit_status});
}

void count_response(Server::State& st, int status) {
  st.responses[std::clamp(status / 100, 1, 5)]->inc();
}

// A request body read through Request::body_stream, piece by piece.
class StreamedBody final : public BodySource {
 public:
  StreamedBody(beast::tcp_stream& stream, beast::flat_buffer& buffer, bhttp::request_parser<bhttp::buffer_body>& parser,
               std::chrono::milliseconds timeout)
      : stream_(stream), buffer_(buffer), parser_(parser), timeout_(timeout) {}

  net::awaitable<std::size_t> read(char* data, std::size_t size) override {
    if (parser_.is_done() || size == 0) co_return 0;
    auto& body = parser_.get().body();
    body.data = data;
    body.size = size;
    body.more = true;
    stream_.expires_after(timeout_);
    auto [ec, n] = co_await bhttp::async_read(stream_, buffer_, parser_, use_tuple);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) throw std::runtime_error("request body: " + ec.message());
    co_return size - body.size;
  }
  bool done() const { return parser_.is_done(); }

 private:
  beast::tcp_stream& stream_;
  beast::flat_buffer& buffer_;
  bhttp::request_parser<bhttp::buffer_body>& parser_;
  std::chrono::milliseconds timeout_;
};

enum class Streamed { no, keep, close };

// A request whose route streams its body (ServerOptions::stream_body):
// handled while its body is still arriving.
net::awaitable<Streamed> serve_streamed(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                        bhttp::request_parser<bhttp::string_body>& parser,
                                        std::shared_ptr<Server::State> st) {
  const auto& opt = st->options;
  const auto& in = parser.get();
  Request request;
  request.method = std::string(in.method_string());
  request.target = std::string(in.target());
  for (const auto& field : in)
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  if (!opt.stream_body(request)) co_return Streamed::no;
  // Guards apply before a streamed body is read, as before a buffered one.
  if (auto refused = st->router.admit(request)) {
    count_response(*st, refused->status);
    co_await write_and_close(stream, std::move(*refused));
    co_return Streamed::close;
  }
  auto started = std::chrono::steady_clock::now();
  bool keep_alive = in.keep_alive();
  bool head = in.method() == bhttp::verb::head;
  unsigned version = in.version();
  bhttp::request_parser<bhttp::buffer_body> body_parser(std::move(parser));
  body_parser.body_limit(boost::none);
  StreamedBody body(stream, buffer, body_parser, opt.request_timeout);
  request.body_stream = &body;
  auto response = co_await dispatch(st->router, std::move(request));
  count_response(*st, response.status);
  // A body the handler left unread would be taken for the next request.
  keep_alive = keep_alive && body.done() && !st->stopping;
  bool written = co_await write_response(stream, std::move(response), version, keep_alive, head, opt.request_timeout);
  st->latency->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  co_return written&& keep_alive ? Streamed::keep : Streamed::close;
}

net::awaitable<void> run_session(beast::tcp_stream stream, std::shared_ptr<Server::State> st) {
  auto self = st->sessions.insert(st->sessions.end(), Session{&stream, true});
  st->open_connections->add(1);
  const auto& opt = st->options;
  beast::flat_buffer buffer;
  while (!st->stopping) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(opt.body_limit);
    parser.header_limit(opt.header_limit);
    self->idle = buffer.size() == 0;
    stream.expires_after(opt.idle_timeout);
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
    self->idle = false;
    if (!ec && !parser.is_done() && opt.stream_body) {
      auto streamed = co_await serve_streamed(stream, buffer, parser, st);
      if (streamed == Streamed::close) break;
      if (streamed == Streamed::keep) continue;
    }
    if (!ec && !parser.is_done()) {
      // A guarded route refuses on the headers alone: the body is never read.
      auto head = to_request_head(parser.get());
      if (auto refused = st->router.admit(head)) {
        count_response(*st, refused->status);
        co_await write_and_close(stream, std::move(*refused));
        break;
      }
      stream.expires_after(opt.request_timeout);
      std::tie(ec, n) = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
    }
    if (ec) {
      if (auto refusal = answer_read_error(ec, opt)) co_await write_and_close(stream, std::move(*refusal));
      break;  // EOF, timeout, reset or cancelled by drain
    }
    auto started = std::chrono::steady_clock::now();
    auto message = parser.release();
    bool keep_alive = message.keep_alive() && !st->stopping;
    bool head = message.method() == bhttp::verb::head;
    unsigned version = message.version();
    auto response = co_await dispatch(st->router, to_request(std::move(message)));
    count_response(*st, response.status);
    keep_alive = keep_alive && !st->stopping;
    bool written = co_await write_response(stream, std::move(response), version, keep_alive, head, opt.request_timeout);
    st->latency->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (!written || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
  st->sessions.erase(self);
  st->open_connections->add(-1);
  if (st->stopping && st->sessions.empty()) st->drained.cancel();
}

}  // namespace

Server::Server(net::any_io_executor executor, Router router, ServerOptions options)
    : state_(std::make_shared<State>(executor, std::move(router), std::move(options))) {
  auto& reg = metrics::registry();
  metrics::Labels server{{"server", state_->options.name}};
  state_->open_connections = &reg.gauge("http_server_open_connections", "Open HTTP connections", server);
  state_->latency = &reg.histogram("http_server_request_duration_seconds",
                                   "Time from a complete request to its written response", server);
  for (int c = 1; c <= 5; ++c) {
    state_->responses[c] = &reg.counter("http_server_responses_total", "HTTP responses by status class",
                                        {{"server", state_->options.name}, {"code", std::to_string(c) + "xx"}});
  }
}

Server::~Server() = default;

std::uint16_t Server::bind() {
  auto& a = state_->acceptor;
  tcp::endpoint endpoint(net::ip::make_address(state_->options.address), state_->options.port);
  a.open(endpoint.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(endpoint);
  a.listen(net::socket_base::max_listen_connections);
  auto bound = a.local_endpoint().port();
  log::info("listening", {{"port", bound}, {"server", state_->options.name}});
  return bound;
}

std::uint16_t Server::port() const {
  return state_->acceptor.local_endpoint().port();
}

net::awaitable<void> Server::run() {
  auto st = state_;
  if (!st->acceptor.is_open()) bind();
  while (true) {
    auto [ec, socket] = co_await st->acceptor.async_accept(use_tuple);
    if (ec == net::error::operation_aborted || !st->acceptor.is_open()) break;
    if (ec) {
      // EMFILE and friends: back off briefly instead of spinning.
      log::warn("http_accept_failed", {{"error", ec.message()}, {"server", st->options.name}});
      net::steady_timer pause(st->executor, std::chrono::milliseconds(50));
      auto [pec] = co_await pause.async_wait(use_tuple);
      if (pec) break;
      continue;
    }
    if (st->sessions.size() >= st->options.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    socket.set_option(tcp::no_delay(true));
    st->session_tasks.spawn(run_session(beast::tcp_stream(std::move(socket)), st));
  }

  // Drain: we were cancelled; wait for in-flight requests with a fresh state.
  co_await net::this_coro::reset_cancellation_state();
  st->stopping = true;
  beast::error_code ignored;
  st->acceptor.close(ignored);
  for (auto& s : st->sessions) {
    // A request already in the socket buffer is served, not dropped.
    beast::error_code avail_ec;
    if (s.idle && s.stream->socket().available(avail_ec) == 0) s.stream->cancel();
  }
  if (!st->sessions.empty()) {
    log::info("http_draining", {{"server", st->options.name}, {"connections", st->sessions.size()}});
    st->drained.expires_after(st->options.drain_timeout);
    co_await st->drained.async_wait(use_tuple);
    for (auto& s : st->sessions) s.stream->cancel();
  }
  // Sessions cancelled above end at their next step; none outlives run().
  co_await st->session_tasks.join(std::chrono::seconds(1));
}

}  // namespace kiebot::http
