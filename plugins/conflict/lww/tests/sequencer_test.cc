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

}  // namespace
}  // namespace tessera::lww
