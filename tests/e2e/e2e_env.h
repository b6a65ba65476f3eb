// Shared setup of the end-to-end tests: where the binaries are, and a fixture with one node on
// the memory engine and a connected client.
//
// Thread-safety: a fixture and its client belong to the test's thread; tests that need more
// threads make one Client per thread (tessera::Client is single-threaded).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tessera/client.h"
#include "test_cluster.h"

namespace tessera::e2e {

inline const std::filesystem::path kNodeBinary = TESSERA_NODE_BINARY;
inline const std::filesystem::path kCliBinary = TESSERA_CLI_BINARY;
inline const std::filesystem::path kPluginDir = TESSERA_PLUGIN_DIR;

inline test::TestCluster::Options cluster_options(
    std::string config_template = test::kMemoryNodeConfig) {
  test::TestCluster::Options options;
  options.node_binary = kNodeBinary;
  options.config_template = std::move(config_template);
  return options;
}

// Three nodes of a CP cluster on `engine` (range, raft with fast ticks, lww); every node's
// config names every node, so the template places the node keys itself.
inline std::string leader_cluster_config(const std::string& engine) {
  return R"([node]
id = "{{id}}"
profile = "leader"
listen = "{{listen}}"
data_dir = "{{data_dir}}"

[engine]
plugin = ")" + engine + R"("

[conflict]
plugin = "lww"

[placement]
plugin = "range"

[membership]
plugin = "raft"

[membership.config]
tick_ms = 10
election_ticks = 30
heartbeat_ticks = 3

[leader]
peers = ["n1={{addr:0}}", "n2={{addr:1}}", "n3={{addr:2}}"]
replicas = 3
)";
}

// Nodes of an AP cluster on `engine` (ring with N = 3, gossip seeded by the first node with
// fast ticks, vclock), R = W = 2 by default; a joining node waits 1 s before it copies.
inline std::string ap_cluster_config(const std::string& engine) {
  return "[node]\n"
         "profile = \"dynamo\"\n"
         "[engine]\n"
         "plugin = \"" + engine + "\"\n"
         "[conflict]\n"
         "plugin = \"vclock\"\n"
         "[placement]\n"
         "plugin = \"ring\"\n"
         "[placement.config]\n"
         "replicas = 3\n"
         "[membership]\n"
         "plugin = \"gossip\"\n"
         "[membership.config]\n"
         "seeds = [\"{{addr:0}}\"]\n"
         "tick_ms = 20\n"
         "[quorum]\n"
         "read_quorum = 2\n"
         "write_quorum = 2\n"
         "join_settle_ms = 1000\n";
}

// Connects to `address`; on failure records a test failure and returns null.
inline std::unique_ptr<Client> connect_client(const std::string& address) {
  Result<std::unique_ptr<Client>> client = Client::connect(address);
  EXPECT_TRUE(client.is_ok()) << client.status().to_string();
  return client.is_ok() ? std::move(client).value() : nullptr;
}

// One node on the memory engine and a client connected to it.
class SingleNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<test::TestCluster>(cluster_options(config_template()));
    Status started = cluster_->start(1);
    ASSERT_TRUE(started.is_ok()) << started.to_string();
    client_ = connect_client(cluster_->address(0));
    ASSERT_NE(client_, nullptr);
  }

  virtual std::string config_template() const { return test::kMemoryNodeConfig; }

  Client& client() { return *client_; }
  const std::string& address() const { return cluster_->address(0); }

  std::unique_ptr<test::TestCluster> cluster_;
  std::unique_ptr<Client> client_;  // declared after cluster_: closed before the node stops
};

}  // namespace tessera::e2e
