#include "sequencer.h"

#include <gtest/gtest.h>

namespace tessera::lww {
namespace {

TEST(Sequencer, EncodedOrderIsSequencerOrder) {
  Sequencer a{.timestamp_ns = 5, .counter = 1, .node_tag = 9};
  Sequencer b{.timestamp_ns = 5, .counter = 2, .node_tag = 1};
  Sequencer c{.timestamp_ns = 6, .counter = 0, .node_tag = 0};
  EXPECT_LT(a.encode(), b.encode());
  EXPECT_LT(b.encode(), c.encode());
  EXPECT_EQ(Sequencer::decode(b.encode()), b);
  EXPECT_FALSE(Sequencer::decode("short").has_value());
}

TEST(SequencerClock, IncreasesWhenTheClockStandsStillOrGoesBack) {
  SequencerClock clock(7);
  Sequencer first = clock.next(1000, {});
  Sequencer second = clock.next(1000, {});
  Sequencer third = clock.next(10, {});
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_EQ(third.node_tag, 7u);
}

TEST(SequencerClock, SupersedesWhatItHasSeen) {
  SequencerClock clock(1);
  Sequencer seen{.timestamp_ns = 1'000'000, .counter = 3, .node_tag = 99};
  Sequencer next = clock.next(5, std::span<const Sequencer>(&seen, 1));
  EXPECT_GT(next, seen);
}

TEST(SequencerRatchet, KeepsAProposalAboveTheLastApplied) {
  Sequencer last{.timestamp_ns = 100, .counter = 3, .node_tag = 7};
  Sequencer proposed{.timestamp_ns = 200, .counter = 0, .node_tag = 9};
  EXPECT_EQ(ratchet(proposed, last), proposed);
}

TEST(SequencerRatchet, ASlowerClockStillOrdersByCommit) {
  // A new leader whose clock is 50 ns behind its predecessor's, or a node restarted with its
  // clock set back: its proposals are ratcheted past what the range applied, in commit order.
  Sequencer last{.timestamp_ns = 1000, .counter = 4, .node_tag = 7};
  Sequencer behind{.timestamp_ns = 950, .counter = 0, .node_tag = 9};
  Sequencer first = ratchet(behind, last);
  EXPECT_GT(first, last);
  EXPECT_EQ(first.timestamp_ns, 1000u);
  EXPECT_EQ(first.counter, 5u);
  EXPECT_EQ(first.node_tag, 9u) << "the proposer's tag is kept";
  Sequencer second = ratchet(behind, first);
  EXPECT_GT(second, first);
  EXPECT_EQ(ratchet(last, last).counter, 5u) << "an equal proposal is not reused";
  EXPECT_GT(ratchet(behind, last).encode(), last.encode()) << "and byte order agrees";
}

TEST(SequencerRatchet, ACounterThatWrapsCarriesIntoTheTimestamp) {
  Sequencer last{.timestamp_ns = 1000, .counter = UINT32_MAX, .node_tag = 7};
  Sequencer next = ratchet(Sequencer{}, last);
  EXPECT_EQ(next.timestamp_ns, 1001u);
  EXPECT_EQ(next.counter, 0u);
  EXPECT_GT(next, last);
}

}  // namespace
}  // namespace tessera::lww
