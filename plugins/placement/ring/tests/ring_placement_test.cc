// The plugin through its descriptor, as the node uses it: joining members and their next
// ownership.
#include <gtest/gtest.h>

#include <algorithm>

#include "tessera/config.h"
#include "tessera/placement.h"
#include "tessera/plugin.h"

namespace tessera::ring {
extern const PluginDescriptor ring_descriptor;

namespace {

std::unique_ptr<Placement> make() {
  Result<std::unique_ptr<Placement>> placement =
      ring_descriptor.make_placement(PluginContext{"n1", {}}, ConfigSection());
  EXPECT_TRUE(placement.is_ok()) << placement.status().to_string();
  return std::move(placement).value();
}

std::vector<NodeInfo> members(int count) {
  std::vector<NodeInfo> out;
  for (int i = 1; i <= count; ++i) {
    out.push_back({"n" + std::to_string(i), "127.0.0.1:" + std::to_string(7400 + i), "",
                   NodeState::kAlive});
  }
  return out;
}

bool holds(const std::vector<NodeId>& nodes, const NodeId& id) {
  return std::find(nodes.begin(), nodes.end(), id) != nodes.end();
}

TEST(RingPlacement, AJoiningMemberOwnsNothingAndIsANextOwnerOfTheKeysItWillOwn) {
  std::unique_ptr<Placement> placement = make();
  std::vector<NodeInfo> view = members(4);
  view[3].joining = true;
  ASSERT_TRUE(placement->set_members(view).is_ok());
  std::unique_ptr<Placement> after = make();
  ASSERT_TRUE(after->set_members(members(4)).is_ok());

  int gained = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string key = "key-" + std::to_string(i);
    Result<Location> now = placement->locate("t", key);
    Result<Location> then = after->locate("t", key);
    ASSERT_TRUE(now.is_ok() && then.is_ok());
    std::vector<NodeId> owners(now->replicas.begin(), now->replicas.begin() + 3);
    EXPECT_FALSE(holds(now->replicas, "n4")) << key;
    std::vector<NodeId> future(then->replicas.begin(), then->replicas.begin() + 3);
    if (holds(future, "n4")) {
      ++gained;
      EXPECT_EQ(now->next_owners, future) << key;
    } else {
      EXPECT_TRUE(now->next_owners.empty()) << key;
    }
  }
  // A fourth node becomes an owner of about 3/4 of the keys.
  EXPECT_GT(gained, 2000 * 0.6);
  EXPECT_LT(gained, 2000 * 0.9);

  Result<std::vector<Location>> ranges = placement->list_ranges();
  ASSERT_TRUE(ranges.is_ok());
  EXPECT_TRUE(std::any_of(ranges->begin(), ranges->end(),
                          [](const Location& l) { return holds(l.next_owners, "n4"); }));
}

TEST(RingPlacement, AMemberThatFinishesJoiningGetsNoMovesAndAJoinAtOnceDoes) {
  std::unique_ptr<Placement> placement = make();
  ASSERT_TRUE(placement->set_members(members(3)).is_ok());
  std::vector<NodeInfo> view = members(4);
  view[3].joining = true;
  Result<std::vector<RangeMove>> joining = placement->set_members(view);
  ASSERT_TRUE(joining.is_ok());
  EXPECT_TRUE(joining->empty()) << "a joining member takes no range yet";
  Result<std::vector<RangeMove>> done = placement->set_members(members(4));
  ASSERT_TRUE(done.is_ok());
  EXPECT_TRUE(done->empty()) << "the joining member copied its ranges itself";

  std::unique_ptr<Placement> at_once = make();
  ASSERT_TRUE(at_once->set_members(members(3)).is_ok());
  Result<std::vector<RangeMove>> moves = at_once->set_members(members(4));
  ASSERT_TRUE(moves.is_ok());
  EXPECT_FALSE(moves->empty());
}

TEST(RingPlacement, FewerOwnersThanNIsUnavailableAndSaysOthersAreJoining) {
  std::unique_ptr<Placement> placement = make();
  std::vector<NodeInfo> view = members(3);
  view[1].joining = true;
  view[2].joining = true;
  ASSERT_TRUE(placement->set_members(view).is_ok());
  Result<Location> location = placement->locate("t", "k");
  ASSERT_FALSE(location.is_ok());
  EXPECT_EQ(location.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(location.status().message().find("still joining"), std::string::npos)
      << location.status().to_string();
}

}  // namespace
}  // namespace tessera::ring
