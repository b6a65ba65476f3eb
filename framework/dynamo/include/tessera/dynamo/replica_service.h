// ReplicaService: this node's side of the node-to-node API (framework/schema/replica.capnp).
//
// A peer coordinating an AP request writes versions it made into this node's copies and reads
// them back, through this service. Each call runs its store operation on the worker pool, as
// the client API does; store errors become typed errors, never RPC exceptions.
//
// Thread-safety: lives on the event loop thread. Ownership: borrows the store, the hints and the
// pool; all outlive it (jobs capture the stores, never the service).
#pragma once

#include <capnp/capability.h>

#include "tessera/dynamo/hint_store.h"
#include "tessera/node/local_store.h"
#include "tessera/node/worker_pool.h"
#include "tessera/rpc/replica.capnp.h"

namespace tessera::dynamo {

class ReplicaService final : public rpc::Replica::Server {
 public:
  ReplicaService(node::LocalStore* store, HintStore* hints, node::WorkerPool* pool)
      : store_(store), hints_(hints), pool_(pool) {}

 protected:
  kj::Promise<void> write(WriteContext context) override;
  kj::Promise<void> read(ReadContext context) override;
  kj::Promise<void> scan(ScanContext context) override;
  kj::Promise<void> createTable(CreateTableContext context) override;
  kj::Promise<void> dropTable(DropTableContext context) override;

 private:
  node::LocalStore* const store_;
  HintStore* const hints_;
  node::WorkerPool* const pool_;
};

}  // namespace tessera::dynamo
