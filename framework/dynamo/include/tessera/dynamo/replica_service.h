// ReplicaService: this node's side of the node-to-node API (framework/schema/replica.capnp).
//
// A peer coordinating an AP request writes versions it made into this node's copies and reads
// them back, through this service. A write or read is tried on the event loop first and runs on
// the worker pool only when it would wait (DurableGate::serve), as the single profile's client
// calls do; scans and table changes (TableStates: exchangeTables, and the older createTable
// and dropTable) run on the pool. Store errors become typed errors, never
// RPC exceptions.
//
// One service per authenticated peer (`peer`, the id it proved the cluster secret for): an
// anti-entropy session is that peer's, whatever the message's `from` says.
// A scan for a joining node (`joiner`) keeps only the keys that node will own, by the
// placement's next owners, and is refused while this node does not see that node joining.
//
// Thread-safety: lives on the event loop thread. Ownership: borrows the store, the hints, the
// table states, the anti-entropy responder, the pool, the gate, the placement and the
// membership; all outlive it (jobs capture them, never the service).
#pragma once

#include <capnp/capability.h>

#include "tessera/dynamo/anti_entropy_responder.h"
#include "tessera/dynamo/hint_store.h"
#include "tessera/dynamo/table_states.h"
#include "tessera/membership.h"
#include "tessera/node/durable_gate.h"
#include "tessera/node/local_store.h"
#include "tessera/node/worker_pool.h"
#include "tessera/placement.h"
#include "tessera/rpc/replica.capnp.h"

namespace tessera::dynamo {

class ReplicaService final : public rpc::Replica::Server {
 public:
  ReplicaService(node::LocalStore* store, HintStore* hints, TableStates* tables,
                 AntiEntropyResponder* anti_entropy, node::WorkerPool* pool,
                 node::DurableGate* gate, const Placement* placement,
                 const Membership* membership, NodeId peer)
      : store_(store), hints_(hints), tables_(tables), anti_entropy_(anti_entropy), pool_(pool),
        gate_(gate), placement_(placement), membership_(membership), peer_(std::move(peer)) {}

 protected:
  kj::Promise<void> write(WriteContext context) override;
  kj::Promise<void> read(ReadContext context) override;
  kj::Promise<void> scan(ScanContext context) override;
  kj::Promise<void> createTable(CreateTableContext context) override;
  kj::Promise<void> dropTable(DropTableContext context) override;
  kj::Promise<void> writeBatch(WriteBatchContext context) override;
  kj::Promise<void> exchangeTables(ExchangeTablesContext context) override;
  kj::Promise<void> antiEntropy(AntiEntropyContext context) override;

 private:
  // One write (Replica.write's params or a ReplicaWrite), answered once durable.
  template <typename Write>
  kj::Promise<Status> merge(Write write);
  // Whether this node's view holds `joiner` as a joining member.
  bool sees_joining(const NodeId& joiner) const;

  node::LocalStore* const store_;
  HintStore* const hints_;
  TableStates* const tables_;
  AntiEntropyResponder* const anti_entropy_;
  node::WorkerPool* const pool_;
  node::DurableGate* const gate_;
  const Placement* const placement_;
  const Membership* const membership_;
  const NodeId peer_;  // the authenticated peer this service was handed to
};

}  // namespace tessera::dynamo
