// Node-to-node links are authenticated: the attacks that once worked from a plain client
// connection to an AP node (its clients authenticate with tokens too, which peer links need
// none of) (a forged version that supersedes every other, a forged tombstone,
// Replica.dropTable on one node) are refused with `unauthorized`, and the data is unchanged; a
// peer that holds another secret, or replays a proof, is refused as well.
#include <capnp/ez-rpc.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "e2e_env.h"
#include "peer_auth.h"
#include "rpc_values.h"
#include "tessera/crypto.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;

const std::string kApConfig = ap_cluster_config("memory");

constexpr const char* kAdminToken = "node-links-admin";

std::unique_ptr<Client> connect_admin(const std::string& address) {
  ConnectOptions options;
  options.token = kAdminToken;
  Result<std::unique_ptr<Client>> client = Client::connect(address, options);
  EXPECT_TRUE(client.is_ok()) << client.status().to_string();
  return client.is_ok() ? std::move(client).value() : nullptr;
}

RequestOptions all() {
  RequestOptions options;
  options.consistency = Consistency::kAll;
  options.timeout_ms = 2000;
  return options;
}

class NodeLinksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<test::TestCluster>(cluster_options(kApConfig));
    const std::filesystem::path tokens = cluster_->root() / "tokens.toml";
    std::ofstream(tokens) << "[ops]\nrole = \"admin\"\nsha256 = \"" + to_hex(sha256(kAdminToken)) +
                                 "\"\n";
    for (int i = 0; i < 3; ++i) {
      cluster_->add_node(std::string(kApConfig) + "[security]\ntokens_file = \"" +
                         tokens.string() + "\"\n");
    }
    for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(cluster_->start_node(i).is_ok());
    client_ = connect_admin(cluster_->address(0));
    ASSERT_NE(client_, nullptr);
    // Once every node sees the others, a write with W = ALL through each succeeds.
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    bool ready = false;
    while (!ready && std::chrono::steady_clock::now() < deadline) {
      Status created = client_->create_table("t");
      ready = created.is_ok() || created.code() == StatusCode::kTableExists;
      for (size_t i = 0; i < 3 && ready; ++i) {
        ready = connect_admin(cluster_->address(i))->put("t", "probe", "p", all()).is_ok();
      }
      if (!ready) std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(ready) << "the cluster never accepted a write on all three nodes";
  }

  // The one value every replica agrees "k" has, read with R = ALL through node `i`.
  std::string value_everywhere(size_t i) {
    std::unique_ptr<Client> reader = connect_admin(cluster_->address(i));
    Result<GetReply> got = reader->get("t", "k", all());
    if (!got.is_ok()) return "error: " + got.status().to_string();
    if (!got->found) return "(not found)";
    if (got->values.size() != 1) return "(siblings)";
    return got->values[0].data;
  }

  std::unique_ptr<test::TestCluster> cluster_;
  std::unique_ptr<Client> client_;
};

// A forged write through a Replica capability that was never handed out: the pipelined call
// fails, and nothing reaches the store.
void expect_write_refused(capnp::EzRpcClient& connection, rpc::Replica::Client replica,
                          const Bytes& version, bool tombstone) {
  auto write = replica.writeRequest();
  write.setTable("t");
  write.setKey(as_data("k"));
  auto versions = write.initVersions(1);
  versions[0].setVersion(as_data(version));
  versions[0].setTombstone(tombstone);
  versions[0].setValue(as_data(tombstone ? Bytes(8, '\0') : Bytes("forged")));
  bool refused = false;
  try {
    auto answer = write.send().wait(connection.getWaitScope());
    refused = answer.getError().getCode() != rpc::ErrorCode::OK;
  } catch (const kj::Exception&) {
    refused = true;  // the capability is null: no such capability on the node
  }
  EXPECT_TRUE(refused);
}

TEST_F(NodeLinksTest, ForgedReplicaCallsFromAPlainClientAreRefused) {
  // What the attacker would send as "a version that supersedes everything": a real version of
  // this key, as a client sees it in a put's answer.
  Result<Bytes> made = client_->put("t", "k", "original", all());
  ASSERT_TRUE(made.is_ok()) << made.status().to_string();
  for (size_t node = 0; node < 3; ++node) {
    capnp::EzRpcClient connection(cluster_->address(node));
    rpc::Tessera::Client tessera = connection.getMain<rpc::Tessera>();
    auto asked = tessera.replicaRequest().send().wait(connection.getWaitScope());
    EXPECT_EQ(asked.getError().getCode(), rpc::ErrorCode::UNAUTHORIZED);
    std::string message = asked.getError().getMessage().cStr();
    EXPECT_NE(message.find("authenticatePeer"), std::string::npos) << message;
    rpc::Replica::Client replica = asked.getReplica().castAs<rpc::Replica>();
    // 1. A forged version that would supersede the stored one.
    expect_write_refused(connection, replica, *made, false);
    // 2. A forged tombstone.
    expect_write_refused(connection, replica, *made, true);
    // 3. Replica.dropTable on one node.
    bool dropped = false;
    try {
      auto drop = replica.dropTableRequest();
      drop.setName("t");
      dropped = drop.send().wait(connection.getWaitScope()).getError().getCode() ==
                rpc::ErrorCode::OK;
    } catch (const kj::Exception&) {
    }
    EXPECT_FALSE(dropped);
    // Plugins' peer services are not handed out either.
    auto peer = tessera.peerRequest();
    peer.setName("raft");
    EXPECT_EQ(peer.send().wait(connection.getWaitScope()).getError().getCode(),
              rpc::ErrorCode::UNAUTHORIZED);
  }
  // Data unchanged on every replica, the table on every node (W = ALL puts still succeed).
  for (size_t node = 0; node < 3; ++node) {
    EXPECT_EQ(value_everywhere(node), "original") << "through node " << node;
    std::unique_ptr<Client> writer = connect_admin(cluster_->address(node));
    EXPECT_TRUE(writer->put("t", "after-" + std::to_string(node), "v", all()).is_ok());
  }
}

TEST_F(NodeLinksTest, APeerWithAnotherSecretOrAReplayedProofIsRefused) {
  Result<ClusterSecret> wrong = ClusterSecret::from_bytes(std::string(32, 'w'));
  ASSERT_TRUE(wrong.is_ok());
  {
    capnp::EzRpcClient connection(cluster_->address(1));
    auto answer = authenticate_peer(connection, *wrong, "n9");
    EXPECT_EQ(answer.getError().getCode(), rpc::ErrorCode::UNAUTHORIZED);
    std::string message = answer.getError().getMessage().cStr();
    EXPECT_NE(message.find("does not verify"), std::string::npos) << message;
    EXPECT_NE(message.find("n9"), std::string::npos) << message;
    // The link it got is no link: a call on it fails.
    EXPECT_ANY_THROW(answer.getLink().replicaRequest().send().wait(connection.getWaitScope()));
  }
  bool loose = false;
  Result<ClusterSecret> right =
      ClusterSecret::load(cluster_->cluster_secret_file(), "secret", &loose);
  ASSERT_TRUE(right.is_ok()) << right.status().to_string();
  EXPECT_FALSE(loose);
  Bytes nonce;
  Bytes proof;
  {
    capnp::EzRpcClient connection(cluster_->address(1));
    rpc::Tessera::Client node = connection.getMain<rpc::Tessera>();
    // No challenge asked: refused.
    auto early = node.authenticatePeerRequest();
    early.setNodeId("n1");
    early.setProof(as_data(Bytes(32, 'p')));
    EXPECT_EQ(early.send().wait(connection.getWaitScope()).getError().getCode(),
              rpc::ErrorCode::UNAUTHORIZED);
    // A right proof: the link works, once.
    auto challenge = node.peerChallengeRequest().send().wait(connection.getWaitScope());
    nonce = to_bytes(challenge.getNonce());
    EXPECT_EQ(nonce.size(), ClusterSecret::kNonceBytes);
    proof = right->peer_proof(nonce, "n1");
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto request = node.authenticatePeerRequest();
      request.setNodeId("n1");
      request.setProof(as_data(proof));
      auto answer = request.send().wait(connection.getWaitScope());
      if (attempt == 0) {
        ASSERT_EQ(answer.getError().getCode(), rpc::ErrorCode::OK)
            << answer.getError().getMessage().cStr();
        auto replica = answer.getLink().replicaRequest().send().wait(connection.getWaitScope());
        EXPECT_EQ(replica.getError().getCode(), rpc::ErrorCode::OK);
      } else {
        // The nonce is used up: the same proof again is refused.
        EXPECT_EQ(answer.getError().getCode(), rpc::ErrorCode::UNAUTHORIZED);
      }
    }
  }
  // A recorded proof replayed on another connection meets another nonce.
  capnp::EzRpcClient connection(cluster_->address(1));
  rpc::Tessera::Client node = connection.getMain<rpc::Tessera>();
  auto fresh = node.peerChallengeRequest().send().wait(connection.getWaitScope());
  EXPECT_NE(to_bytes(fresh.getNonce()), nonce);
  auto replayed = node.authenticatePeerRequest();
  replayed.setNodeId("n1");
  replayed.setProof(as_data(proof));
  EXPECT_EQ(replayed.send().wait(connection.getWaitScope()).getError().getCode(),
            rpc::ErrorCode::UNAUTHORIZED);
}

// A distributed node without a usable secret does not start, and says which key is wrong.
TEST(NodeLinksConfig, ADistributedNodeWithoutAGoodSecretRefusesToStart) {
  test::TestCluster cluster(cluster_options());
  const std::filesystem::path dir = cluster.root();
  auto run_with = [&](const std::string& security) {
    const std::filesystem::path config = dir / "node.toml";
    std::ofstream(config) << "[node]\nid = \"n1\"\nprofile = \"dynamo\"\nlisten = \"127.0.0.1:0\"\n"
                          << "data_dir = \"" << (dir / "data").string() << "\"\n"
                          << "[engine]\nplugin = \"memory\"\n[conflict]\nplugin = \"vclock\"\n"
                          << "[placement]\nplugin = \"ring\"\n[membership]\nplugin = \"gossip\"\n"
                          << security;
    Result<test::CommandResult> ran =
        cluster.run_node({"--config", config.string()}, 10s);
    EXPECT_TRUE(ran.is_ok()) << ran.status().to_string();
    return ran.is_ok() ? ran->err + ran->out : std::string();
  };
  const std::string none = run_with("");
  EXPECT_NE(none.find("needs [security] cluster_secret_file"), std::string::npos) << none;
  const std::string missing = run_with("[security]\ncluster_secret_file = \"nowhere\"\n");
  EXPECT_NE(missing.find("does not exist"), std::string::npos) << missing;
  std::ofstream(dir / "short.secret") << "too short\n";
  const std::string short_one = run_with("[security]\ncluster_secret_file = \"short.secret\"\n");
  EXPECT_NE(short_one.find("at least 32"), std::string::npos) << short_one;
}

}  // namespace
}  // namespace tessera::e2e
