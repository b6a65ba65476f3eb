#include "tessera/sim/network.h"

#include <gtest/gtest.h>

namespace tessera::sim {
namespace {

TEST(Network, DeliversInDelayOrderAndRespectsCuts) {
  Rng rng(7);
  Network<int> net(rng, 3);
  net.set_all_links(LinkConfig{5, 5});
  net.send(0, 0, 1, 10);
  net.send(1, 0, 2, 20);
  Envelope<int> e;
  EXPECT_FALSE(net.pop_due(4, &e));
  ASSERT_TRUE(net.pop_due(5, &e));
  EXPECT_EQ(e.msg, 10);
  net.set_cut(0, 2, true);  // cut while in flight: the message dies
  EXPECT_FALSE(net.pop_due(100, &e));
  net.send(100, 2, 0, 30);  // the reverse direction still works: the cut is one-way
  ASSERT_TRUE(net.pop_due(105, &e));
  EXPECT_EQ(e.msg, 30);
  net.heal();
  net.send(200, 0, 2, 40);
  EXPECT_TRUE(net.pop_due(205, &e));
}

TEST(Network, DropAndDuplicateFollowTheLinkConfig) {
  Rng rng(9);
  Network<int> net(rng, 2);
  net.set_all_links(LinkConfig{1, 1, 1.0, 0.0});
  for (int i = 0; i < 10; ++i) net.send(0, 0, 1, i);
  EXPECT_EQ(net.in_flight(), 0u);
  net.set_all_links(LinkConfig{1, 1, 0.0, 1.0});
  net.send(0, 0, 1, 1);
  EXPECT_EQ(net.in_flight(), 2u);
}

TEST(Network, SameSeedSameSchedule) {
  auto run = [](uint64_t seed) {
    Rng rng(seed);
    Network<int> net(rng, 2);
    net.set_all_links(LinkConfig{1, 50, 0.2, 0.2, 0.3, 40});
    for (int i = 0; i < 200; ++i) net.send(i, 0, 1, i);
    std::vector<int> order;
    Envelope<int> e;
    while (net.pop_due(1'000'000, &e)) order.push_back(e.msg);
    return order;
  };
  EXPECT_EQ(run(3), run(3));
  EXPECT_NE(run(3), run(4));
}

}  // namespace
}  // namespace tessera::sim
