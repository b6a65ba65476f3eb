// LocalPath: the single-node profile's request path, every call answered from this node's own
// store on the worker pool (the event loop never waits for a disk). Data calls answer once what
// they wrote or read is durable (run_durable), without holding a worker thread meanwhile.
//
// Ownership: borrows the store and the pool; both outlive it. Jobs capture the store, never the
// path: at shutdown the path goes with the event loop while jobs it queued still run on the pool,
// which the store outlives.
#pragma once

#include "tessera/node/local_store.h"
#include "tessera/node/request_path.h"
#include "tessera/node/worker_pool.h"

namespace tessera::node {

class LocalPath final : public RequestPath {
 public:
  LocalPath(LocalStore* store, WorkerPool* pool) : store_(store), pool_(pool) {}

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
};

}  // namespace tessera::node
