// The metadata schema's records to and from the framework's types; internal to the store.
// (Bytes and message conversions: rpc_values.h.)
#pragma once

#include <kj/array.h>

#include "rpc_values.h"
#include "tessera/cluster.h"
#include "tessera/rpc/metadata.capnp.h"

namespace tessera::leader {

struct CommandResult;

void fill_range_record(rpc::meta::RangeRecord::Builder out, const RangeDescriptor& range);
RangeDescriptor read_range_record(rpc::meta::RangeRecord::Reader in);
Bytes encode_result(const CommandResult& result);

}  // namespace tessera::leader
