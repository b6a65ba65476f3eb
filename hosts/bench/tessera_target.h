// TesseraTarget: a LoadTarget speaking Tessera's client API (framework/schema/tessera.capnp)
// over one Cap'n Proto two-party connection.
//
// Many calls may be outstanding on the connection at once: Cap'n Proto RPC matches answers to
// calls by question id, so pipelining needs nothing but several sends. A request is built
// straight into its outgoing message, sized up front so that it takes one segment: the key is
// written in place (Workload::fill_key), the value copied once. Puts and gets use the node's
// default consistency; --timeout-ms, when set, travels as the request's timeoutMs. The
// connection runs through a BufferedStream (buffered_stream.h) with a read buffer of
// --io-buffer-bytes: fewer syscalls per request (0: the socket itself).
//
// The preload writes batches of up to 100 keys (Tessera.write); a node that refuses batches
// (the AP profile answers notSupported) is preloaded one put at a time from then on.
//
// Thread-safety: none; see load_target.h.
#pragma once

#include <kj/async-io.h>

#include <string>

#include "load_options.h"
#include "load_target.h"
#include "workload.h"

namespace tessera::bench {

// A connection to the Tessera node at `address` ("host:port"), on `io`'s event loop.
kj::Own<LoadTarget> make_tessera_target(kj::AsyncIoContext& io, const std::string& address,
                                        const LoadOptions& options, Workload& workload);

}  // namespace tessera::bench
