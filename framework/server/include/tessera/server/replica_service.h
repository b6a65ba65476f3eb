// ReplicaService: this node's side of the node-to-node API (framework/schema/replica.capnp).
//
// A peer coordinating an AP request writes versions it made into this node's copies and reads
// them back, through this service. Each call runs its store operation on the worker pool, as
// the client API does; store errors become typed errors, never RPC exceptions.
//
// Thread-safety: lives on the event loop thread. Ownership: borrows the store and the pool; both
// outlive it (jobs capture the store, never the service).
#pragma once

#include <capnp/capability.h>

#include "tessera/rpc/replica.capnp.h"
#include "tessera/server/local_store.h"
#include "tessera/server/worker_pool.h"

namespace tessera::server {

class ReplicaService final : public rpc::Replica::Server {
 public:
  ReplicaService(LocalStore* store, WorkerPool* pool) : store_(store), pool_(pool) {}

 protected:
  kj::Promise<void> write(WriteContext context) override;
  kj::Promise<void> read(ReadContext context) override;
  kj::Promise<void> scan(ScanContext context) override;
  kj::Promise<void> createTable(CreateTableContext context) override;
  kj::Promise<void> dropTable(DropTableContext context) override;

 private:
  LocalStore* const store_;
  WorkerPool* const pool_;
};

}  // namespace tessera::server
