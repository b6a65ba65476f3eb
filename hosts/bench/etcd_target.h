// EtcdTarget: a LoadTarget speaking etcd's v3 JSON API (its gRPC gateway: POST /v3/kv/put and
// /v3/kv/range) over one HTTP/1.1 keep-alive connection, so that `tessera-bench etcd` can load
// an etcd cluster with the same driver, histogram and CPU accounting as Tessera.
//
// Why not gRPC: Debian ships no etcd load tool (no `etcd benchmark`) and no gRPC C++ client
// this project builds against. The gateway is served on etcd's client port and answers every
// request by calling etcd's own gRPC server in process, so etcd spends some CPU per request on
// JSON and the extra hop that a native gRPC client would not make it spend: figures from this
// target are a floor for etcd, not its best.
//
// One request at a time per connection (pipeline 1): Go's HTTP/1.1 server answers pipelined
// requests one after the other anyway; give more connections instead.
//
// Thread-safety: none; see load_target.h.
#pragma once

#include <kj/async-io.h>

#include <string>

#include "load_options.h"
#include "load_target.h"
#include "workload.h"

namespace tessera::bench {

// A connection to the etcd member whose client URL is http://`address`, on `io`'s loop.
kj::Own<LoadTarget> make_etcd_target(kj::AsyncIoContext& io, const std::string& address,
                                     Workload& workload);

// Standard base64 (RFC 4648, with padding) of `bytes`, appended to `out`.
void append_base64(ByteView bytes, std::string& out);

}  // namespace tessera::bench
