// What the AP ("Dynamo") end-to-end tests share: the cluster's config, waits for it to agree,
// and a peer's view of one node's own copies (its Replica, which no coordinator repairs,
// reached as a peer with the cluster's secret: peer_auth.h).
#pragma once

#include <capnp/ez-rpc.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "e2e_env.h"
#include "peer_auth.h"
#include "tessera/rpc/replica.capnp.h"
#include "tessera/rpc/tessera.capnp.h"

namespace tessera::e2e {

using namespace std::chrono_literals;

inline const std::string kDynamoConfig = ap_cluster_config("lsm");

inline constexpr auto kSettle = 20s;  // bound on every wait for the cluster to agree

inline RequestOptions with(Consistency consistency, Bytes context = {}) {
  RequestOptions options;
  options.consistency = consistency;
  options.timeout_ms = 2000;
  options.context = std::move(context);
  return options;
}

// Retries `op` every 100 ms, for at most kSettle, until it returns true.
template <typename Op>
bool eventually(Op op) {
  const auto deadline = std::chrono::steady_clock::now() + kSettle;
  while (std::chrono::steady_clock::now() < deadline) {
    if (op()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// Whether `client`'s node knows `nodes` members that own their ranges (none still joining).
inline bool members_own_their_ranges(Client& client, size_t nodes) {
  Result<std::vector<MemberInfo>> members = client.members();
  if (!members.is_ok()) return false;
  size_t owners = 0;
  for (const MemberInfo& m : *members) {
    if (m.joining) return false;
    owners += m.state == "alive" ? 1 : 0;
  }
  return owners == nodes;
}

// Starts `nodes` nodes of `cluster`, connects a client to the first, and waits until the first
// node knows them all as owners of their ranges (nodes started together found the cluster).
inline std::unique_ptr<Client> start_nodes(test::TestCluster& cluster, size_t nodes) {
  for (size_t i = 0; i < nodes; ++i) cluster.add_node();
  for (size_t i = 0; i < nodes; ++i) {
    Status started = cluster.start_node(i);
    EXPECT_TRUE(started.is_ok()) << started.to_string();
  }
  std::unique_ptr<Client> client = connect_client(cluster.address(0));
  if (client != nullptr) {
    EXPECT_TRUE(eventually([&] { return members_own_their_ranges(*client, nodes); }))
        << "the nodes did not all come to own their ranges";
  }
  return client;
}

// Creates table "t" through `client` once the cluster has converged: writes of ALL to `probes`
// keys (spread over the ring) then succeed, so every owner of them has the table.
inline bool create_table_when_ready(Client& client, int probes) {
  return eventually([&] {
    Status created = client.create_table("t");
    if (!created.is_ok() && created.code() != StatusCode::kTableExists) return false;
    for (int i = 0; i < probes; ++i) {
      if (!client.put("t", "probe" + std::to_string(i), "p", with(Consistency::kAll)).is_ok()) {
        return false;
      }
    }
    return true;
  });
}

// Puts "<prefix>0" ... "<prefix><count - 1>" = `value` with consistency ALL; the keys
// acknowledged.
inline std::vector<std::string> put_all(Client& client, const std::string& prefix, int count,
                                        const std::string& value = "v") {
  std::vector<std::string> acknowledged;
  for (int i = 0; i < count; ++i) {
    const std::string key = prefix + std::to_string(i);
    if (client.put("t", key, value, with(Consistency::kAll)).is_ok()) acknowledged.push_back(key);
  }
  return acknowledged;
}

// Whether node `node`'s own copy of each of `keys` in table "t" holds `value`, read through
// its Replica (no coordinator, so no read repair), as a peer holding the cluster's secret.
inline bool own_copies_hold(const test::TestCluster& cluster, size_t node,
                            const std::vector<std::string>& keys, const std::string& value) {
  capnp::EzRpcClient connection(cluster.address(node));
  rpc::Replica::Client replica = replica_of(connection, cluster.cluster_secret_file());
  for (const std::string& key : keys) {
    auto read = replica.readRequest();
    read.setTable("t");
    read.setKey(kj::arrayPtr(reinterpret_cast<const kj::byte*>(key.data()), key.size()));
    auto response = read.send().wait(connection.getWaitScope());
    if (response.getError().getCode() != rpc::ErrorCode::OK) return false;
    bool found = false;
    for (auto version : response.getVersions()) {
      auto data = version.getValue();
      found = found || (!version.getTombstone() &&
                        std::string(data.asChars().begin(), data.size()) == value);
    }
    if (!found) return false;
  }
  return true;
}

// Three nodes of a config started, with a client connected to each.
class ThreeDynamoNodes : public ::testing::Test {
 protected:
  void start_three(const std::string& config) {
    cluster_ = std::make_unique<test::TestCluster>(cluster_options(config));
    for (int i = 0; i < 3; ++i) cluster_->add_node();
    for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(cluster_->start_node(i).is_ok());
    for (size_t i = 0; i < 3; ++i) {
      clients_[i] = connect_client(cluster_->address(i));
      ASSERT_NE(clients_[i], nullptr);
    }
    ASSERT_TRUE(eventually([&] { return members_own_their_ranges(*clients_[0], 3); }))
        << "the nodes did not all come to own their ranges";
  }

  Client& client(size_t i) { return *clients_[i]; }

  std::unique_ptr<test::TestCluster> cluster_;
  std::unique_ptr<Client> clients_[3];  // after cluster_: closed before the nodes stop
};

}  // namespace tessera::e2e
