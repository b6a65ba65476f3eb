// ClientService: the node's implementation of the client API (framework/schema/tessera.capnp).
//
// Each RPC copies its arguments out of the request, hands them to the node's request path (the
// profile: request_path.h) and fills the answer back on the event loop thread. Errors become
// typed schema errors with their details; a request that outlives its deadline is answered with
// `timeout` (the work itself may still complete). Nothing a client sends can crash the node:
// every failure is an Error.
//
// Each connection gets a ClientService of its own (ClientServices::for_connection), so that
// what the connection proved stays with it: the nonce of its peer challenge, and its role. On a
// node with client tokens (ClientServiceOptions::tokens) a connection starts with no role, and
// Tessera.authenticate answers a new ClientService bound to the token's role (client_tokens.h
// lists what each role allows); every other call checks the role first and answers
// unauthorized or forbidden. Without tokens every connection has role admin. The node-to-node
// side (the AP `Replica`, the plugins' and the profile's peer services) is handed out only
// through a `PeerLink`, to a peer that answered this connection's challenge with a proof made
// with the cluster secret (Tessera.peerChallenge, Tessera.authenticatePeer); Tessera.replica and
// Tessera.peer answer unauthorized.
//
// Thread-safety: lives on the event loop thread. Ownership: borrows the path, the timer and
// what the options point to; all outlive every service and link made from them.
#pragma once

#include <capnp/capability.h>
#include <kj/timer.h>

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "tessera/cluster_secret.h"
#include "tessera/membership.h"
#include "tessera/peer_service.h"
#include "tessera/node/client_tokens.h"
#include "tessera/node/local_store.h"
#include "tessera/node/node_status.h"
#include "tessera/node/request_path.h"
#include "tessera/rpc/replica.capnp.h"
#include "tessera/rpc/tessera.capnp.h"

namespace tessera::node {

struct ClientServiceOptions {
  uint32_t default_timeout_ms = 10'000;  // for a request that names no timeout
  // A batch over it is refused before its operations are copied (the store checks again).
  size_t batch_ops_max = StoreLimits{}.batch_ops_max;
  // The client tokens (Tessera.authenticate); borrowed. Null: clients are not authenticated and
  // every connection has role admin.
  const TokenTable* tokens = nullptr;
  // The secret peers prove (Tessera.authenticatePeer); borrowed. Null on a node that runs no
  // distributed profile: it answers peerChallenge and authenticatePeer with notSupported.
  const ClusterSecret* cluster_secret = nullptr;
  // What the authenticated peer `peer` gets from PeerLink.replica (the AP profile's replica
  // side, bound to that peer's id); unset or none elsewhere.
  std::function<kj::Maybe<rpc::Replica::Client>(const NodeId& peer)> replica = nullptr;
  // When set, offers the plugins' node-to-node services (PeerLink.peer); borrowed, outlives the
  // service. PeerLink.peer touches no request path.
  Membership* membership = nullptr;
  // The profile's own node-to-node services, asked before the membership plugin's; may be
  // empty. Called on the event loop thread.
  std::function<PeerService*(std::string_view name)> profile_peer_services = nullptr;
  // What Tessera.status answers; NotSupported when unset.
  std::function<kj::Promise<Result<NodeStatusReport>>()> status_report = nullptr;
  // What Tessera.members and Tessera.ring answer; NotSupported when unset.
  std::function<Result<std::vector<NodeInfo>>()> members = nullptr;
  std::function<kj::Promise<Result<std::vector<RangeReport>>>()> ring = nullptr;
  std::function<kj::Promise<Result<HintReport>>()> hints = nullptr;
  std::function<kj::Promise<Result<uint64_t>>()> decommission = nullptr;
  std::function<kj::Promise<Status>(const NodeId& id)> remove_node = nullptr;
};

// What every ClientService made from it shares.
struct ClientServiceContext {
  std::string node_id;
  RequestPath* path;  // may be null for a service that only offers peer services (tests)
  kj::Timer* timer;
  ClientServiceOptions options;
};

class ClientService final : public rpc::Tessera::Server {
 public:
  // One service of its own, with role admin (a service that a peer service hands out, tests).
  // `path` may be null for a service that only offers peer services (tests).
  ClientService(std::string node_id, RequestPath* path, kj::Timer* timer,
                ClientServiceOptions options);
  ClientService(std::shared_ptr<ClientServiceContext> context, Role role);

 protected:
  kj::Promise<void> hello(HelloContext context) override;
  kj::Promise<void> listTables(ListTablesContext context) override;
  kj::Promise<void> createTable(CreateTableContext context) override;
  kj::Promise<void> dropTable(DropTableContext context) override;
  kj::Promise<void> put(PutContext context) override;
  kj::Promise<void> get(GetContext context) override;
  kj::Promise<void> remove(RemoveContext context) override;
  kj::Promise<void> scan(ScanContext context) override;
  kj::Promise<void> write(WriteContext context) override;
  kj::Promise<void> replica(ReplicaContext context) override;
  kj::Promise<void> peer(PeerContext context) override;
  kj::Promise<void> status(StatusContext context) override;
  kj::Promise<void> members(MembersContext context) override;
  kj::Promise<void> ring(RingContext context) override;
  kj::Promise<void> hints(HintsContext context) override;
  kj::Promise<void> decommission(DecommissionContext context) override;
  kj::Promise<void> removeNode(RemoveNodeContext context) override;
  kj::Promise<void> peerChallenge(PeerChallengeContext context) override;
  kj::Promise<void> authenticatePeer(AuthenticatePeerContext context) override;
  kj::Promise<void> authenticate(AuthenticateContext context) override;

 private:
  // OK when this session's role allows `call`, which needs `needed`.
  Status allowed(Role needed, std::string_view call) const;
  // `answer`, or Timeout once the request's deadline passes.
  template <typename R>
  kj::Promise<R> within_deadline(const RequestParams& params, kj::Promise<R> answer);
  RequestParams params_of(rpc::RequestOptions::Reader options) const;

  const std::shared_ptr<ClientServiceContext> context_;
  // Borrowed from context_, for the calls' brevity.
  const std::string& node_id_;
  RequestPath* const path_;
  kj::Timer* const timer_;
  ClientServiceOptions& options_;
  const Role role_;
  // The nonce of this connection's last peerChallenge, until an authenticatePeer uses it.
  std::optional<Bytes> challenge_;
};

// Makes the ClientService of each connection of one event loop, over one shared context.
class ClientServices {
 public:
  ClientServices(std::string node_id, RequestPath* path, kj::Timer* timer,
                 ClientServiceOptions options)
      : context_(std::make_shared<ClientServiceContext>(ClientServiceContext{
            std::move(node_id), path, timer, std::move(options)})) {}

  // The bootstrap capability of one more connection: no role until it authenticates when the
  // node has tokens, admin otherwise.
  kj::Own<ClientService> for_connection() const {
    return kj::heap<ClientService>(
        context_, context_->options.tokens != nullptr ? Role::kNone : Role::kAdmin);
  }

 private:
  std::shared_ptr<ClientServiceContext> context_;
};

}  // namespace tessera::node
