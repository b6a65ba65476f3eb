// KvStateMachine: a replicated key-value map as one Raft group's state, kept in a storage
// engine that several groups share.
//
// Purpose: the state machine of `tessera-raft-host`, the process that runs the raft plugin's
// groups between real processes for the multi-process tests and the benchmark. It is the model
// of what the CP profile's range state machine does: apply committed commands to the engine
// without a sync of their own, record the applied index in the same engine batch, sync the
// engine now and then, and report as durable only what that sync covered, so that the plugin's
// log keeps (and replays after a crash) everything after it.
//
// Layout in the engine, per group (`tag` = the group's name): `'d' tag '\0' key -> value` for
// data, `'a' tag -> fixed64_be(applied index)`. A command is `put`: varint32-prefixed key and
// value (encode_put). A command that does not parse is applied as a no-op with the result
// "invalid"; a put's result is empty.
//
// Thread-safety: apply, durable_index, snapshot and restore are called by the plugin one at a
// time; get may be called from any thread at any time (it reads the engine).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "tessera/engine.h"
#include "tessera/replication.h"

namespace tessera::raft_host {

class KvStateMachine final : public GroupStateMachine {
 public:
  // Bytes of key/value pairs in one snapshot chunk.
  static constexpr size_t kChunkBytesMax = size_t{1} << 20;

  // Reads the applied index the engine holds for `group`. The engine is synced every
  // `sync_every_entries` applied entries: the durable index lags the applied one by at most
  // that. A restore is announced on stdout ("<tag>: restored a snapshot at index <n>"), for
  // the tests. REQUIRES: `engine` outlives this; sync_every_entries >= 1.
  static Result<std::unique_ptr<KvStateMachine>> open(Engine* engine, std::string group,
                                                      uint64_t sync_every_entries, std::string tag);

  static Bytes encode_put(ByteView key, ByteView value);

  Status apply(std::span<const Command> commands, std::vector<Bytes>& results) override;
  LogIndex durable_index() const override { return durable_.load(); }
  Result<Image> snapshot() override;
  Status restore(LogIndex index, SnapshotChunks& chunks) override;

  // The value of `key` as this replica has applied it.
  Result<std::optional<Bytes>> get(ByteView key) const;
  LogIndex applied_index() const { return applied_.load(); }

 private:
  KvStateMachine(Engine* engine, std::string group, uint64_t sync_every_entries, std::string tag);
  Bytes data_key(ByteView key) const;
  Bytes data_prefix() const { return data_key(""); }
  Bytes applied_key() const;
  Status sync();
  Status clear();

  Engine* const engine_;
  const std::string group_;
  const uint64_t sync_every_entries_;
  const std::string tag_;
  std::atomic<LogIndex> applied_;
  std::atomic<LogIndex> durable_;
};

}  // namespace tessera::raft_host
