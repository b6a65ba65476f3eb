#include "tessera/node/cluster_peer_dialer.h"

#include "rpc_values.h"

namespace tessera::node {
namespace {

[[noreturn]] void refuse(const std::string& address, const char* step, const Status& status) {
  kj::throwFatalException(kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__,
                                        kj::str("peer ", address.c_str(), " refused ", step, ": ",
                                                status.to_string().c_str())));
}

}  // namespace

kj::Promise<rpc::PeerLink::Client> ClusterPeerDialer::dial(
    kj::Network& network, const std::string& address,
    std::shared_ptr<PeerConnection> connection) const {
  return kj::evalNow([&network, address]() { return network.parseAddress(address); })
      .then([](kj::Own<kj::NetworkAddress> resolved) { return resolved->connect(); })
      .then([this, address](kj::Own<kj::AsyncIoStream> stream)
                -> kj::Promise<kj::Own<kj::AsyncIoStream>> {
        if (tls_.get() == nullptr) return kj::mv(stream);
        return tls_->wrapClient(kj::mv(stream), tls_host_of(address));
      })
      .then([this, address, connection](kj::Own<kj::AsyncIoStream> stream) {
        connection->stream = kj::mv(stream);
        connection->rpc = kj::heap<capnp::TwoPartyClient>(*connection->stream);
        return authenticate(connection->rpc->bootstrap().castAs<rpc::Tessera>(), address);
      });
}

kj::Promise<rpc::PeerLink::Client> ClusterPeerDialer::authenticate(
    rpc::Tessera::Client node, const std::string& address) const {
  return node.peerChallengeRequest().send().then(
      [this, node, address](capnp::Response<rpc::Tessera::PeerChallengeResults> challenge) mutable {
        Status asked = read_error(challenge.getError());
        if (!asked.is_ok()) refuse(address, "a challenge", asked);
        auto request = node.authenticatePeerRequest();
        request.setNodeId(node_id_);
        const Bytes proof = secret_->peer_proof(to_bytes(challenge.getNonce()), node_id_);
        request.setProof(as_data(proof));
        return request.send().then(
            [address](capnp::Response<rpc::Tessera::AuthenticatePeerResults> answer) {
              Status proved = read_error(answer.getError());
              if (!proved.is_ok()) refuse(address, "this node's proof", proved);
              return answer.getLink();
            });
      });
}

}  // namespace tessera::node
