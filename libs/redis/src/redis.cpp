// hiredis async context driven by Asio: socket readiness via a
// posix::stream_descriptor, reconnect with backoff, per-command deadlines.
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <random>

#include "kiebot/base/log.hpp"
#include "kiebot/base/metrics.hpp"
#include "kiebot/redis/redis.hpp"
#include "kiebot/runtime/completion.hpp"

namespace kiebot::redis {

using Clock = std::chrono::steady_clock;

namespace {

// One hiredis context and the Asio objects that watch its socket. hiredis
// owns and frees the context (after its disconnect callback); `ctx` becomes
// null in the cleanup hook, and every handler checks it before use.
struct Connection {
  explicit Connection(net::any_io_executor ex) : socket(ex), connect_timer(ex) {}
  redisAsyncContext* ctx = nullptr;
  net::posix::stream_descriptor socket;
  net::steady_timer connect_timer;
  bool reading = false;
  bool writing = false;
  bool connected = false;
};

// A command's reply, or nullopt when the connection was lost first.
using ReplyCompletion = Completion<std::optional<Reply>>;

Reply convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = Reply::Type::nil;
      break;
  }
  return out;
}

// hiredis calls every command's callback once: with the reply, or with
// none when the context is freed first.
void on_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto completion = ReplyCompletion::from_opaque(privdata);
  if (completion.abandoned()) return;  // timed out or cancelled: nobody reads it
  std::optional<Reply> out;
  if (reply != nullptr) out = convert(static_cast<redisReply*>(reply));
  completion.complete(std::move(out));
}

}  // namespace

struct Client::Impl : std::enable_shared_from_this<Impl> {
  Impl(net::any_io_executor ex, Options opt, Endpoint ep)
      : executor(ex),
        options(std::move(opt)),
        endpoint(std::move(ep)),
        reconnect_timer(ex),
        resolver(ex),
        backoff(options.reconnect_min) {
    metrics::Labels labels{{"client", options.name}};
    auto& reg = metrics::registry();
    connected_gauge = &reg.gauge("redis_connected", "1 while connected to Redis", labels);
    reconnects = &reg.counter("redis_reconnects_total", "Redis connection attempts after a loss", labels);
    timeouts = &reg.counter("redis_command_timeouts_total", "Redis commands that hit their deadline", labels);
  }

  net::any_io_executor executor;
  Options options;
  Endpoint endpoint;
  net::steady_timer reconnect_timer;
  net::ip::tcp::resolver resolver;
  std::shared_ptr<Connection> conn;
  std::chrono::milliseconds backoff;
  bool stopping = false;
  std::mt19937 rng{std::random_device{}()};
  metrics::Gauge* connected_gauge;
  metrics::Counter* reconnects;
  metrics::Counter* timeouts;

  static Impl* of(const redisAsyncContext* ctx) { return static_cast<Impl*>(ctx->data); }

  void connect() {
    if (stopping) return;
    resolver.async_resolve(
        endpoint.host, std::to_string(endpoint.port),
        [self = shared_from_this()](boost::system::error_code ec, net::ip::tcp::resolver::results_type results) {
          if (self->stopping) return;
          if (ec || results.empty()) {
            log::warn("redis_resolve_failed", {{"host", self->endpoint.host}, {"error", ec.message()}});
            self->schedule_reconnect();
            return;
          }
          auto ep = results.begin()->endpoint();
          self->connect_to(ep.address().to_string(), ep.port());
        });
  }

  void connect_to(const std::string& ip, std::uint16_t port) {
    redisAsyncContext* ctx = redisAsyncConnect(ip.c_str(), port);
    if (ctx == nullptr || ctx->err != 0) {
      log::warn("redis_connect_failed", {{"client", options.name}, {"error", ctx ? ctx->errstr : "out of memory"}});
      if (ctx != nullptr) redisAsyncFree(ctx);  // never attached: ours to free
      schedule_reconnect();
      return;
    }
    auto c = std::make_shared<Connection>(executor);
    c->ctx = ctx;
    conn = c;
    ctx->data = this;
    c->socket.assign(ctx->c.fd);
    ctx->ev.data = new std::weak_ptr<Connection>(c);
    ctx->ev.addRead = &Impl::add_read;
    ctx->ev.delRead = &Impl::del_read;
    ctx->ev.addWrite = &Impl::add_write;
    ctx->ev.delWrite = &Impl::del_write;
    ctx->ev.cleanup = &Impl::cleanup;
    redisAsyncSetConnectCallback(ctx, &Impl::on_connect);
    redisAsyncSetDisconnectCallback(ctx, &Impl::on_disconnect);
    add_write(ctx->ev.data);  // connect completion shows as writability
    c->connect_timer.expires_after(options.connect_timeout);
    c->connect_timer.async_wait([self = shared_from_this(), c](boost::system::error_code ec) {
      if (ec || c->ctx == nullptr || c->connected) return;
      log::warn("redis_connect_timeout", {{"client", self->options.name}});
      redisAsyncContext* stuck = c->ctx;
      redisAsyncFree(stuck);  // not connected yet: no disconnect callback will free it
      self->schedule_reconnect();
    });
  }

  void schedule_reconnect() {
    if (stopping) return;
    std::uniform_int_distribution<long> jitter(0, backoff.count() / 2);
    auto delay = backoff + std::chrono::milliseconds(jitter(rng));
    backoff = std::min(backoff * 2, options.reconnect_max);
    reconnects->inc();
    reconnect_timer.expires_after(delay);
    reconnect_timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->connect();
    });
  }

  static std::shared_ptr<Connection> lock(void* data) { return static_cast<std::weak_ptr<Connection>*>(data)->lock(); }

  static void wait_read(std::shared_ptr<Connection> c) {
    c->socket.async_wait(net::posix::stream_descriptor::wait_read, [c](boost::system::error_code ec) {
      if (ec || c->ctx == nullptr || !c->reading) return;
      redisAsyncHandleRead(c->ctx);  // may free the context (see cleanup)
      if (c->ctx != nullptr && c->reading) wait_read(c);
    });
  }

  static void wait_write(std::shared_ptr<Connection> c) {
    c->socket.async_wait(net::posix::stream_descriptor::wait_write, [c](boost::system::error_code ec) {
      if (ec || c->ctx == nullptr || !c->writing) return;
      redisAsyncHandleWrite(c->ctx);
      if (c->ctx != nullptr && c->writing) wait_write(c);
    });
  }

  // hiredis calls these hooks with ctx->ev.data; each wait re-arms itself
  // while the flag is set, so a hook only has to start the first one.
  static void add_read(void* data) {
    auto c = lock(data);
    if (!c || c->reading) return;
    c->reading = true;
    wait_read(c);
  }
  static void del_read(void* data) {
    if (auto c = lock(data)) c->reading = false;
  }
  static void add_write(void* data) {
    auto c = lock(data);
    if (!c || c->writing) return;
    c->writing = true;
    wait_write(c);
  }
  static void del_write(void* data) {
    if (auto c = lock(data)) c->writing = false;
  }
  static void cleanup(void* data) {
    auto* weak = static_cast<std::weak_ptr<Connection>*>(data);
    if (auto c = weak->lock()) {
      c->ctx = nullptr;
      c->reading = c->writing = false;
      c->connect_timer.cancel();
      c->socket.release();  // hiredis closes the descriptor itself
    }
    delete weak;
  }

  static void on_connect(const redisAsyncContext* ctx, int status) {
    auto* self = of(ctx);
    if (status != REDIS_OK) {
      log::warn("redis_connect_failed", {{"client", self->options.name}, {"error", ctx->errstr}});
      self->schedule_reconnect();  // hiredis frees the context after this callback
      return;
    }
    auto c = self->conn;
    c->connected = true;
    c->connect_timer.cancel();
    self->backoff = self->options.reconnect_min;
    self->connected_gauge->set(1);
    log::info("redis_connected",
              {{"client", self->options.name}, {"host", self->endpoint.host}, {"port", self->endpoint.port}});
    // Pipelined ahead of every user command on this connection.
    auto* mutable_ctx = const_cast<redisAsyncContext*>(ctx);
    if (!self->endpoint.password.empty()) {
      if (self->endpoint.username.empty()) {
        redisAsyncCommand(mutable_ctx, &Impl::on_setup_reply, nullptr, "AUTH %s", self->endpoint.password.c_str());
      } else {
        redisAsyncCommand(mutable_ctx, &Impl::on_setup_reply, nullptr, "AUTH %s %s", self->endpoint.username.c_str(),
                          self->endpoint.password.c_str());
      }
    }
    if (self->endpoint.db != 0) {
      redisAsyncCommand(mutable_ctx, &Impl::on_setup_reply, nullptr, "SELECT %d", self->endpoint.db);
    }
  }

  static void on_setup_reply(redisAsyncContext* ctx, void* reply, void*) {
    auto* r = static_cast<redisReply*>(reply);
    if (r != nullptr && r->type == REDIS_REPLY_ERROR) {
      log::error("redis_setup_failed", {{"client", of(ctx)->options.name}, {"error", std::string(r->str, r->len)}});
    }
  }

  static void on_disconnect(const redisAsyncContext* ctx, int status) {
    auto* self = of(ctx);
    if (self->conn) self->conn->connected = false;
    self->connected_gauge->set(0);
    if (self->stopping) return;
    log::warn("redis_disconnected",
              {{"client", self->options.name}, {"error", status == REDIS_OK ? "closed" : ctx->errstr}});
    self->schedule_reconnect();
  }
};

Client::Client(net::any_io_executor executor, Options options) {
  auto endpoint = parse_url(options.url);
  if (!endpoint) throw Error(Error::Kind::invalid_url, "REDIS_URL is not a redis://[:password@]host:port/db URL");
  impl_ = std::make_shared<Impl>(executor, std::move(options), std::move(*endpoint));
}

Client::~Client() {
  impl_->stopping = true;
  impl_->reconnect_timer.cancel();
  if (impl_->conn && impl_->conn->ctx != nullptr) {
    // Frees the context now: pending commands get their callbacks with no reply.
    redisAsyncFree(impl_->conn->ctx);
  }
}

void Client::start() {
  impl_->stopping = false;
  impl_->connect();
}

void Client::stop() {
  impl_->stopping = true;
  impl_->reconnect_timer.cancel();
  impl_->resolver.cancel();
  if (impl_->conn && impl_->conn->ctx != nullptr) {
    if (impl_->conn->connected) {
      redisAsyncDisconnect(impl_->conn->ctx);
    } else {
      redisAsyncFree(impl_->conn->ctx);
    }
  }
}

bool Client::connected() const {
  return impl_->conn && impl_->conn->connected && impl_->conn->ctx != nullptr;
}

net::awaitable<bool> Client::wait_connected(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  net::steady_timer tick(impl_->executor);
  while (!connected() && Clock::now() < deadline) {
    tick.expires_after(std::chrono::milliseconds(10));
    co_await tick.async_wait(net::use_awaitable);
  }
  co_return connected();
}

net::awaitable<Reply> Client::exec(std::vector<std::string> args) {
  co_return co_await exec(std::move(args), impl_->options.command_timeout);
}

net::awaitable<Reply> Client::exec(std::vector<std::string> args, std::chrono::milliseconds timeout) {
  auto impl = impl_;
  if (!connected()) throw Error(Error::Kind::unavailable, "redis " + impl->options.name + " is not connected");
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  ReplyCompletion completion;
  void* opaque = completion.into_opaque();
  if (redisAsyncCommandArgv(impl->conn->ctx, &on_reply, opaque, static_cast<int>(argv.size()), argv.data(),
                            lengths.data()) != REDIS_OK) {
    ReplyCompletion::from_opaque(opaque);  // refused: hiredis will not call back
    throw Error(Error::Kind::unavailable, "redis " + impl->options.name + " refused the command");
  }
  // Throws operation_aborted when this coroutine is cancelled.
  auto answer = co_await completion.wait_for(timeout);
  if (!answer) {
    impl->timeouts->inc();
    throw Error(Error::Kind::timeout, "redis " + impl->options.name + " command timed out");
  }
  auto& reply = *answer;
  if (!reply) throw Error(Error::Kind::unavailable, "redis " + impl->options.name + " connection lost");
  co_return std::move(*reply);
}

net::awaitable<Reply> Client::eval(const Script& script, std::vector<std::string> keys, std::vector<std::string> args) {
  std::vector<std::string> command;
  command.reserve(3 + keys.size() + args.size());
  command.push_back("EVALSHA");
  command.push_back(script.sha1());
  command.push_back(std::to_string(keys.size()));
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  auto reply = co_await exec(command);
  if (reply.is_error() && reply.str.starts_with("NOSCRIPT")) {
    command[0] = "EVAL";  // also caches the script for the next EVALSHA
    command[1] = script.source();
    reply = co_await exec(std::move(command));
  }
  co_return reply;
}

}  // namespace kiebot::redis
