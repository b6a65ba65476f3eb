// The plugin through its descriptor, as the node uses it: map installation and lookups.
#include <gtest/gtest.h>

#include "tessera/config.h"
#include "tessera/placement.h"
#include "tessera/plugin.h"

namespace tessera::range {
extern const PluginDescriptor range_descriptor;

namespace {

std::unique_ptr<Placement> make() {
  Result<std::unique_ptr<Placement>> placement =
      range_descriptor.make_placement(PluginContext{"n1", {}}, ConfigSection());
  EXPECT_TRUE(placement.is_ok()) << placement.status().to_string();
  return std::move(placement).value();
}

RangeMap map(uint64_t generation, uint64_t epoch_of_second) {
  RangeDescriptor first;
  first.id = 1;
  first.range = KeyRange{"t", "", "m"};
  first.group = "g1";
  first.voters = {"n1", "n2", "n3"};
  RangeDescriptor second = first;
  second.id = 2;
  second.range = KeyRange{"t", "m", ""};
  second.group = "g2";
  second.epoch = epoch_of_second;
  return RangeMap{generation, {first, second}};
}

TEST(RangePlacement, AnswersUnavailableUntilAMapIsInstalled) {
  std::unique_ptr<Placement> placement = make();
  EXPECT_EQ(placement->locate("t", "k").status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(placement->set_members({}).is_ok());
  EXPECT_TRUE(placement->set_range_map(map(1, 1)).is_ok());
  Result<Location> location = placement->locate("t", "k");
  ASSERT_TRUE(location.is_ok()) << location.status().to_string();
  EXPECT_EQ(location.value().group, "g1");
}

TEST(RangePlacement, EpochsArePerRange) {
  std::unique_ptr<Placement> placement = make();
  ASSERT_TRUE(placement->set_range_map(map(1, 1)).is_ok());
  ASSERT_TRUE(placement->set_range_map(map(2, 4)).is_ok());
  EXPECT_EQ(placement->locate("t", "a").value().epoch, 1u) << "the untouched range keeps its epoch";
  EXPECT_EQ(placement->locate("t", "z").value().epoch, 4u);
  EXPECT_EQ(placement->locate("t", "z").value().range_id, 2u);
}

TEST(RangePlacement, RefusesAnOlderOrEqualGenerationAndKeepsTheCurrentMap) {
  std::unique_ptr<Placement> placement = make();
  ASSERT_TRUE(placement->set_range_map(map(5, 2)).is_ok());
  Status older = placement->set_range_map(map(5, 9)).status();
  EXPECT_EQ(older.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(older.message().find("generation 5"), std::string::npos) << older.message();
  EXPECT_EQ(placement->locate("t", "z").value().epoch, 2u);
  RangeMap broken = map(6, 2);
  broken.ranges.pop_back();  // leaves [m, end) uncovered
  EXPECT_EQ(placement->set_range_map(broken).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(placement->locate("t", "z").value().epoch, 2u);
}

TEST(RangePlacement, SpansAndChoosesReplicas) {
  std::unique_ptr<Placement> placement = make();
  ASSERT_TRUE(placement->set_range_map(map(1, 1)).is_ok());
  Result<std::vector<Location>> span = placement->locate_span("t", "a", "");
  ASSERT_TRUE(span.is_ok());
  ASSERT_EQ(span.value().size(), 2u);
  EXPECT_EQ(span.value()[1].range.start, "m");

  std::vector<NodeInfo> members = {{"n1", "", "z1"}, {"n2", "", "z1"}, {"n3", "", "z2"}};
  ASSERT_TRUE(placement->set_members(members).is_ok());
  std::vector<NodeId> avoid;
  Result<std::vector<NodeId>> chosen = placement->choose_replicas(2, avoid);
  ASSERT_TRUE(chosen.is_ok()) << chosen.status().to_string();
  EXPECT_EQ(chosen.value().size(), 2u);
  EXPECT_NE(std::find(chosen.value().begin(), chosen.value().end(), "n3"), chosen.value().end())
      << "the only member of zone z2 is in every pair";
}

}  // namespace
}  // namespace tessera::range
