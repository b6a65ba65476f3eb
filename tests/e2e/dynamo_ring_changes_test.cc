// Joining and removing nodes of an AP cluster, end to end, with tessera-node processes (N = 3)
// and anti-entropy off, so that only the join's copy and the ring change's streams can keep
// the copies:
//  - a fourth node started while a client writes joins as a joining member, copies the keys
//    it will own, and owns them only then; afterwards each owner of every acknowledged key,
//    by the ring's ranges, holds its own copy, the new node included;
//  - a node killed for good is removed through another (`Tessera.removeNode`) while a client
//    writes: it is left in the views, and the three others each hold their own copy of every
//    acknowledged key; a live node and an unknown id are refused.
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dynamo_env.h"
#include "hash_ring.h"

namespace tessera::e2e {
namespace {

const std::string kRingConfig = std::string(kDynamoConfig) + "anti_entropy_interval_ms = 0\n";

std::optional<MemberInfo> member(Client& client, const std::string& id) {
  Result<std::vector<MemberInfo>> members = client.members();
  if (!members.is_ok()) return std::nullopt;
  for (const MemberInfo& m : *members) {
    if (m.id == id) return m;
  }
  return std::nullopt;
}

// The owners of each key by the ring `client`'s node serves now.
std::map<std::string, std::vector<std::string>> owners_of(Client& client,
                                                          const std::vector<std::string>& keys) {
  std::map<std::string, std::vector<std::string>> owners;
  Result<std::vector<RangeInfo>> ranges = client.ring();
  EXPECT_TRUE(ranges.is_ok()) << ranges.status().to_string();
  if (!ranges.is_ok()) return owners;
  for (const std::string& key : keys) {
    const Bytes token = ring::encode_token(ring::key_token(key));
    for (const RangeInfo& range : *ranges) {
      if (token >= range.start && (range.end.empty() || token < range.end)) {
        owners[key] = range.voters;
        break;
      }
    }
  }
  return owners;
}

TEST(DynamoRingChanges, ANodeThatJoinsUnderLoadOwnsItsRangesOnlyOnceItHoldsThem) {
  test::TestCluster cluster(cluster_options(kRingConfig));
  std::unique_ptr<Client> client = start_nodes(cluster, 3);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(create_table_when_ready(*client, 16));
  std::vector<std::string> acknowledged = put_all(*client, "before", 300);
  ASSERT_EQ(acknowledged.size(), 300u);

  // n4 joins while the client goes on writing through n1.
  cluster.add_node();
  ASSERT_TRUE(cluster.start_node(3).is_ok());
  bool seen_joining = false;
  bool joined = false;
  const auto deadline = std::chrono::steady_clock::now() + kSettle;
  for (int i = 0; (!joined || i < 600) && std::chrono::steady_clock::now() < deadline; ++i) {
    const std::string key = "during" + std::to_string(i);
    if (client->put("t", key, "v", with(Consistency::kQuorum)).is_ok()) {
      acknowledged.push_back(key);
    }
    if (i % 20 == 0) {
      std::optional<MemberInfo> n4 = member(*client, "n4");
      if (n4 && n4->joining) seen_joining = true;
      if (n4 && !n4->joining && seen_joining) joined = true;
    }
  }
  ASSERT_TRUE(seen_joining) << "n1 never saw n4 joining";
  ASSERT_TRUE(joined) << "n4 did not finish joining within " << kSettle.count() << " s";

  // Each owner of each acknowledged key, by the ring with n4, holds its own copy: n4's came
  // from the join's copy and from the writes made while it joined.
  const std::vector<std::string> all = acknowledged;
  std::map<std::string, std::vector<std::string>> owners;
  ASSERT_TRUE(eventually([&] {
    owners = owners_of(*client, all);
    for (const auto& [key, nodes] : owners) {
      if (std::find(nodes.begin(), nodes.end(), "n4") != nodes.end()) return true;
    }
    return false;
  })) << "n1's ring never gave n4 a range";
  const std::string ids[] = {"n1", "n2", "n3", "n4"};
  for (size_t node = 0; node < 4; ++node) {
    std::vector<std::string> owned;
    for (const auto& [key, nodes] : owners) {
      if (std::find(nodes.begin(), nodes.end(), ids[node]) != nodes.end()) owned.push_back(key);
    }
    if (node == 3) {
      EXPECT_GT(owned.size(), all.size() / 2) << "n4 owns about 3/4 of the keys";
    }
    EXPECT_TRUE(own_copies_hold(cluster, node, owned, "v"))
        << ids[node] << " lacks some of the " << owned.size() << " acknowledged keys it owns";
  }
}

TEST(DynamoRingChanges, ANodeDownForGoodIsRemovedAndItsRangesAreCopiedToTheirNewOwners) {
  test::TestCluster cluster(cluster_options(kRingConfig));
  std::unique_ptr<Client> client = start_nodes(cluster, 4);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(create_table_when_ready(*client, 16));
  std::vector<std::string> acknowledged = put_all(*client, "k", 300);
  std::mutex acknowledged_mutex;
  ASSERT_EQ(acknowledged.size(), 300u);

  Status alive = client->remove_node("n4");
  EXPECT_EQ(alive.code(), StatusCode::kInvalidArgument) << alive.to_string();
  Status unknown = client->remove_node("n9");
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound) << unknown.to_string();

  cluster.kill_node(3);
  // Refused while n1 still holds n4 alive or suspect; accepted once it is dead. A client
  // writes all the while (hints for n4 at first, then to the ring without it).
  std::atomic<bool> removed = false;
  std::thread writer([&] {
    std::unique_ptr<Client> writing = connect_client(cluster.address(1));
    if (writing == nullptr) return;
    for (int i = 0; !removed || i < 300; ++i) {
      const std::string key = "during" + std::to_string(i);
      if (writing->put("t", key, "v", with(Consistency::kQuorum)).is_ok()) {
        std::lock_guard lock(acknowledged_mutex);
        acknowledged.push_back(key);
      }
      if (i > 100'000) break;
    }
  });
  const bool accepted = eventually([&] { return client->remove_node("n4").is_ok(); });
  removed = true;
  writer.join();
  ASSERT_TRUE(accepted);
  for (size_t node = 0; node < 3; ++node) {
    std::unique_ptr<Client> other = connect_client(cluster.address(node));
    ASSERT_NE(other, nullptr);
    EXPECT_TRUE(eventually([&] {
      std::optional<MemberInfo> n4 = member(*other, "n4");
      return !n4 || n4->state == "left";
    })) << "node " << node << " still holds n4 as a member";
  }
  // Every key is now owned by n1, n2 and n3, and each holds its own copy.
  for (size_t node = 0; node < 3; ++node) {
    EXPECT_TRUE(eventually([&] { return own_copies_hold(cluster, node, acknowledged, "v"); }))
        << "node " << node << " lacks acknowledged writes";
  }
  EXPECT_TRUE(client->put("t", "after", "v", with(Consistency::kAll)).is_ok());
}

}  // namespace
}  // namespace tessera::e2e
