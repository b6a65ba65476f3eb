#include "hash_ring.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

namespace tessera::ring {
namespace {

std::vector<NodeInfo> cluster(int nodes, int zones = 0) {
  std::vector<NodeInfo> members;
  for (int i = 0; i < nodes; ++i) {
    members.push_back({"node-" + std::to_string(i), "127.0.0.1:" + std::to_string(7400 + i),
                       zones > 0 ? "zone-" + std::to_string(i % zones) : "", NodeState::kAlive});
  }
  return members;
}

TEST(HashRing, PreferenceListsAreDistinctCompleteAndDeterministic) {
  HashRing ring(cluster(5), 64);
  HashRing again(cluster(5), 64);
  for (uint64_t token : {uint64_t{0}, uint64_t{42}, UINT64_MAX, key_token("user:17")}) {
    std::vector<NodeId> list = ring.preference_list(token, 3);
    EXPECT_EQ(list.size(), 5u);
    EXPECT_EQ(std::set<NodeId>(list.begin(), list.end()).size(), 5u);
    EXPECT_EQ(list, again.preference_list(token, 3));
  }
}

TEST(HashRing, OwnersSpanZones) {
  HashRing ring(cluster(6, 3), 64);
  std::map<NodeId, std::string> zone_of;
  for (const NodeInfo& n : cluster(6, 3)) zone_of[n.id] = n.zone;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) {
    std::vector<NodeId> list = ring.preference_list(rng(), 3);
    std::set<std::string> zones;
    for (int k = 0; k < 3; ++k) zones.insert(zone_of[list[k]]);
    ASSERT_EQ(zones.size(), 3u);
  }
}

TEST(HashRing, LoadIsBalancedWithVirtualNodes) {
  HashRing ring(cluster(4), 256);
  std::map<NodeId, int> primaries;
  const int keys = 40'000;
  for (int i = 0; i < keys; ++i) {
    primaries[ring.preference_list(key_token("k" + std::to_string(i)), 1)[0]]++;
  }
  for (const auto& [node, count] : primaries) {
    EXPECT_NEAR(count, keys / 4, keys / 4 * 0.15) << node;
  }
}

TEST(HashRing, ArcsContainTheirTokens) {
  HashRing ring(cluster(3), 16);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 1000; ++i) {
    uint64_t token = rng();
    HashRing::Arc arc = ring.arc_of(token);
    if (arc.start < arc.end) {
      EXPECT_LE(arc.start, token);
      EXPECT_LT(token, arc.end);
    } else {
      EXPECT_TRUE(token >= arc.start || token < arc.end);
    }
  }
}

TEST(HashRing, JoinMovesOnlyToTheNewNodeAndCoversEveryChangedKey) {
  const size_t owners = 3;
  HashRing before(cluster(4), 64);
  HashRing after(cluster(5), 64);
  std::vector<RangeMove> moves = plan_moves(before, after, owners);
  ASSERT_FALSE(moves.empty());
  for (const RangeMove& move : moves) EXPECT_EQ(move.to, "node-4");

  auto covered = [&](uint64_t token, const NodeId& to) {
    Bytes t = encode_token(token);
    for (const RangeMove& m : moves) {
      if (m.to == to && m.range.contains(t)) return true;
    }
    return false;
  };
  std::mt19937_64 rng(11);
  int changed = 0;
  for (int i = 0; i < 5000; ++i) {
    uint64_t token = rng();
    auto old_owners = before.preference_list(token, owners);
    auto new_owners = after.preference_list(token, owners);
    old_owners.resize(owners);
    new_owners.resize(owners);
    for (const NodeId& node : new_owners) {
      if (std::find(old_owners.begin(), old_owners.end(), node) == old_owners.end()) {
        ++changed;
        ASSERT_TRUE(covered(token, node)) << "token " << token << " to " << node;
      }
    }
  }
  // A fifth node takes about owners/5 of the replicas: roughly 60% of keys gain it as an owner.
  EXPECT_GT(changed, 5000 * 0.4);
  EXPECT_LT(changed, 5000 * 0.8);
}

TEST(HashRing, LeftNodesAreOffTheRing) {
  std::vector<NodeInfo> members = cluster(3);
  members[1].state = NodeState::kLeft;
  HashRing ring(members, 8);
  EXPECT_EQ(ring.node_count(), 2u);
  for (const NodeId& id : ring.preference_list(5, 3)) EXPECT_NE(id, "node-1");
}

}  // namespace
}  // namespace tessera::ring
