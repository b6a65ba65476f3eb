// Merkle anti-entropy in the AP profile, end to end: three tessera-node processes (N = 3,
// R = W = 2) with a round every 300 ms. Replicas that missed writes (a node down while a
// quorum of the others took them, with no fourth node to keep hints) become identical to the
// others without any read: the tests read each node's own copies through its Replica, which
// no coordinator repairs.
#include <string>
#include <vector>

#include "dynamo_env.h"

namespace tessera::e2e {
namespace {

const std::string kAntiEntropyConfig =
    std::string(kDynamoConfig) + "anti_entropy_interval_ms = 300\n";

// Writes `versions` into node `node`'s own copy of (table, key), as a coordinator would.
bool write_own_copy(const test::TestCluster& cluster, size_t node, const std::string& table,
                    const std::string& key, const std::string& version, const std::string& value) {
  capnp::EzRpcClient connection(cluster.address(node));
  rpc::Replica::Client replica = replica_of(connection, cluster.cluster_secret_file());
  auto write = replica.writeRequest();
  write.setTable(table);
  write.setKey(kj::arrayPtr(reinterpret_cast<const kj::byte*>(key.data()), key.size()));
  auto versions = write.initVersions(1);
  versions[0].setVersion(
      kj::arrayPtr(reinterpret_cast<const kj::byte*>(version.data()), version.size()));
  versions[0].setValue(kj::arrayPtr(reinterpret_cast<const kj::byte*>(value.data()), value.size()));
  return write.send().wait(connection.getWaitScope()).getError().getCode() == rpc::ErrorCode::OK;
}

class DynamoAntiEntropyTest : public ThreeDynamoNodes {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(start_three(kAntiEntropyConfig));
    ASSERT_TRUE(create_table_when_ready(client(0), 8));
    // Every node sees the others before one goes down.
    for (size_t i = 1; i < 3; ++i) {
      ASSERT_TRUE(eventually(
          [&] { return client(i).put("t", "probe", "p", with(Consistency::kAll)).is_ok(); }));
    }
  }
};

TEST_F(DynamoAntiEntropyTest, AReplicaThatMissedWritesIsRepairedWithoutAnyRead) {
  // Keys every replica has, some of which are deleted while n3 is away.
  std::vector<std::string> kept, deleted;
  for (int i = 0; i < 100; ++i) {
    const std::string key = "before" + std::to_string(i);
    ASSERT_TRUE(client(0).put("t", key, "old", with(Consistency::kAll)).is_ok()) << key;
    (i % 2 == 0 ? kept : deleted).push_back(key);
  }
  clients_[2].reset();
  cluster_->kill_node(2);
  std::vector<std::string> missed;
  for (int i = 0; i < 1000; ++i) {
    const std::string key = "k" + std::to_string(i);
    ASSERT_TRUE(client(i % 2).put("t", key, "new", with(Consistency::kQuorum)).is_ok()) << key;
    missed.push_back(key);
  }
  for (const std::string& key : deleted) {
    Result<GetReply> got = client(0).get("t", key, with(Consistency::kQuorum));
    ASSERT_TRUE(got.is_ok()) << got.status().to_string();
    ASSERT_TRUE(
        client(0).remove("t", key, with(Consistency::kQuorum, got->context)).is_ok()) << key;
  }
  ASSERT_TRUE(cluster_->start_node(2).is_ok());
  EXPECT_FALSE(own_copies_hold(*cluster_, 2, missed, "new")) << "n3 was down: it cannot have them yet";
  EXPECT_TRUE(eventually([&] { return own_copies_hold(*cluster_, 2, missed, "new"); }))
      << "anti-entropy never brought n3 the writes it missed";
  EXPECT_TRUE(own_copies_hold(*cluster_, 2, kept, "old"));
  // The deletes reached it too: no live "old" value is left of the deleted keys.
  for (const std::string& key : deleted) {
    EXPECT_TRUE(eventually([&] { return !own_copies_hold(*cluster_, 2, {key}, "old"); })) << key;
  }
  // The nodes count what moved (tessera status): at least every missed write and delete.
  double moved = 0, repaired = 0;
  for (size_t node = 0; node < 3; ++node) {
    std::unique_ptr<Client> admin = connect_client(cluster_->address(node));
    ASSERT_NE(admin, nullptr);
    Result<NodeStatus> status = admin->status();
    ASSERT_TRUE(status.is_ok()) << status.status().to_string();
    for (const auto& [name, value] : status->profile_stats) {
      if (name == "anti_entropy_keys_sent" || name == "anti_entropy_keys_taken") moved += value;
      if (name == "anti_entropy_repaired") repaired += value;
    }
  }
  EXPECT_GE(moved, double(missed.size() + deleted.size()));
  EXPECT_GE(repaired, 1);
}

TEST_F(DynamoAntiEntropyTest, AKeyOnlyOneReplicaHoldsReachesTheOthers) {
  // Written into n3's copy alone, as a coordinator that failed after one replica would leave
  // it, with a version a put made.
  Result<Bytes> version = client(2).put("t", "probe-version", "x", with(Consistency::kOne));
  ASSERT_TRUE(version.is_ok()) << version.status().to_string();
  ASSERT_TRUE(write_own_copy(*cluster_, 2, "t", "lonely", *version, "v"));
  for (size_t node = 0; node < 2; ++node) {
    EXPECT_TRUE(eventually([&] { return own_copies_hold(*cluster_, node, {"lonely"}, "v"); }))
        << "node " << node;
  }
}

}  // namespace
}  // namespace tessera::e2e
