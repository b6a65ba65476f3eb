// Leaving an AP cluster, end to end: four tessera-node processes (N = 3), anti-entropy off, so
// that only the decommission itself can keep the copies. A node decommissioned while a client
// writes leaves the ring only after its keys are copied to their next owners; afterwards every
// acknowledged write has a copy on each of the three nodes that remain, even with the node
// gone, and a ring too small to lose a node refuses the decommission.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "dynamo_env.h"

namespace tessera::e2e {
namespace {

const std::string kLeaveConfig = std::string(kDynamoConfig) + "anti_entropy_interval_ms = 0\n";

TEST(DynamoLeave, ADecommissionedNodeCopiesItsKeysBeforeItLeavesAndNothingAcknowledgedIsLost) {
  test::TestCluster cluster(cluster_options(kLeaveConfig));
  std::unique_ptr<Client> client = start_nodes(cluster, 4);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(create_table_when_ready(*client, 16));
  std::vector<std::string> acknowledged = put_all(*client, "before", 300);
  ASSERT_EQ(acknowledged.size(), 300u);

  // n4 leaves while the client goes on writing through n1.
  std::atomic<bool> left = false;
  Status decommissioned;
  uint64_t copied = 0;
  std::thread leaving([&] {
    std::unique_ptr<Client> admin = connect_client(cluster.address(3));
    if (admin == nullptr) return;
    RequestOptions options;
    options.timeout_ms = 60'000;
    Result<uint64_t> done = admin->decommission(options);
    decommissioned = done.status();
    if (done.is_ok()) copied = *done;
    left = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + kSettle;
  for (int i = 0; (!left || i < 400) && std::chrono::steady_clock::now() < deadline; ++i) {
    const std::string key = "during" + std::to_string(i);
    if (client->put("t", key, "v", with(Consistency::kQuorum)).is_ok()) {
      acknowledged.push_back(key);
    }
  }
  leaving.join();
  ASSERT_TRUE(decommissioned.is_ok()) << decommissioned.to_string();
  EXPECT_GT(copied, 100u) << "n4 owned about 3/4 of the keys";
  // The members see it as left, and no longer send to it.
  EXPECT_TRUE(eventually([&] {
    Result<std::vector<MemberInfo>> members = client->members();
    if (!members.is_ok()) return false;
    for (const MemberInfo& m : *members) {
      if (m.id == "n4") return m.state == "left";
    }
    return false;
  }));

  // With n4 gone for good, each of the three others holds its own copy of every acknowledged
  // key (no read has repaired anything, and anti-entropy is off).
  cluster.kill_node(3);
  for (size_t node = 0; node < 3; ++node) {
    EXPECT_TRUE(
        eventually([&] { return own_copies_hold(cluster, node, acknowledged, "v"); }))
        << "node " << node << " lacks acknowledged writes";
  }
  // Writes with every copy go on without it.
  EXPECT_TRUE(client->put("t", "after", "v", with(Consistency::kAll)).is_ok());
}

TEST(DynamoLeave, ARingWithNoSpareNodeRefusesADecommission) {
  test::TestCluster cluster(cluster_options(kLeaveConfig));
  std::unique_ptr<Client> client = start_nodes(cluster, 3);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(create_table_when_ready(*client, 1));
  Result<uint64_t> refused = client->decommission();
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().to_string();
  EXPECT_NE(refused.status().message().find("add a node first"), std::string::npos);
  EXPECT_TRUE(client->put("t", "still", "v", with(Consistency::kAll)).is_ok());
}

}  // namespace
}  // namespace tessera::e2e
