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
      dialer_.dial(network_, address, connection).then([connection](rpc::PeerLink::Client peer) {
        connection->connected = true;
        auto request = peer.peerRequest();
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
