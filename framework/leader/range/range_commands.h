// The bytes of a range group's commands and results (framework/schema/range.capnp), for the
// proposer (a router on the leader) and for the state machine that applies them.
//
// Thread-safety: free functions over values; call them from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "tessera/bytes.h"
#include "tessera/status.h"

namespace tessera::leader {

// One key of a write: `value` set puts it, nullopt removes it.
struct RangeWriteOp {
  Bytes key;
  std::optional<Bytes> value;

  bool operator==(const RangeWriteOp&) const = default;
};

// A write command as it was proposed.
struct RangeWriteCommand {
  uint64_t range_id = 0;
  uint64_t epoch = 0;
  Bytes sequencer;  // the version the leader proposed
  std::vector<RangeWriteOp> writes;
};

// The command that writes `writes` atomically into range `range_id` as routed at `epoch`, with
// the leader's proposed version `sequencer`. Never fails: checking is the state machine's job.
Bytes encode_write(uint64_t range_id, uint64_t epoch, ByteView sequencer,
                   std::span<const RangeWriteOp> writes);

// The write in `bytes` (untrusted: any bytes may come in). InvalidArgument, saying why, for bytes
// that do not parse as a RangeCommand, a command with no operation, or a write with no keys.
Result<RangeWriteCommand> decode_command(ByteView bytes);

// A command's result: OK with the version applied, or the refusal (its detail kept, e.g. the
// range's epoch of a StaleRoute).
Bytes encode_range_result(const Result<Bytes>& outcome);

// What encode_range_result encoded: the version applied, or the refusal. Corruption for bytes that do
// not parse as a RangeResult (they did not come from a range state machine).
Result<Bytes> decode_range_result(ByteView bytes);

}  // namespace tessera::leader
