// ClientService: the node's implementation of the client API (framework/schema/tessera.capnp).
//
// Each RPC copies its arguments out of the request, hands them to the node's request path (the
// profile: request_path.h) and fills the answer back on the event loop thread. Errors become
// typed schema errors with their details; a request that outlives its deadline is answered with
// `timeout` (the work itself may still complete). Nothing a client sends can crash the node:
// every failure is an Error.
//
// Thread-safety: lives on the event loop thread. Ownership: borrows the path and the timer;
// both outlive it.
#pragma once

#include <capnp/capability.h>
#include <kj/timer.h>

#include <functional>
#include <string_view>

#include "tessera/membership.h"
#include "tessera/peer_service.h"
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
  // What peers get from Tessera.replica (the AP profile's replica side); none elsewhere.
  kj::Maybe<rpc::Replica::Client> replica = nullptr;
  // When set, offers the plugins' node-to-node services (Tessera.peer); borrowed, outlives the
  // service. Tessera.peer touches no request path.
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
};

class ClientService final : public rpc::Tessera::Server {
 public:
  // `path` may be null for a service that only offers peer services (tests).
  ClientService(std::string node_id, RequestPath* path, kj::Timer* timer,
                ClientServiceOptions options);

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

 private:
  // `answer`, or Timeout once the request's deadline passes.
  template <typename R>
  kj::Promise<R> within_deadline(const RequestParams& params, kj::Promise<R> answer);
  RequestParams params_of(rpc::RequestOptions::Reader options) const;

  const std::string node_id_;
  RequestPath* const path_;
  kj::Timer* const timer_;
  ClientServiceOptions options_;
};

}  // namespace tessera::node
