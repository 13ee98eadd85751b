// Idempotent producer: each send completes on its delivery report.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <map>

#include "kafka_config.hpp"
#include "kafka_wakeup.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/base/metrics.hpp"
#include "kiebot/runtime/completion.hpp"

namespace kiebot::kafka {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

// One awaited send or batch: delivery reports count down `pending`, and the
// last one completes `done` with the first error (or none). `refs` counts
// the coroutine and every enqueued message, so that whichever lets go last
// frees it, even when the coroutine is cancelled before its reports arrive.
struct Delivery {
  Completion<rd_kafka_resp_err_t> done;
  std::size_t pending = 0;
  std::size_t refs = 1;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::string error_text;
  // librdkafka reads keys and values from here until each report arrives
  // (no RD_KAFKA_MSG_F_COPY: one copy less per message).
  std::vector<OutMessage> messages;

  void release() {
    if (--refs == 0) delete this;
  }
};

struct DeliveryRef {
  Delivery* d;
  explicit DeliveryRef(Delivery* delivery) : d(delivery) {}
  DeliveryRef(const DeliveryRef&) = delete;
  DeliveryRef& operator=(const DeliveryRef&) = delete;
  ~DeliveryRef() { d->release(); }
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
        // Broker states for brokers_up(): an outage is reported as an
        // error, a recovery only here (or by the next delivery).
        {"statistics.interval.ms", "5000"},
    };
    auto conf = make_conf(options.name, defaults, options.properties);
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &Impl::on_delivery);
    rd_kafka_conf_set_error_cb(conf.get(), &Impl::on_error);
    rd_kafka_conf_set_stats_cb(conf.get(), &Impl::on_stats);
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
    topics.clear();
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
    auto& d = *static_cast<Delivery*>(m->_private);
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
    if (--d.pending == 0) d.done.complete(d.error);
    d.release();
  }

  // {"brokers":{"host:port/id":{"nodeid":1,"state":"UP",...},...},...}
  static int on_stats(rd_kafka_t*, char* json, size_t json_len, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    auto stats = nlohmann::json::parse(std::string_view(json, json_len), nullptr, false);
    if (stats.is_object() && stats.contains("brokers") && stats["brokers"].is_object()) {
      bool up = false;
      for (const auto& [name, broker] : stats["brokers"].items()) {
        if (broker.value("nodeid", -1) >= 0 && broker.value("state", "") == "UP") up = true;
      }
      self->brokers_up = up;
    }
    return 0;  // librdkafka frees the JSON
  }

  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) self->brokers_up = false;
    char fatal[256] = "";
    bool is_fatal =
        err == RD_KAFKA_RESP_ERR__FATAL && rd_kafka_fatal_error(rk, fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR;
    log::write(is_fatal ? log::Level::error : log::Level::warn, "kafka_error",
               {{"client", self->options.name},
                {"code", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))},
                {"reason", is_fatal ? fatal : reason}});
  }

  // Topic handles are cached: naming the topic per message (RD_KAFKA_V_TOPIC)
  // looks it up under librdkafka's locks every time, measured at a third of
  // the throughput of a cached handle (bench/run.sh).
  rd_kafka_topic_t* topic(const std::string& name) {
    auto it = topics.find(name);
    if (it == topics.end()) {
      TopicHandle rkt(rd_kafka_topic_new(handle.get(), name.c_str(), nullptr));
      if (!rkt) {
        auto err = rd_kafka_last_error();
        throw Error(err, "kafka " + options.name + ": topic " + name + ": " + rd_kafka_err2str(err));
      }
      it = topics.emplace(name, std::move(rkt)).first;
    }
    return it->second.get();
  }

  // Hands one message of `d.messages` to librdkafka; its delivery report
  // releases the reference on `d` that keeps the message's bytes alive.
  rd_kafka_resp_err_t try_enqueue(const OutMessage& m, Delivery& d) {
    rd_kafka_headers_t* headers = nullptr;
    if (!m.headers.empty()) {
      headers = rd_kafka_headers_new(m.headers.size());
      for (const auto& h : m.headers) {
        rd_kafka_header_add(headers, h.key.data(), static_cast<ssize_t>(h.key.size()), h.value.data(),
                            static_cast<ssize_t>(h.value.size()));
      }
    }
    auto err = rd_kafka_producev(
        handle.get(), RD_KAFKA_V_RKT(topic(m.topic)), RD_KAFKA_V_KEY(const_cast<char*>(m.key.data()), m.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(m.value.data()), m.value.size()), RD_KAFKA_V_MSGFLAGS(0),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_TIMESTAMP(m.timestamp_ms), RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {  // the headers now belong to the message
      ++d.refs;
      ++d.pending;
    } else if (headers != nullptr) {
      rd_kafka_headers_destroy(headers);
    }
    return err;
  }

  net::any_io_executor executor;
  ProducerOptions options;
  KafkaHandle handle;
  QueueHandle main_queue;
  std::unique_ptr<QueueWakeup> wakeup;
  std::map<std::string, TopicHandle> topics;
  bool brokers_up = true;
  metrics::Counter* delivered;
  metrics::Counter* failed;
};

Producer::Producer(net::any_io_executor executor, ProducerOptions options)
    : impl_(std::make_shared<Impl>(executor, std::move(options))) {}

Producer::~Producer() = default;

bool Producer::brokers_up() const {
  return impl_->brokers_up;
}

net::awaitable<void> Producer::send(std::string topic, std::string key, std::string value, Headers headers) {
  std::vector<OutMessage> one;
  one.push_back(OutMessage{std::move(topic), std::move(key), std::move(value), std::move(headers)});
  co_await send_batch(std::move(one));
}

net::awaitable<void> Producer::send_batch(std::vector<OutMessage> messages) {
  auto impl = impl_;
  if (messages.empty()) co_return;
  DeliveryRef ref(new Delivery);
  auto& d = *ref.d;
  d.messages = std::move(messages);
  // One extra count until every message is enqueued, so that an early report
  // cannot reach zero first.
  d.pending = 1;
  for (const auto& m : d.messages) {
    for (;;) {
      auto err = impl->try_enqueue(m, d);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        throw Error(err, "kafka " + impl->options.name + ": produce to " + m.topic + ": " + rd_kafka_err2str(err));
      }
      // The local queue is full: let delivery reports drain it.
      impl->serve();
      net::steady_timer pause(impl->executor, std::chrono::milliseconds(2));
      co_await pause.async_wait(use_tuple);
    }
  }
  if (--d.pending == 0) d.done.complete(d.error);
  // Throws operation_aborted when this coroutine is cancelled first.
  auto error = co_await d.done.wait();
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw Error(error, "kafka " + impl->options.name + ": delivery failed: " + d.error_text);
  }
}

}  // namespace kiebot::kafka
