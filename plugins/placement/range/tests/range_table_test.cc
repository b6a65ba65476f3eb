#include "range_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace tessera::range {
namespace {

RangeDescriptor range(uint64_t id, Bytes table, Bytes start, Bytes end,
                      std::vector<NodeId> voters = {"n1", "n2", "n3"}) {
  RangeDescriptor r;
  r.id = id;
  r.range = KeyRange{std::move(table), std::move(start), std::move(end)};
  r.group = "g" + std::to_string(id);
  r.voters = std::move(voters);
  return r;
}

// Table "t" in three ranges ["", "g"), ["g", "p"), ["p", end); table "u" in one.
RangeMap three_ranges(uint64_t generation = 1) {
  return RangeMap{generation,
                  {range(2, "t", "g", "p"), range(1, "t", "", "g"), range(3, "t", "p", ""),
                   range(4, "u", "", "")}};
}

RangeTable built(const RangeMap& map) {
  Result<RangeTable> table = RangeTable::build(map);
  EXPECT_TRUE(table.is_ok()) << table.status().to_string();
  return std::move(table).value();
}

TEST(RangeTable, FindsTheRangeHoldingEachKey) {
  RangeTable table = built(three_ranges());
  auto id_of = [&](ByteView t, ByteView key) { return table.find(t, key).value()->id; };
  EXPECT_EQ(id_of("t", ""), 1u);
  EXPECT_EQ(id_of("t", "a"), 1u);
  EXPECT_EQ(id_of("t", "f\xff"), 1u);
  EXPECT_EQ(id_of("t", "g"), 2u) << "a range holds its start";
  EXPECT_EQ(id_of("t", "o"), 2u);
  EXPECT_EQ(id_of("t", "p"), 3u) << "and not its end";
  EXPECT_EQ(id_of("t", "\xff\xff"), 3u);
  EXPECT_EQ(id_of("u", "g"), 4u) << "tables are separate key spaces";
}

TEST(RangeTable, UnknownTableIsNoSuchTable) {
  RangeTable table = built(three_ranges());
  Result<const RangeDescriptor*> found = table.find("v", "k");
  EXPECT_EQ(found.status().code(), StatusCode::kNoSuchTable);
  EXPECT_NE(found.status().message().find("'v'"), std::string::npos) << found.status().message();
}

TEST(RangeTable, SpanListsTheRangesAScanCrossesInKeyOrder) {
  RangeTable table = built(three_ranges());
  auto ids = [&](ByteView start, ByteView end) {
    std::vector<uint64_t> out;
    Result<std::vector<const RangeDescriptor*>> ranges = table.span("t", start, end);
    for (const RangeDescriptor* r : ranges.value()) out.push_back(r->id);
    return out;
  };
  EXPECT_EQ(ids("", ""), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(ids("b", "h"), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(ids("b", "g"), (std::vector<uint64_t>{1})) << "the end is exclusive";
  EXPECT_EQ(ids("g", "g\x01"), (std::vector<uint64_t>{2}));
  EXPECT_EQ(ids("q", ""), (std::vector<uint64_t>{3}));
  EXPECT_TRUE(ids("h", "b").empty());
}

TEST(RangeTable, RefusesMapsThatDoNotTileEachTable) {
  struct Case {
    const char* what;
    RangeMap map;
    const char* names;
  };
  std::vector<Case> cases = {
      {"gap", RangeMap{1, {range(1, "t", "", "g"), range(2, "t", "h", "")}}, "gap"},
      {"overlap", RangeMap{1, {range(1, "t", "", "h"), range(2, "t", "g", "")}}, "overlap"},
      {"no first", RangeMap{1, {range(1, "t", "a", "")}}, "empty key"},
      {"closed last", RangeMap{1, {range(1, "t", "", "z")}}, "open-ended"},
      {"inverted", RangeMap{1, {range(1, "t", "", "g"), range(2, "t", "g", "c")}}, "inverted"},
      {"duplicate id", RangeMap{1, {range(1, "t", "", "g"), range(1, "t", "g", "")}}, "id"},
      {"id zero", RangeMap{1, {range(0, "t", "", "")}}, "id 0"},
      {"no voters", RangeMap{1, {range(1, "t", "", "", {})}}, "no voters"},
      {"voter twice", RangeMap{1, {range(1, "t", "", "", {"n1", "n1"})}}, "twice"},
  };
  for (const Case& c : cases) {
    Result<RangeTable> table = RangeTable::build(c.map);
    ASSERT_FALSE(table.is_ok()) << c.what;
    EXPECT_EQ(table.status().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_NE(table.status().message().find(c.names), std::string::npos)
        << c.what << ": " << table.status().message();
  }
}

TEST(RangeTable, LocationPutsTheKnownLeaderFirstAndCarriesTheEpoch) {
  RangeDescriptor r = range(7, "t", "", "");
  r.epoch = 5;
  r.leader = "n3";
  Location location = location_of(r);
  EXPECT_EQ(location.replicas, (std::vector<NodeId>{"n3", "n1", "n2"}));
  EXPECT_EQ(location.owners, 3u);
  EXPECT_EQ(location.range_id, 7u);
  EXPECT_EQ(location.epoch, 5u);
  EXPECT_EQ(location.group, "g7");

  r.leader = "n9";  // a stale hint naming a node that is no longer a voter is ignored
  EXPECT_EQ(location_of(r).replicas, (std::vector<NodeId>{"n1", "n2", "n3"}));
}

TEST(RangeTable, MovesGoToNewMembersFromTheOldLeader) {
  RangeTable before = built(three_ranges(1));
  RangeMap next = three_ranges(2);
  for (RangeDescriptor& r : next.ranges) {
    if (r.id == 2) {
      r.learners = {"n4"};
      r.state = RangeState::kAddingLearner;
      r.epoch = 2;
    }
  }
  // Range 2's old descriptor named n2 as its leader.
  RangeMap old_with_leader = three_ranges(1);
  for (RangeDescriptor& r : old_with_leader.ranges) {
    if (r.id == 2) r.leader = "n2";
  }
  std::vector<RangeMove> moves = plan_moves(built(old_with_leader), built(next));
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_EQ(moves[0].from, "n2");
  EXPECT_EQ(moves[0].to, "n4");
  EXPECT_EQ(moves[0].range.start, "g");
  EXPECT_TRUE(plan_moves(before, before).empty()) << "no change, no moves";
}

std::vector<NodeInfo> nodes_in_zones() {
  return {{"a1", "", "za"}, {"a2", "", "za"}, {"a3", "", "za"},
          {"b1", "", "zb"}, {"b2", "", "zb"}, {"c1", "", "zc"}};
}

TEST(ChooseMembers, SpreadsOverZonesBeforeDoublingAny) {
  std::vector<NodeId> chosen = choose_members(nodes_in_zones(), 3, {}, {}).value();
  std::set<std::string> zones;
  for (const NodeId& id : chosen) zones.insert(id.substr(0, 1));
  EXPECT_EQ(zones.size(), 3u) << "one per zone";

  std::vector<NodeId> five = choose_members(nodes_in_zones(), 5, {}, {}).value();
  EXPECT_EQ(std::count_if(five.begin(), five.end(), [](const NodeId& id) { return id[0] == 'a'; }),
            2);
}

TEST(ChooseMembers, PrefersTheLeastLoadedAndSkipsTheAvoidedAndTheDead) {
  std::vector<NodeInfo> members = nodes_in_zones();
  members[5].state = NodeState::kDead;  // c1
  std::unordered_map<NodeId, size_t> load = {{"a1", 4}, {"a2", 1}, {"a3", 2}, {"b1", 0}};
  std::vector<NodeId> avoid = {"b1"};
  std::vector<NodeId> chosen = choose_members(members, 2, avoid, load).value();
  std::sort(chosen.begin(), chosen.end());
  EXPECT_EQ(chosen, (std::vector<NodeId>{"a2", "b2"}));
}

TEST(ChooseMembers, IsDeterministicAndSaysWhenTooFewQualify) {
  EXPECT_EQ(choose_members(nodes_in_zones(), 3, {}, {}).value(),
            choose_members(nodes_in_zones(), 3, {}, {}).value());
  Result<std::vector<NodeId>> none = choose_members(nodes_in_zones(), 7, {}, {});
  EXPECT_EQ(none.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(none.status().message().find("only 6"), std::string::npos) << none.status().message();
}

}  // namespace
}  // namespace tessera::range
