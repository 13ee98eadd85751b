// OffsetTracker (see kafka_consume.hpp).
#include "kiebot/kafka/consume.hpp"

namespace kiebot::kafka {

OffsetTracker::Ticket OffsetTracker::consumed(const Message& message) {
  auto [it, fresh] = partitions_.try_emplace({message.topic, message.partition});
  auto& p = it->second;
  if (fresh) p.generation = ++generations_;
  p.unfinished.insert(message.offset);
  p.next = std::max(p.next, message.offset + 1);
  return Ticket{message.topic, message.partition, message.offset, p.generation};
}

void OffsetTracker::finish(const Ticket& ticket) {
  auto it = partitions_.find({ticket.topic, ticket.partition});
  if (it == partitions_.end() || it->second.generation != ticket.generation) return;  // revoked since
  it->second.unfinished.erase(ticket.offset);
}

void OffsetTracker::revoke(const TopicPartition& partition) {
  partitions_.erase({partition.topic, partition.partition});
}

OffsetTracker::Offsets OffsetTracker::committable() const {
  Offsets out;
  for (const auto& [tp, p] : partitions_) {
    auto safe = p.unfinished.empty() ? p.next : *p.unfinished.begin();
    if (safe > p.committed && safe >= 0) out.push_back({TopicPartition{tp.first, tp.second}, safe});
  }
  return out;
}

void OffsetTracker::committed(const Offsets& offsets) {
  for (const auto& [tp, offset] : offsets) {
    auto it = partitions_.find({tp.topic, tp.partition});
    if (it != partitions_.end()) it->second.committed = std::max(it->second.committed, offset);
  }
}

std::size_t OffsetTracker::unfinished() const {
  std::size_t n = 0;
  for (const auto& [tp, p] : partitions_) n += p.unfinished.size();
  return n;
}

}  // namespace kiebot::kafka
