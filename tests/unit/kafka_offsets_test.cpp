// OffsetTracker: how far a partition may be committed when messages finish
// out of order, across partitions, and after a revocation.
#include <gtest/gtest.h>

#include "kiebot/kafka/consume.hpp"

using namespace kiebot;
using kafka::OffsetTracker;

namespace {

kafka::Message at(std::int32_t partition, std::int64_t offset) {
  kafka::Message m;
  m.topic = "t";
  m.partition = partition;
  m.offset = offset;
  return m;
}

// The committable offset of partition `p`, or -1 when none.
std::int64_t next(const OffsetTracker& t, std::int32_t p) {
  for (const auto& [tp, offset] : t.committable()) {
    if (tp.partition == p) return offset;
  }
  return -1;
}

}  // namespace

TEST(OffsetTracker, CommitsOnlyTheContiguousPrefixOfFinishedOffsets) {
  OffsetTracker t;
  std::vector<OffsetTracker::Ticket> tickets;
  for (int o = 10; o < 15; ++o) tickets.push_back(t.consumed(at(0, o)));
  EXPECT_EQ(next(t, 0), 10);  // nothing finished: where it started
  t.committed(t.committable());
  EXPECT_EQ(next(t, 0), -1);
  t.finish(tickets[2]);  // 12
  t.finish(tickets[3]);  // 13
  EXPECT_EQ(next(t, 0), -1) << "10 and 11 are unfinished";
  t.finish(tickets[0]);  // 10
  EXPECT_EQ(next(t, 0), 11);
  t.committed(t.committable());
  t.finish(tickets[1]);  // 11: 12 and 13 were done already
  EXPECT_EQ(next(t, 0), 14);
  t.finish(tickets[4]);
  EXPECT_EQ(next(t, 0), 15);
  EXPECT_EQ(t.unfinished(), 0u);
}

TEST(OffsetTracker, PartitionsAreIndependentAndGapsDoNotBlock) {
  OffsetTracker t;
  auto a = t.consumed(at(0, 3));
  auto b = t.consumed(at(0, 7));  // 4..6 never arrive (compacted, transaction markers)
  auto c = t.consumed(at(1, 0));
  t.finish(a);
  t.finish(b);
  EXPECT_EQ(next(t, 0), 8);
  EXPECT_EQ(next(t, 1), 0);
  t.finish(c);
  EXPECT_EQ(next(t, 1), 1);
}

TEST(OffsetTracker, RevokedPartitionIsNotCommittedAndOldTicketsAreIgnored) {
  OffsetTracker t;
  auto old0 = t.consumed(at(0, 0));
  auto old1 = t.consumed(at(0, 1));
  t.finish(old0);
  t.revoke({"t", 0});
  EXPECT_TRUE(t.committable().empty());
  t.finish(old1);  // in flight when revoked: nothing to commit
  EXPECT_TRUE(t.committable().empty());
  // Assigned again: redelivered from offset 1; the old ticket for 1 must
  // not finish the new delivery of 1.
  auto again = t.consumed(at(0, 1));
  t.finish(old1);
  EXPECT_EQ(next(t, 0), 1);
  t.finish(again);
  EXPECT_EQ(next(t, 0), 2);
}
