// LocalPath: the single-node profile's request path, every call answered from this node's own
// store. A get, put, remove or batch is tried first on the event loop, never waiting
// (Waiting::kNever: memtable and cached-block hits, free locks), and goes to the worker pool
// only when it would wait, so a warm store pays no cross-thread hop; scans and table changes go
// to the pool. Data calls answer once what they wrote or read is durable (DurableGate on the
// loop, run_durable from the pool), holding no thread meanwhile.
//
// Ownership: borrows the store and the pool; both outlive it. Jobs capture the store, never the
// path: at shutdown the path goes with the event loop while jobs it queued still run on the pool,
// which the store outlives.
#pragma once

#include "tessera/node/durable_gate.h"
#include "tessera/node/local_store.h"
#include "tessera/node/request_path.h"
#include "tessera/node/worker_pool.h"

namespace tessera::node {

class LocalPath final : public RequestPath {
 public:
  // REQUIRES: made on the event loop thread it serves.
  LocalPath(LocalStore* store, WorkerPool* pool)
      : store_(store), pool_(pool), gate_(store, pool) {}

  kj::Promise<Result<std::vector<std::string>>> list_tables(RequestParams params) override;
  kj::Promise<Status> create_table(std::string name, std::vector<Bytes> split_keys,
                                   RequestParams params) override;
  kj::Promise<Status> drop_table(std::string name, RequestParams params) override;
  kj::Promise<Result<Bytes>> put(std::string table, Bytes key, Bytes value,
                                 RequestParams params) override;
  kj::Promise<Result<StoreGetResult>> get(std::string table, Bytes key,
                                          RequestParams params) override;
  kj::Promise<Status> remove(std::string table, Bytes key, RequestParams params) override;
  kj::Promise<Result<StoreScanPage>> scan(std::string table, Bytes start, Bytes end,
                                          uint32_t limit, Bytes page_token,
                                          RequestParams params) override;
  kj::Promise<Status> write(std::string table, std::vector<Mutation> mutations,
                            RequestParams params) override;

 private:
  LocalStore* const store_;
  WorkerPool* const pool_;
  DurableGate gate_;
};

}  // namespace tessera::node
