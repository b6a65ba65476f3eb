// RangeStateMachine: one key range [start, end) of one table as the state of its Raft group,
// on one replica, in the node's storage engine (the leader profile's data path).
//
// Commands are framework/schema/range.capnp (range_commands.h encodes them). A command is
// applied only if it addresses this range at its current epoch with every key inside the range;
// its writes then all get one version, the conflict plugin's order_after(proposed, last), so
// that versions grow in commit order whatever the proposing leader's clock says, across leader
// changes and restarts. Refusals (StaleRoute, InvalidArgument, TooLarge, NotSupported) write
// nothing but count as applied, like every log entry.
//
// Durability, as tessera-raft-host's KvStateMachine: a batch of commands is one engine write
// without a sync, and it carries the applied index and the last version with the data; the
// engine is synced every `sync_every_entries` entries and durable_index() reports only what a
// sync covered, so the group's log keeps (and replays after a crash) everything after it.
//
// Engine layout. The engine is shared with the node's other groups and with its LocalStore,
// whose keys start with fixed32_be(table id), ids counted from 0: a top byte of 0xFF is reached
// by neither (LocalStore only after 0xFF000000 table ids).
//
//   data := 0xFF 'r' fixed32_be(table_id) user_key          -> stored
//   meta := 0xFF 'm' fixed64_be(range_id)                   -> fixed64_be(applied) last_version
//   stored := flags(1 byte: 0 = value, 1 = tombstone) varint32(version_len) version value
//
// Ranges of one table share the table's data prefix, so a split leaves every key where it is.
// `last_version` is the rest of the meta value: empty before the first applied write.
// A remove deletes the key rather than writing a tombstone: one log orders every write of the
// range, each above the last, so no older write can arrive afterwards for a tombstone to beat
// (tombstones serve AP replicas that merge out of order). The flag keeps room for one; a
// tombstone reads as no value.
//
// Thread-safety: apply, durable_index, snapshot and restore are called by the group one at a
// time (the apply thread). get, scan, applied_index, descriptor, last_version and set_descriptor
// may be called from any thread at any time; reads go to the engine directly, so they see each
// applied batch whole, and a restore under way part by part.
// Ownership: borrows the engine and the conflict plugin; both must outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "tessera/cluster.h"
#include "tessera/conflict.h"
#include "tessera/engine.h"
#include "tessera/replication.h"

namespace tessera::leader {

// A value of the range and the version it was written with.
struct StoredValue {
  Bytes value;
  Bytes version;

  bool operator==(const StoredValue&) const = default;
};

struct ScanItem {
  Bytes key;
  StoredValue value;

  bool operator==(const ScanItem&) const = default;
};

struct ScanPage {
  std::vector<ScanItem> items;  // in key order
  // Where the next page starts (the `start` of the next call), or nullopt when the scan reached
  // its end inside this range.
  std::optional<Bytes> next_key;
};

class RangeStateMachine final : public GroupStateMachine {
 public:
  // Bytes of pairs in one snapshot chunk, and of deletes in one batch of a restore's clearing.
  static constexpr size_t kChunkBytesMax = size_t{1} << 20;
  // One scan page: at most this many items, and it stops after the item that passes the bytes.
  static constexpr uint32_t kScanItemsMax = 10'000;
  static constexpr size_t kScanBytesMax = size_t{4} << 20;
  // What an engine key takes beyond the user key, and a stored value beyond value and version.
  static constexpr size_t kDataKeyPrefixBytes = 6;
  static constexpr size_t kStoredFramingBytes = 1 + 5;

  struct Options {
    // The engine is synced when the applied index passes a multiple of this. REQUIRES: >= 1.
    uint64_t sync_every_entries = 4096;
  };

  // The replica of range `descriptor` of table `table_id` in `engine`, at the applied index and
  // last version the engine holds for it (0 and none for a new replica). InvalidArgument for a
  // range id 0 or bounds with end <= start; Corruption when the meta record does not parse.
  // REQUIRES: `engine` and `conflict` are not null and outlive this.
  static Result<std::unique_ptr<RangeStateMachine>> open(Engine* engine, const Conflict* conflict,
                                                         uint32_t table_id,
                                                         RangeDescriptor descriptor,
                                                         Options options);

  // GroupStateMachine. apply's results are encode_range_result(...) of each command: the version
  // applied, or the refusal; empty for the plugin's own (empty) entries. A non-OK status is the
  // engine's failure, and nothing of the batch is applied.
  Status apply(std::span<const Command> commands, std::vector<Bytes>& results) override;
  LogIndex durable_index() const override { return durable_.load(); }
  // The image: a header chunk (range id, index, last version), then the range's pairs in key
  // order, in chunks of at most kChunkBytesMax (a larger pair alone in its chunk). The index is
  // the applied index.
  Result<Image> snapshot() override;
  // Replaces the range's keys (this table's keys in [start, end) only: neighbouring ranges in
  // the same engine keep theirs) by an image of the same range, records `index` and the image's
  // last version, and syncs. Started again after a crash, it finds no meta record (that goes
  // first) and clears again. InvalidArgument for an image of another range; Corruption for one
  // that does not parse, holds a key outside the range, or was taken at another index.
  Status restore(LogIndex index, SnapshotChunks& chunks) override;

  // Deletes the range's keys and its meta record from the engine, in bounded batches, for a
  // range that no longer exists (its table was dropped). REQUIRES: the group is closed, so that
  // nothing applies meanwhile.
  Status destroy();

  // Takes the range's new descriptor from the metadata (an epoch or bounds change); commands
  // applied afterwards, and reads, are checked against it. InvalidArgument for another range's
  // id, an epoch below the current one, or bounds with end <= start.
  Status set_descriptor(RangeDescriptor descriptor);
  RangeDescriptor descriptor() const;

  // The value of `key` and its version, or nullopt when the range has none. StaleRoute (with the
  // range's epoch) when `key` is outside the range.
  Result<std::optional<StoredValue>> get(ByteView key) const;
  // Pairs with keys in [start, end), end empty = to the range's end, at most `limit` of them
  // (0 or above kScanItemsMax = kScanItemsMax). StaleRoute when `start` is outside the range or
  // `end` past its end. An `end` at or before `start` gives an empty page, not an error.
  Result<ScanPage> scan(ByteView start, ByteView end, uint32_t limit) const;

  LogIndex applied_index() const { return applied_.load(); }
  // The version of the last write applied (empty before the first): the ratchet's floor.
  Bytes last_version() const;

  // The engine keys of the layout above.
  static Bytes data_key(uint32_t table_id, ByteView user_key);
  static Bytes meta_key(uint64_t range_id);

 private:
  RangeStateMachine(Engine* engine, const Conflict* conflict, uint32_t table_id,
                    RangeDescriptor descriptor, Options options);
  // The write `data` holds, applied to `batch` when it is accepted: its version, or the refusal.
  Result<Bytes> apply_write(ByteView data, const RangeDescriptor& range, ByteView last,
                            WriteBatch& batch) const;
  // Engine bounds of the range's data, [lower, upper).
  Bytes data_lower(const KeyRange& range) const;
  Bytes data_upper(const KeyRange& range) const;
  Bytes encode_meta(LogIndex index, ByteView last) const;
  std::shared_ptr<const RangeDescriptor> current() const;
  Status sync();
  Status clear(const KeyRange& range);
  Status restore_pairs(ByteView chunk, const KeyRange& range);

  Engine* const engine_;
  const Conflict* const conflict_;
  const uint32_t table_id_;
  const uint64_t range_id_;
  const uint64_t sync_every_entries_;
  std::atomic<LogIndex> applied_{0};
  std::atomic<LogIndex> durable_{0};

  mutable std::mutex mutex_;
  // Guarded by mutex_. Shared and immutable, so that a read takes it for the price of a pointer.
  std::shared_ptr<const RangeDescriptor> descriptor_;
  Bytes last_version_;  // guarded by mutex_; written by the apply thread only
};

}  // namespace tessera::leader
