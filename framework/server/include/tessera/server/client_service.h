// ClientService: the node's implementation of the client API (framework/schema/tessera.capnp).
//
// Each RPC copies its arguments out of the request, runs the store operation on the worker pool
// and fills the answer back on the event loop thread. Store errors become typed schema errors;
// a request that outlives its deadline is answered with `timeout` (the work itself may still
// complete). Nothing a client sends can crash the node: every failure is an Error.
//
// Thread-safety: lives on the event loop thread. Ownership: borrows the store and the pool; both
// outlive it. Jobs capture the store, never the service: at shutdown the service goes with the
// event loop while jobs it queued still run on the pool, which the store outlives.
#pragma once

#include <capnp/capability.h>
#include <kj/timer.h>

#include "tessera/membership.h"
#include "tessera/rpc/tessera.capnp.h"
#include "tessera/server/local_store.h"
#include "tessera/server/quorum_router.h"
#include "tessera/server/worker_pool.h"

namespace tessera::server {

// In the AP profile (`router` set) puts, gets, removes and table changes go through the quorum
// router; scans and batches answer notSupported there; `replica` is what peers get from
// Tessera.replica. A single node serves everything from its store and has no replica.
// `membership`, when set, offers the plugins' node-to-node services (Tessera.peer); it is
// borrowed and outlives the service. Tessera.peer touches neither the store nor the pool.
class ClientService final : public rpc::Tessera::Server {
 public:
  ClientService(std::string node_id, LocalStore* store, WorkerPool* pool, kj::Timer* timer,
                uint32_t default_timeout_ms, QuorumRouter* router = nullptr,
                kj::Maybe<rpc::Replica::Client> replica = nullptr,
                Membership* membership = nullptr);

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

 private:
  // Runs `job` on the pool, bounded by the request's deadline.
  template <typename Job>
  auto run(rpc::RequestOptions::Reader options, Job job);
  // `answer`, or Timeout once the request's deadline passes.
  template <typename R>
  kj::Promise<R> within_deadline(rpc::RequestOptions::Reader options, kj::Promise<R> answer);
  uint32_t timeout_ms(rpc::RequestOptions::Reader options) const;
  QuorumRequest quorum_request(rpc::RequestOptions::Reader options) const;

  const std::string node_id_;
  LocalStore* const store_;
  WorkerPool* const pool_;
  kj::Timer* const timer_;
  const uint32_t default_timeout_ms_;
  QuorumRouter* const router_;
  kj::Maybe<rpc::Replica::Client> replica_;
  Membership* const membership_;
};

}  // namespace tessera::server
