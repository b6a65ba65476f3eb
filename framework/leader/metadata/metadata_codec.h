// The metadata schema's records to and from the framework's types; internal to the store.
#pragma once

#include <kj/array.h>

#include "tessera/cluster.h"
#include "tessera/rpc/metadata.capnp.h"

namespace tessera::leader {

struct CommandResult;

void fill_range_record(rpc::meta::RangeRecord::Builder out, const RangeDescriptor& range);
RangeDescriptor read_range_record(rpc::meta::RangeRecord::Reader in);
Bytes encode_result(const CommandResult& result);
// `bytes` copied into aligned words, as capnp's flat-array reader needs (the rest zeroed).
kj::Array<capnp::word> copy_to_words(ByteView bytes);

}  // namespace tessera::leader
