// Consumer-group consumer: auto-commit off, explicit acknowledged commits.
#include <nlohmann/json.hpp>

#include <map>

#include "kafka_config.hpp"
#include "kafka_wakeup.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/base/metrics.hpp"
#include "kiebot/runtime/completion.hpp"

namespace kiebot::kafka {

namespace {

// An awaited commit: its error, or a partition's, or none.
using CommitCompletion = Completion<rd_kafka_resp_err_t>;

std::vector<TopicPartition> to_vector(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  for (int i = 0; list != nullptr && i < list->cnt; ++i) {
    out.push_back({list->elems[i].topic, list->elems[i].partition});
  }
  return out;
}

}  // namespace

struct Consumer::Impl {
  Impl(net::any_io_executor ex, ConsumerOptions opt) : executor(ex), options(std::move(opt)) {
    if (options.group_id.empty()) throw Error(RD_KAFKA_RESP_ERR__INVALID_ARG, "kafka consumer needs a group id");
    Properties defaults{
        {"bootstrap.servers", options.brokers}, {"client.id", options.name},
        {"group.id", options.group_id},         {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},  {"auto.offset.reset", "earliest"},
        {"enable.partition.eof", "false"},
    };
    auto conf = make_conf(options.name, defaults, options.properties);
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_rebalance_cb(conf.get(), &Impl::on_rebalance);
    rd_kafka_conf_set_error_cb(conf.get(), &Impl::on_error);
    handle = make_handle(RD_KAFKA_CONSUMER, std::move(conf), options.name);
    rd_kafka_poll_set_consumer(handle.get());  // main queue events come with poll()
    consumer_queue.reset(rd_kafka_queue_get_consumer(handle.get()));
    commit_queue.reset(rd_kafka_queue_new(handle.get()));
    messages_wakeup = std::make_unique<QueueWakeup>(executor, consumer_queue.get());
    commit_wakeup = std::make_unique<QueueWakeup>(executor, commit_queue.get());
    commit_wakeup->watch([this] { serve_commits(); });

    PartitionListHandle topics(rd_kafka_topic_partition_list_new(static_cast<int>(options.topics.size())));
    for (const auto& t : options.topics)
      rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    if (auto err = rd_kafka_subscribe(handle.get(), topics.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw Error(err, "kafka " + options.name + ": subscribe: " + rd_kafka_err2str(err));
    }
    metrics::Labels labels{{"client", options.name}};
    auto& reg = metrics::registry();
    consumed = &reg.counter("kafka_consumed_total", "Messages received from Kafka", labels);
    rebalances = &reg.counter("kafka_rebalances_total", "Consumer group rebalances", labels);
  }

  ~Impl() {
    close();
    messages_wakeup.reset();
    commit_wakeup.reset();
    consumer_queue.reset();
    commit_queue.reset();
    handle.reset();
  }

  void close() {
    if (closed) return;
    closed = true;
    rd_kafka_consumer_close(handle.get());  // revokes partitions via the rebalance callback
  }

  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                           void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    self->rebalances->inc();
    auto list = to_vector(parts);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      log::info("kafka_assigned", {{"client", self->options.name}, {"partitions", list.size()}});
      if (self->options.on_assigned) self->options.on_assigned(list);
      rd_kafka_assign(rk, parts);
      if (self->listener) self->listener(list, true);
    } else {
      log::info("kafka_revoked", {{"client", self->options.name}, {"partitions", list.size()}});
      if (self->options.on_revoked) self->options.on_revoked(list);
      rd_kafka_assign(rk, nullptr);
      if (self->listener) self->listener(list, false);
    }
  }

  static void on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    log::warn("kafka_error", {{"client", self->options.name},
                              {"code", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))},
                              {"reason", reason}});
  }

  // Completes an awaited commit; librdkafka reports it either through the
  // callback or as an event, depending on how the queue is served. A commit
  // that never completes (the consumer closed first) is freed with the Impl.
  void complete_commit(void* opaque, rd_kafka_resp_err_t err, const rd_kafka_topic_partition_list_t* offsets) {
    auto it = pending_commits.find(reinterpret_cast<std::uintptr_t>(opaque));
    if (it == pending_commits.end()) return;
    auto completion = std::move(it->second);
    pending_commits.erase(it);
    for (int i = 0; offsets != nullptr && err == RD_KAFKA_RESP_ERR_NO_ERROR && i < offsets->cnt; ++i) {
      err = offsets->elems[i].err;  // partition-level failures
    }
    completion.complete(err);
  }

  static void on_commit(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                        void* opaque) {
    static_cast<Impl*>(rd_kafka_opaque(rk))->complete_commit(opaque, err, offsets);
  }

  void serve_commits() {
    while (rd_kafka_event_t* ev = rd_kafka_queue_poll(commit_queue.get(), 0)) {
      if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_OFFSET_COMMIT) {
        complete_commit(rd_kafka_event_opaque(ev), rd_kafka_event_error(ev), rd_kafka_event_topic_partition_list(ev));
      }
      rd_kafka_event_destroy(ev);
    }
  }

  std::optional<Message> take_one() {
    MessageHandle m(rd_kafka_consumer_poll(handle.get(), 0));
    if (!m) return std::nullopt;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      log::warn("kafka_consume_error", {{"client", options.name}, {"error", rd_kafka_message_errstr(m.get())}});
      return Message{};  // empty topic: skipped by the caller
    }
    Message out;
    out.topic = rd_kafka_topic_name(m->rkt);
    out.partition = m->partition;
    out.offset = m->offset;
    if (m->key != nullptr) out.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload != nullptr) out.value.assign(static_cast<const char*>(m->payload), m->len);
    out.headers = read_headers(m.get());
    rd_kafka_timestamp_type_t type;
    out.timestamp_ms = rd_kafka_message_timestamp(m.get(), &type);
    consumed->inc();
    return out;
  }

  net::any_io_executor executor;
  ConsumerOptions options;
  KafkaHandle handle;
  QueueHandle consumer_queue;
  QueueHandle commit_queue;
  std::unique_ptr<QueueWakeup> messages_wakeup;
  std::unique_ptr<QueueWakeup> commit_wakeup;
  bool closed = false;
  RebalanceListener listener;
  std::map<std::uintptr_t, CommitCompletion> pending_commits;  // by the opaque given to librdkafka
  std::uintptr_t next_commit = 1;
  metrics::Counter* consumed;
  metrics::Counter* rebalances;
};

Consumer::Consumer(net::any_io_executor executor, ConsumerOptions options)
    : impl_(std::make_shared<Impl>(executor, std::move(options))) {}

Consumer::~Consumer() = default;

net::awaitable<std::vector<Message>> Consumer::poll(std::size_t max, std::chrono::milliseconds wait) {
  auto impl = impl_;
  std::vector<Message> out;
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (!impl->closed) {
    impl->messages_wakeup->drain();
    while (out.size() < max) {
      auto m = impl->take_one();
      if (!m) break;
      if (!m->topic.empty()) out.push_back(std::move(*m));
    }
    auto now = std::chrono::steady_clock::now();
    if (!out.empty() || now >= deadline) break;
    co_await impl->messages_wakeup->wait(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
  }
  co_return out;
}

net::awaitable<void> Consumer::commit(std::vector<Message> processed) {
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> next;
  for (const auto& m : processed) {
    auto& offset = next[{m.topic, m.partition}];
    offset = std::max(offset, m.offset + 1);
  }
  std::vector<std::pair<TopicPartition, std::int64_t>> offsets;
  for (const auto& [tp, offset] : next) offsets.push_back({TopicPartition{tp.first, tp.second}, offset});
  co_await commit(std::move(offsets));
}

net::awaitable<void> Consumer::commit(std::vector<std::pair<TopicPartition, std::int64_t>> next_offsets) {
  auto impl = impl_;
  if (next_offsets.empty()) co_return;
  PartitionListHandle list(rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size())));
  for (const auto& [tp, offset] : next_offsets) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = offset;
  }
  auto id = impl->next_commit++;
  CommitCompletion completion;
  impl->pending_commits.emplace(id, completion);
  auto err = rd_kafka_commit_queue(impl->handle.get(), list.get(), impl->commit_queue.get(), &Impl::on_commit,
                                   reinterpret_cast<void*>(id));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    impl->pending_commits.erase(id);
    throw Error(err, "kafka " + impl->options.name + ": commit: " + rd_kafka_err2str(err));
  }
  // Throws operation_aborted when this coroutine is cancelled first.
  err = co_await completion.wait();
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw Error(err, "kafka " + impl->options.name + ": commit: " + rd_kafka_err2str(err));
  }
}

void Consumer::close() {
  impl_->close();
}

std::vector<TopicPartition> Consumer::assignment() const {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(impl_->handle.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  PartitionListHandle list(raw);
  return to_vector(list.get());
}

namespace {

PartitionListHandle to_list(const std::vector<TopicPartition>& partitions) {
  PartitionListHandle list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& tp : partitions) rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  return list;
}

}  // namespace

void Consumer::pause(const std::vector<TopicPartition>& partitions) {
  if (partitions.empty()) return;
  auto list = to_list(partitions);
  if (auto err = rd_kafka_pause_partitions(impl_->handle.get(), list.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw Error(err, "kafka " + impl_->options.name + ": pause: " + rd_kafka_err2str(err));
  }
}

void Consumer::resume(const std::vector<TopicPartition>& partitions) {
  if (partitions.empty()) return;
  auto list = to_list(partitions);
  if (auto err = rd_kafka_resume_partitions(impl_->handle.get(), list.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw Error(err, "kafka " + impl_->options.name + ": resume: " + rd_kafka_err2str(err));
  }
}

void Consumer::set_rebalance_listener(RebalanceListener listener) {
  impl_->listener = std::move(listener);
}

}  // namespace kiebot::kafka
