// What a peer does to reach a node's node-to-node API, for tests that must act on one node's
// own copies (or attack it): the challenge, a proof made from a secret file, the PeerLink.
#pragma once

#include <capnp/ez-rpc.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "rpc_values.h"
#include "tessera/cluster_secret.h"
#include "tessera/rpc/replica.capnp.h"
#include "tessera/rpc/tessera.capnp.h"

namespace tessera::e2e {

// The answer of authenticatePeer on `connection` as node `as` with `secret`.
inline capnp::Response<rpc::Tessera::AuthenticatePeerResults> authenticate_peer(
    capnp::EzRpcClient& connection, const ClusterSecret& secret, const std::string& as) {
  rpc::Tessera::Client node = connection.getMain<rpc::Tessera>();
  auto challenge = node.peerChallengeRequest().send().wait(connection.getWaitScope());
  EXPECT_EQ(challenge.getError().getCode(), rpc::ErrorCode::OK)
      << challenge.getError().getMessage().cStr();
  auto request = node.authenticatePeerRequest();
  request.setNodeId(as);
  const Bytes proof = secret.peer_proof(to_bytes(challenge.getNonce()), as);
  request.setProof(as_data(proof));
  return request.send().wait(connection.getWaitScope());
}

// The Replica of the node `connection` reaches, as a peer that holds the cluster's secret file
// gets it.
inline rpc::Replica::Client replica_of(capnp::EzRpcClient& connection,
                                       const std::filesystem::path& secret_file) {
  bool loose = false;
  Result<ClusterSecret> secret = ClusterSecret::load(secret_file, "cluster secret", &loose);
  EXPECT_TRUE(secret.is_ok()) << secret.status().to_string();
  auto answer = authenticate_peer(connection, *secret, "e2e-peer");
  EXPECT_EQ(answer.getError().getCode(), rpc::ErrorCode::OK)
      << answer.getError().getMessage().cStr();
  return answer.getLink()
      .replicaRequest()
      .send()
      .wait(connection.getWaitScope())
      .getReplica()
      .castAs<rpc::Replica>();
}

}  // namespace tessera::e2e
