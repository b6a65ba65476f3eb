// RequestPath: how a node answers the client API's data and table calls; what a profile is.
//
// The client service (client_service.h) decodes a call, hands it to the node's one RequestPath
// and encodes the answer; it knows nothing else of the profile. A single node answers from its
// own store (local_path.h); the AP profile coordinates N/R/W quorums across replicas
// (framework/dynamo); the leader profile routes to the leader of the key's range
// (framework/leader). Every answer is a Status or a Result: a path refuses what it does not
// offer (NotSupported, naming why) rather than leaving a call out.
//
// Deadlines: the client service bounds every call by `RequestParams::timeout_ms` and answers
// Timeout when it passes; a path may stop earlier (a quorum that cannot be met) and should use
// the deadline for its own waits (retries, peer calls).
//
// Thread-safety: every method is called on the node's event loop thread; the promises resolve
// there.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <kj/async.h>

#include "tessera/bytes.h"
#include "tessera/mutation.h"
#include "tessera/node/local_store.h"
#include "tessera/rpc/tessera.capnp.h"
#include "tessera/status.h"

namespace tessera::node {

// What a path takes from a request's options (rpc::RequestOptions).
struct RequestParams {
  rpc::Consistency consistency = rpc::Consistency::DEFAULT;
  uint32_t read_quorum = 0;   // explicit R; 0 = from consistency (AP)
  uint32_t write_quorum = 0;  // explicit W; 0 = from consistency (AP)
  uint32_t timeout_ms = 0;    // > 0: the client service fills in the node's default
  Bytes context;              // a get's context, for a write that supersedes what it read
};

// The refusal of a path whose tables are not in ranges (a single node, the ring).
Status refuse_split_keys(std::string_view table);

class RequestPath {
 public:
  // noexcept(false): a path holds KJ promises, whose destructors may throw.
  virtual ~RequestPath() noexcept(false) = default;

  virtual kj::Promise<Result<std::vector<std::string>>> list_tables(RequestParams params) = 0;
  // InvalidArgument for a bad name, TableExists when taken. `split_keys` (increasing,
  // non-empty): where the table's first ranges begin; InvalidArgument from a path without
  // ranges when not empty.
  virtual kj::Promise<Status> create_table(std::string name, std::vector<Bytes> split_keys,
                                           RequestParams params) = 0;
  // NoSuchTable when absent.
  virtual kj::Promise<Status> drop_table(std::string name, RequestParams params) = 0;

  // The version the write was stored with.
  virtual kj::Promise<Result<Bytes>> put(std::string table, Bytes key, Bytes value,
                                         RequestParams params) = 0;
  // The live versions of `key` (empty when absent or deleted) and their context.
  virtual kj::Promise<Result<StoreGetResult>> get(std::string table, Bytes key,
                                                  RequestParams params) = 0;
  virtual kj::Promise<Status> remove(std::string table, Bytes key, RequestParams params) = 0;
  // Live keys of [start, end) (end empty = to the table's end) in key order, at most `limit`,
  // from `page_token` (empty = the start) on; the page's token resumes after it.
  virtual kj::Promise<Result<StoreScanPage>> scan(std::string table, Bytes start, Bytes end,
                                                  uint32_t limit, Bytes page_token,
                                                  RequestParams params) = 0;
  // All of `mutations` or none of them, atomically.
  virtual kj::Promise<Status> write(std::string table, std::vector<Mutation> mutations,
                                    RequestParams params) = 0;
};

}  // namespace tessera::node
