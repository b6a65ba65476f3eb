// What the quorum router's source files share: its private types and the one way it calls a
// peer. Internal to tessera_dynamo.
#pragma once

#include <capnp/rpc-twoparty.h>

#include <memory>
#include <string>
#include <vector>

#include "rpc_values.h"
#include "tessera/dynamo/quorum_router.h"

namespace tessera::dynamo {

// Whom requests are sent to. A suspect may well be alive (SWIM suspects before it convicts),
// and a dead one fails fast: only dead and left members are passed over.
inline bool is_up(NodeState state) {
  return state == NodeState::kAlive || state == NodeState::kSuspect;
}

struct QuorumRouter::Pending {
  quorum::Coordinator coordinator;
  std::string table;
  Bytes key;
  std::vector<VersionedValue> payload;  // a write's versions
  kj::Own<kj::PromiseFulfiller<Result<quorum::Answer>>> fulfiller;
  // The first refusal a replica gave that is the request's fault (TooLarge, InvalidArgument,
  // NoSuchTable): the client gets it instead of a bare "too few answered".
  Status refusal;
};

// A peer's Replica.scan answer as a page, or its error.
template <typename Response>
Result<StoreVersionsPage> to_versions_page(Response response) {
  TESSERA_RETURN_IF_ERROR(from_error(response.getError()));
  StoreVersionsPage page;
  for (auto item : response.getItems()) {
    page.items.push_back({to_bytes(item.getKey()), to_versions(item.getVersions())});
  }
  page.next_page_token = to_bytes(response.getNextPageToken());
  return page;
}

// A replica's answer that says the request, not the replica, is at fault.
inline bool is_refusal(const Status& status) {
  return status.code() == StatusCode::kTooLarge || status.code() == StatusCode::kInvalidArgument ||
         status.code() == StatusCode::kNoSuchTable;
}

// One connection to a peer: the stream and the RPC system over it, kept for as long as the
// peer's Replica client is used (shared with the dial).
struct QuorumRouter::PeerLink : PeerConnection {};

struct QuorumRouter::PeerWrites {
  struct Entry {
    std::string table;
    Bytes key;
    NodeId hint_for;
    std::vector<VersionedValue> versions;
    kj::Own<kj::PromiseFulfiller<Status>> acked;
  };
  std::vector<Entry> entries;
  size_t bytes = 0;
  kj::Duration timeout = 0 * kj::MILLISECONDS;  // the first write's
};

struct QuorumRouter::Peer {
  std::shared_ptr<PeerLink> link;
  rpc::Replica::Client client;
};

template <typename T, typename Send, typename Reply, typename Failed>
kj::Promise<T> QuorumRouter::call_peer(const NodeId& node, kj::Duration timeout, Send send,
                                       Reply reply, Failed failed) {
  Peer to = peer(node);
  std::shared_ptr<PeerLink> link = to.link;
  kj::Promise<T> answered =
      send(to.client).then(kj::mv(reply)).catch_([this, node, link, failed](kj::Exception&& e) {
        forget_peer(node, link.get());
        return failed(Status::unavailable("node " + node + ": " + e.getDescription().cStr()));
      });
  return answered
      .exclusiveJoin(timer_.afterDelay(timeout).then([this, node, link, failed]() {
        // A connect that never completes (a partition that drops packets) is given up on, so
        // that the next call tries afresh; a connected peer that is slow keeps its connection.
        if (link == nullptr || link->rpc.get() == nullptr) forget_peer(node, link.get());
        return failed(Status::timeout("node " + node + " did not answer in time"));
      }))
      .attach(kj::mv(link));
}

}  // namespace tessera::dynamo
