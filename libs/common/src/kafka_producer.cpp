// Idempotent producer: each send completes on its delivery report.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "kafka_config.hpp"
#include "kafka_wakeup.hpp"
#include "kiebot/common/log.hpp"
#include "kiebot/common/metrics.hpp"

namespace kiebot::kafka {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

// One awaited send or batch: the coroutine sleeps on `timer`; delivery
// reports count down `remaining` and cancel the timer at zero.
struct Delivery {
  explicit Delivery(net::any_io_executor ex) : timer(ex) { timer.expires_at(net::steady_timer::time_point::max()); }
  net::steady_timer timer;
  std::size_t remaining = 0;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::string error_text;
};

}  // namespace

struct Producer::Impl {
  Impl(net::any_io_executor ex, ProducerOptions opt) : executor(ex), options(std::move(opt)) {
    Properties defaults{
        {"bootstrap.servers", options.brokers},
        {"client.id", options.name},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "5"},
        {"message.timeout.ms", std::to_string(options.delivery_timeout.count())},
    };
    auto conf = make_conf(options.name, defaults, options.properties);
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &Impl::on_delivery);
    rd_kafka_conf_set_error_cb(conf.get(), &Impl::on_error);
    handle = make_handle(RD_KAFKA_PRODUCER, std::move(conf), options.name);
    main_queue.reset(rd_kafka_queue_get_main(handle.get()));
    wakeup = std::make_unique<QueueWakeup>(executor, main_queue.get());
    wakeup->watch([this] { serve(); });
    metrics::Labels labels{{"client", options.name}};
    auto& reg = metrics::registry();
    delivered = &reg.counter("kafka_produced_total", "Messages acknowledged by Kafka", labels);
    failed = &reg.counter("kafka_produce_failed_total", "Messages Kafka did not acknowledge in time", labels);
  }

  ~Impl() {
    rd_kafka_flush(handle.get(), 5000);
    serve();
    wakeup.reset();
    main_queue.reset();
    handle.reset();
  }

  void serve() {
    while (rd_kafka_poll(handle.get(), 0) > 0) {
    }
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    std::unique_ptr<std::shared_ptr<Delivery>> holder(static_cast<std::shared_ptr<Delivery>*>(m->_private));
    auto& d = **holder;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      self->failed->inc();
      if (d.error == RD_KAFKA_RESP_ERR_NO_ERROR) {
        d.error = m->err;
        d.error_text = rd_kafka_err2str(m->err);
      }
    } else {
      self->delivered->inc();
      self->brokers_up = true;
    }
    if (--d.remaining == 0) d.timer.cancel();
  }

  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) self->brokers_up = false;
    char fatal[256] = "";
    bool is_fatal = err == RD_KAFKA_RESP_ERR__FATAL &&
                    rd_kafka_fatal_error(rk, fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR;
    log::write(is_fatal ? log::Level::error : log::Level::warn, "kafka_error",
               {{"client", self->options.name}, {"code", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))},
                {"reason", is_fatal ? fatal : reason}});
  }

  // Enqueues one message; waits briefly and retries while the local queue is full.
  net::awaitable<void> enqueue(const OutMessage& m, std::shared_ptr<Delivery> delivery) {
    for (;;) {
      rd_kafka_headers_t* headers = nullptr;
      if (!m.headers.empty()) {
        headers = rd_kafka_headers_new(m.headers.size());
        for (const auto& h : m.headers) {
          rd_kafka_header_add(headers, h.key.data(), static_cast<ssize_t>(h.key.size()), h.value.data(),
                              static_cast<ssize_t>(h.value.size()));
        }
      }
      auto* holder = new std::shared_ptr<Delivery>(delivery);
      auto err = rd_kafka_producev(
          handle.get(), RD_KAFKA_V_TOPIC(m.topic.c_str()),
          RD_KAFKA_V_KEY(const_cast<char*>(m.key.data()), m.key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(m.value.data()), m.value.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(holder),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) co_return;  // headers now belong to the message
      delete holder;
      if (headers != nullptr) rd_kafka_headers_destroy(headers);
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        throw Error(err, "kafka " + options.name + ": produce to " + m.topic + ": " + rd_kafka_err2str(err));
      }
      serve();
      net::steady_timer pause(executor, std::chrono::milliseconds(2));
      co_await pause.async_wait(use_tuple);
    }
  }

  net::any_io_executor executor;
  ProducerOptions options;
  KafkaHandle handle;
  QueueHandle main_queue;
  std::unique_ptr<QueueWakeup> wakeup;
  bool brokers_up = true;
  metrics::Counter* delivered;
  metrics::Counter* failed;
};

Producer::Producer(net::any_io_executor executor, ProducerOptions options)
    : impl_(std::make_shared<Impl>(executor, std::move(options))) {}

Producer::~Producer() = default;

bool Producer::brokers_up() const { return impl_->brokers_up; }

net::awaitable<void> Producer::send(std::string topic, std::string key, std::string value, Headers headers) {
  std::vector<OutMessage> one;
  one.push_back(OutMessage{std::move(topic), std::move(key), std::move(value), std::move(headers)});
  co_await send_batch(std::move(one));
}

net::awaitable<void> Producer::send_batch(std::vector<OutMessage> messages) {
  auto impl = impl_;
  if (messages.empty()) co_return;
  auto delivery = std::make_shared<Delivery>(impl->executor);
  // Count every message up front so that an early report cannot reach zero.
  delivery->remaining = messages.size() + 1;
  for (const auto& m : messages) co_await impl->enqueue(m, delivery);
  if (--delivery->remaining > 0) co_await delivery->timer.async_wait(use_tuple);
  if (delivery->remaining > 0) throw boost::system::system_error(net::error::operation_aborted);
  if (delivery->error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw Error(delivery->error, "kafka " + impl->options.name + ": delivery failed: " + delivery->error_text);
  }
}

}  // namespace kiebot::kafka
