// The AP ("Dynamo") profile end to end: three tessera-node processes on loopback with the ring,
// gossip and vector clocks, N = 3, R = W = 2, driven through the client API. Nodes are killed
// with SIGKILL and restarted: acknowledged writes must survive the loss of a minority, and the
// cluster must keep answering while one node is down.
#include <capnp/ez-rpc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "dynamo_env.h"
#include "hash_ring.h"
#include "tessera/rpc/replica.capnp.h"
#include "tessera/rpc/tessera.capnp.h"

namespace tessera::e2e {
namespace {

class DynamoTest : public ThreeDynamoNodes {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(start_three(kDynamoConfig));
    ASSERT_TRUE(create_table_everywhere("t"));
  }

  // Creates the table once every node sees the others: a write with W = ALL through each node
  // then succeeds.
  bool create_table_everywhere(const std::string& table) {
    const auto deadline = std::chrono::steady_clock::now() + kSettle;
    while (std::chrono::steady_clock::now() < deadline) {
      Status created = client(0).create_table(table);
      if (created.is_ok() || created.code() == StatusCode::kTableExists) {
        bool everywhere = true;
        for (size_t i = 0; i < 3 && everywhere; ++i) {
          everywhere = client(i).put(table, "probe", "p", with(Consistency::kAll)).is_ok();
        }
        if (everywhere) return true;
      }
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "the cluster never accepted a write on all three nodes";
    return false;
  }

  std::optional<Bytes> value_at(size_t node, const std::string& key, Consistency c) {
    Result<GetReply> got = client(node).get("t", key, with(c));
    if (!got.is_ok() || !got->found || got->values.size() != 1) return std::nullopt;
    return got->values[0].data;
  }
};

// `ring` lists the token ranges in order, covering the whole token space, each with N owners.
TEST_F(DynamoTest, RingListsTokenRangesWithTheirOwners) {
  Result<std::vector<RangeInfo>> ring = client(1).ring();
  ASSERT_TRUE(ring.is_ok()) << ring.status().to_string();
  ASSERT_GT(ring->size(), 3u);
  EXPECT_TRUE(ring->front().start.empty());
  EXPECT_TRUE(ring->back().end.empty());
  size_t here = 0;
  for (size_t i = 0; i < ring->size(); ++i) {
    const RangeInfo& r = (*ring)[i];
    EXPECT_TRUE(r.table.empty());
    EXPECT_EQ(r.voters.size(), 3u) << "range " << i;
    if (i + 1 < ring->size()) {
      EXPECT_EQ(r.end, (*ring)[i + 1].start) << "a gap after range " << i;
    }
    if (r.hosted) ++here;
  }
  EXPECT_EQ(here, ring->size()) << "with N = 3 of 3 nodes, every node owns every range";
  Result<std::vector<MemberInfo>> members = client(2).members();
  ASSERT_TRUE(members.is_ok()) << members.status().to_string();
  EXPECT_EQ(members->size(), 3u);
}

TEST_F(DynamoTest, AnyNodeCoordinatesAndReadsSeeAcknowledgedWrites) {
  for (int i = 0; i < 30; ++i) {
    const std::string key = "k" + std::to_string(i);
    Status put =
        client(i % 3).put("t", key, "v" + std::to_string(i), with(Consistency::kQuorum)).status();
    ASSERT_TRUE(put.is_ok()) << put.to_string();
  }
  for (int i = 0; i < 30; ++i) {
    const std::string key = "k" + std::to_string(i);
    EXPECT_EQ(value_at((i + 1) % 3, key, Consistency::kQuorum), "v" + std::to_string(i)) << key;
  }
  // Deletes go through the quorum too, with the context of what they delete (a blind delete
  // is concurrent with the value under vector clocks, and would stand beside it as a sibling).
  Result<GetReply> read = client(1).get("t", "k0", with(Consistency::kQuorum));
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  ASSERT_TRUE(client(1).remove("t", "k0", with(Consistency::kQuorum, read->context)).is_ok());
  Result<GetReply> gone = client(2).get("t", "k0", with(Consistency::kQuorum));
  ASSERT_TRUE(gone.is_ok()) << gone.status().to_string();
  EXPECT_FALSE(gone->found);
  // A table that does not exist is named as such, not taken for missing replicas.
  EXPECT_EQ(client(2).put("nope", "k", "v").status().code(), StatusCode::kNoSuchTable);
  // A table change through any node answers once every member has it.
  ASSERT_TRUE(client(1).create_table("u").is_ok());
  for (size_t i = 0; i < 3; ++i) {
    Result<std::vector<std::string>> tables = client(i).list_tables();
    ASSERT_TRUE(tables.is_ok()) << tables.status().to_string();
    EXPECT_NE(std::find(tables->begin(), tables->end(), "u"), tables->end()) << "node " << i;
  }
  EXPECT_EQ(client(2).create_table("u").code(), StatusCode::kTableExists);
  // A table only the coordinator knows (made on its Replica alone, as after a create that
  // reached no peer): the peers learn it at the first write that needs them, which succeeds.
  {
    capnp::EzRpcClient connection(cluster_->address(0));
    rpc::Replica::Client replica = replica_of(connection, cluster_->cluster_secret_file());
    auto create = replica.createTableRequest();
    create.setName("lonely");
    ASSERT_EQ(create.send().wait(connection.getWaitScope()).getError().getCode(),
              rpc::ErrorCode::OK);
  }
  Status lonely = client(0).put("lonely", "k", "v", with(Consistency::kAll)).status();
  EXPECT_TRUE(lonely.is_ok()) << lonely.to_string();
  EXPECT_EQ(client(2).get("lonely", "k", with(Consistency::kOne))->values.size(), 1u);
  // What the profile does not offer says so.
  EXPECT_EQ(client(0).write("t", {{"x", Bytes("y")}}).code(), StatusCode::kNotSupported);
}

// Replica.writeBatch answers each write on its own: one to a missing table fails alone, the
// others are stored (and read back from that replica), and writes past the batch limit are
// refused, not dropped.
TEST_F(DynamoTest, AReplicaWriteBatchAnswersEachWriteOnItsOwn) {
  capnp::EzRpcClient connection(cluster_->address(1));
  rpc::Replica::Client replica = replica_of(connection, cluster_->cluster_secret_file());
  Result<Bytes> made = client(1).put("t", "batch-a", "seed");  // a real version to send
  ASSERT_TRUE(made.is_ok()) << made.status().to_string();
  auto request = replica.writeBatchRequest();
  constexpr uint32_t kWrites = 1026;  // two past the limit of 1024
  auto writes = request.initWrites(kWrites);
  for (uint32_t i = 0; i < kWrites; ++i) {
    const std::string key = "batch-" + std::to_string(i);
    writes[i].setTable(i == 1 ? "missing" : "t");
    writes[i].setKey(kj::arrayPtr(reinterpret_cast<const kj::byte*>(key.data()), key.size()));
    auto version = writes[i].initVersions(1)[0];
    version.setVersion(
        kj::arrayPtr(reinterpret_cast<const kj::byte*>(made->data()), made->size()));
    version.setValue(kj::arrayPtr(reinterpret_cast<const kj::byte*>(key.data()), key.size()));
  }
  auto response = request.send().wait(connection.getWaitScope());
  auto errors = response.getErrors();
  ASSERT_EQ(errors.size(), kWrites);
  EXPECT_EQ(errors[0].getCode(), rpc::ErrorCode::OK) << errors[0].getMessage().cStr();
  EXPECT_EQ(errors[1].getCode(), rpc::ErrorCode::NO_SUCH_TABLE);
  EXPECT_EQ(errors[1023].getCode(), rpc::ErrorCode::OK) << errors[1023].getMessage().cStr();
  EXPECT_EQ(errors[1024].getCode(), rpc::ErrorCode::INVALID_ARGUMENT);
  EXPECT_EQ(errors[1025].getCode(), rpc::ErrorCode::INVALID_ARGUMENT);
  auto read = replica.readRequest();
  read.setTable("t");
  const std::string key = "batch-1023";
  read.setKey(kj::arrayPtr(reinterpret_cast<const kj::byte*>(key.data()), key.size()));
  auto stored = read.send().wait(connection.getWaitScope());
  ASSERT_EQ(stored.getError().getCode(), rpc::ErrorCode::OK);
  ASSERT_EQ(stored.getVersions().size(), 1u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(stored.getVersions()[0].getValue().begin()),
                        stored.getVersions()[0].getValue().size()),
            key);
}

// The keys of [s, t) as `client` pages them, `page_keys` at a time.
std::vector<std::string> scan_all(Client& client, size_t page_keys) {
  std::vector<std::string> keys;
  Bytes token;
  for (int pages = 0; pages < 1000; ++pages) {
    Result<ScanPage> page = client.scan("t", "s", "t", static_cast<uint32_t>(page_keys), token);
    EXPECT_TRUE(page.is_ok()) << page.status().to_string();
    if (!page.is_ok()) break;
    for (const ScanItem& item : page->items) keys.push_back(item.key);
    token = page->next_page_token;
    if (token.empty()) break;
  }
  return keys;
}

TEST_F(DynamoTest, ScansMergeEveryReplicaInKeyOrderAndSkipDeletedKeys) {
  std::vector<std::string> expected;
  for (int i = 0; i < 40; ++i) {
    char key[8];
    std::snprintf(key, sizeof key, "s%02d", i);
    expected.push_back(key);
    ASSERT_TRUE(client(i % 3).put("t", key, "v", with(Consistency::kQuorum)).is_ok());
  }
  for (size_t node = 0; node < 3; ++node) {
    EXPECT_EQ(scan_all(client(node), 7), expected) << "from node " << node;
  }
  Result<GetReply> read = client(0).get("t", "s05", with(Consistency::kQuorum));
  ASSERT_TRUE(read.is_ok());
  ASSERT_TRUE(client(0).remove("t", "s05", with(Consistency::kQuorum, read->context)).is_ok());
  expected.erase(expected.begin() + 5);
  EXPECT_EQ(scan_all(client(1), 0), expected) << "a deleted key stays deleted in a scan";
  // With a node down every key still has two copies among the others.
  cluster_->kill_node(2);
  clients_[2].reset();
  EXPECT_TRUE(eventually([&] { return scan_all(client(0), 9) == expected; }));
}

TEST_F(DynamoTest, ConcurrentBlindWritesBecomeSiblingsThatAContextWriteResolves) {
  ASSERT_TRUE(client(0).put("t", "cart", "milk", with(Consistency::kAll)).is_ok());
  ASSERT_TRUE(client(1).put("t", "cart", "eggs", with(Consistency::kAll)).is_ok());
  Result<GetReply> got = client(2).get("t", "cart", with(Consistency::kAll));
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  ASSERT_EQ(got->values.size(), 2u) << "two blind writes are concurrent";
  ASSERT_TRUE(
      client(2).put("t", "cart", "milk+eggs", with(Consistency::kAll, got->context)).is_ok());
  EXPECT_EQ(value_at(0, "cart", Consistency::kAll), "milk+eggs");
}

TEST_F(DynamoTest, AcknowledgedWritesSurviveTheKillOfOneNodeAndServiceGoesOn) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        client(0).put("t", "a" + std::to_string(i), "before", with(Consistency::kQuorum)).is_ok());
  }
  cluster_->kill_node(2);
  clients_[2].reset();
  // Two of three replicas are left: W = R = 2 still answers, at once or after the failure
  // detector catches up.
  for (int i = 0; i < 20; ++i) {
    const std::string key = "b" + std::to_string(i);
    EXPECT_TRUE(eventually([&] {
      return client(i % 2).put("t", key, "during", with(Consistency::kQuorum)).is_ok();
    })) << key;
  }
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(value_at(1, "a" + std::to_string(i), Consistency::kQuorum), "before");
  }
  // ALL cannot be had now, and the error says how many answered.
  Result<GetReply> all = client(0).get("t", "a0", with(Consistency::kAll));
  EXPECT_EQ(all.status().code(), StatusCode::kQuorumUnavailable) << all.status().to_string();
  EXPECT_EQ(all.status().detail().required, 3u) << "the counts cross the RPC as fields";
  EXPECT_LT(all.status().detail().answered, 3u);

  // The killed node comes back. Reads that include it see every write, and repair its copy
  // of the ones it missed while it was down.
  ASSERT_TRUE(cluster_->start_node(2).is_ok());
  clients_[2] = connect_client(cluster_->address(2));
  ASSERT_NE(clients_[2], nullptr);
  for (int i = 0; i < 20; ++i) {
    const std::string key = "b" + std::to_string(i);
    EXPECT_TRUE(eventually([&] { return value_at(2, key, Consistency::kAll) == "during"; })) << key;
  }
  // With the other two gone, only its own copy can answer a read of ONE: the repairs are there.
  cluster_->kill_node(0);
  cluster_->kill_node(1);
  for (int i = 0; i < 20; ++i) {
    const std::string key = "b" + std::to_string(i);
    EXPECT_TRUE(eventually([&] { return value_at(2, key, Consistency::kOne) == "during"; }))
        << key << " was not repaired on the node that missed it";
  }
  // One node of three: no quorum, and the error is typed.
  Status lonely = client(2).put("t", "c", "x", with(Consistency::kQuorum)).status();
  EXPECT_EQ(lonely.code(), StatusCode::kQuorumUnavailable) << lonely.to_string();
}

TEST_F(DynamoTest, APausedReplicaDoesNotHoldUpTheQuorum) {
  ASSERT_TRUE(cluster_->pause_node(2).is_ok());
  // The paused node accepts connections but never answers: W = 2 comes from the other two.
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(
        client(i % 2).put("t", "p" + std::to_string(i), "v", with(Consistency::kQuorum)).is_ok());
  }
  Result<GetReply> all = client(0).get("t", "p0", with(Consistency::kAll));
  EXPECT_EQ(all.status().code(), StatusCode::kQuorumUnavailable) << all.status().to_string();
  ASSERT_TRUE(cluster_->resume_node(2).is_ok());
  EXPECT_TRUE(eventually([&] { return value_at(2, "p9", Consistency::kAll) == "v"; }));
}

// Up to `owned_max` of the keys "<prefix>0" ... "<prefix><candidates - 1>" that `node` owns on a
// ring of `cluster`'s nodes.
std::vector<std::string> keys_owned_by(const test::TestCluster& cluster, const std::string& node,
                                       const std::string& prefix, size_t candidates,
                                       size_t owned_max) {
  std::vector<NodeInfo> members;
  for (size_t i = 0; i < cluster.size(); ++i) {
    members.push_back({cluster.node_id(i), cluster.address(i), "", NodeState::kAlive});
  }
  const ring::HashRing ring(members, 64);
  std::vector<std::string> owned;
  for (size_t i = 0; owned.size() < owned_max && i < candidates; ++i) {
    const std::string key = prefix + std::to_string(i);
    std::vector<NodeId> list = ring.preference_list(ring::key_token(key), 3);
    if (std::find(list.begin(), list.begin() + 3, node) != list.begin() + 3) owned.push_back(key);
  }
  return owned;
}

// Four nodes, N = 3: a key has a fallback. With an owner down, its writes go to the fallback as
// hints, and reach the owner once it is back.
TEST(DynamoHints, WritesAFallbackTookReachTheirOwnerWhenItIsBack) {
  test::TestCluster cluster(cluster_options(kDynamoConfig));
  std::unique_ptr<Client> coordinator = start_nodes(cluster, 4);
  ASSERT_NE(coordinator, nullptr);
  // Every node must have the table before one goes down.
  ASSERT_TRUE(create_table_when_ready(*coordinator, 8));

  // The keys n4 owns, from the same ring the nodes compute.
  const std::vector<std::string> owned = keys_owned_by(cluster, "n4", "h", 1000, 10);
  ASSERT_EQ(owned.size(), 10u);

  cluster.kill_node(3);
  // W = ALL needs three acks: once the coordinator sees n4 down, a fallback stands in for it.
  for (const std::string& key : owned) {
    EXPECT_TRUE(eventually([&] {
      return coordinator->put("t", key, "while-away", with(Consistency::kAll)).is_ok();
    })) << key;
  }

  // The fallbacks hold them as hints for n4, as `tessera hints` shows.
  uint64_t pending = 0;
  for (size_t node = 0; node < 3; ++node) {
    std::unique_ptr<Client> peer = connect_client(cluster.address(node));
    ASSERT_NE(peer, nullptr);
    Result<HintCounts> hints = peer->hints();
    ASSERT_TRUE(hints.is_ok()) << hints.status().to_string();
    for (const auto& [target, count] : hints->pending) {
      EXPECT_EQ(target, "n4");
      pending += count;
    }
  }
  EXPECT_GE(pending, owned.size()) << "each hinted write is a hint on some fallback";

  ASSERT_TRUE(cluster.start_node(3).is_ok());
  // Read n4's own copy, until the handoff (a round a second) has brought every key.
  const bool delivered =
      eventually([&] { return own_copies_hold(cluster, 3, owned, "while-away"); });
  EXPECT_TRUE(delivered) << "the hinted writes never reached their owner";
}

}  // namespace
}  // namespace tessera::e2e
