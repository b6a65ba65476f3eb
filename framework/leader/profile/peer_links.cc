#include "peer_links.h"

namespace tessera::leader {

PeerLinks::Link PeerLinks::link(const NodeId& node) {
  if (auto it = links_.find(node); it != links_.end()) return it->second;
  std::string address;
  for (const NodeInfo& peer : peers_) {
    if (peer.id == node) address = peer.address;
  }
  if (address.empty()) {
    return Link{nullptr, rpc::Tessera::Client(KJ_EXCEPTION(
                             DISCONNECTED, "no address is known for node", node.c_str()))};
  }
  auto connection = std::make_shared<Connection>();
  kj::Promise<rpc::Tessera::Client> connected =
      network_.parseAddress(address)
          .then([](kj::Own<kj::NetworkAddress> resolved) { return resolved->connect(); })
          .then([connection](kj::Own<kj::AsyncIoStream> stream) {
            connection->stream = kj::mv(stream);
            connection->rpc = kj::heap<capnp::TwoPartyClient>(*connection->stream);
            connection->connected = true;
            rpc::Tessera::Client node = connection->rpc->bootstrap().castAs<rpc::Tessera>();
            auto request = node.peerRequest();
            request.setName(kLeaderPeerService);
            return request.send().getService().castAs<rpc::Tessera>();
          });
  Link made{connection, rpc::Tessera::Client(kj::mv(connected))};
  links_.insert_or_assign(node, made);
  return made;
}

void PeerLinks::forget(const NodeId& node, const Connection* connection) {
  auto it = links_.find(node);
  if (it != links_.end() && it->second.connection.get() == connection) links_.erase(it);
}

}  // namespace tessera::leader
