// LogStore: the one raft log of a node, shared by all its Raft groups.
//
// Every group's entries, hard state and log start point go as checksummed records tagged by
// group id into one directory of segment files (format.h has the grammar). A write() carries
// the changes of every group from one driver iteration: one buffer, one write() syscall, one
// fdatasync for all of them. Memory stays bounded: per entry the index holds 12 bytes (where
// its bytes are) and terms as runs; entry data is read back from disk (pread, checksums
// verified) unless it is in a cache of cache_bytes_max.
//
// Durability: when write(..., sync=true) returns OK, everything written so far (by every call)
// survives a crash of the machine; write(..., sync=false) survives a crash of the process
// only, until the next synced write, sync() or collect_garbage(); a compact() is on disk only
// once a later call wrote its record (losing it brings the compacted entries back: harmless).
//
// Garbage collection: compact(group, index) drops a group's entries up to index (the state
// machine's durable applied index). A segment file is deleted once no live entry is in it and
// it is not the one being appended to; group metadata never keeps a segment alive, because
// every segment starts with a checkpoint of all groups' metadata. compact() only updates the
// index and queues its record, which goes out with the next write() or sync(); GC runs inside
// synced write() calls and collect_garbage(), once the records that free a segment are
// durable; each pass deletes at most gc_segments_per_call_max files. No background thread.
//
// Recovery (open): segments are scanned in order and the index rebuilt. A torn or corrupt tail
// of the last segment (an interrupted write) is cut off and the file truncated there; any
// failed check in an older segment, a missing segment or records that do not fit together are
// Corruption naming the file and the offset, never skipped.
//
// Errors: an IO error during a write or sync leaves the on-disk state unknown, so the store
// refuses every later write with that error (reopen to recover). Reads stay available.
//
// Thread-safety: none; one thread at a time (the driver's). Ownership: owns its files and the
// directory lock; span arguments are borrowed for the call.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "log_store/entry_cache.h"
#include "log_store/group_log.h"
#include "log_store/record.h"
#include "log_store/segment_file.h"

namespace tessera::raftlog {

// Bytes of compaction records compact() holds back for the next write at most.
inline constexpr size_t kPendingBytesMax = 1u << 20;
// Live segments from which a synced write() also rewrites small pinning logs (see options).
inline constexpr size_t kRewriteSegmentsMin = 3;

struct LogStoreOptions {
  std::filesystem::path dir;  // created if missing
  // A segment is closed and a new one started when a write would take it past this size (one
  // write may go over it). Clamped to [kSegmentBytesMin, kSegmentBytesMax].
  uint64_t segment_bytes = 64ull << 20;
  // Bound of the cache of entry data (kCacheEntryOverheadBytes charged per entry on top).
  size_t cache_bytes_max = 32u << 20;
  // Zero fill ahead of appends (segment_file.h), 0 for none.
  uint64_t zero_fill_chunk_bytes = 1u << 20;
  // Segment files deleted per GC pass at most.
  size_t gc_segments_per_call_max = 16;
  // Entry bytes collect_garbage() rewrites at most per call: the whole (small) logs of groups
  // whose first live entry keeps the oldest segment alive are copied forward into the active
  // segment, so that a group that is rarely written and never compacted cannot pin every
  // segment after its entries. A group whose log is larger than this is left to compaction.
  // 0: never rewrite.
  size_t rewrite_bytes_max = 4u << 20;
  // The same done by a synced write() while kRewriteSegmentsMin or more segments are live,
  // inside its own buffer and fdatasync (still one of each per call), at most this many bytes
  // per call (0: never); so GC does not depend on collect_garbage() being called.
  size_t rewrite_bytes_per_write_max = 64u << 10;
  // Bytes one disk read of entries() fetches at most (several entries at once when they lie
  // next to each other); a single larger entry is read whole.
  size_t read_bytes_max = 1u << 20;
};

// One group's part of a write(), applied in this order: create, start, entries, hard_state.
struct GroupWrite {
  GroupId group = 0;
  // Creates the group with this name (<= kGroupNameBytesMax). REQUIRES: the group is absent.
  std::optional<std::string> create;
  // The log's new start point (a snapshot installed, or a compaction written with the batch):
  // entries up to start->index are dropped; the entries after it are kept when the log has
  // start->index at start->term, else dropped. start->index >= the current start's index.
  std::optional<SnapshotMeta> start;
  // A contiguous run of entries with non-decreasing terms; the first index must be in
  // [start index + 1, last index + 1]; one at or below the last index truncates the log there
  // first (the Raft conflict rule).
  std::span<const Entry> entries;
  std::optional<HardState> hard_state;
  // Removes the group and its log. REQUIRES: nothing else set in this GroupWrite.
  bool remove = false;
};

struct GroupInfo {
  GroupId id = 0;
  std::string name;
  Index first_index = 0;  // start.index + 1
  Index last_index = 0;   // start.index when the log holds no entries
};

struct LogStoreStats {
  uint64_t write_calls = 0;
  uint64_t write_syscalls = 0;    // pwrite calls that carried records
  uint64_t fill_syscalls = 0;     // pwrite calls that zero-filled ahead
  uint64_t fsyncs = 0;            // fdatasync/fsync of segment files
  uint64_t dir_syncs = 0;         // fsync of the directory (segments created or deleted)
  uint64_t bytes_written = 0;     // record bytes
  uint64_t segments_created = 0;  // by this process
  uint64_t segments_deleted = 0;  // by this process
  uint64_t segments_live = 0;
  uint64_t segment_first = 0;  // numbers of the oldest and the newest live segment
  uint64_t segment_last = 0;
  uint64_t cache_bytes = 0;
  uint64_t cache_entries = 0;
  uint64_t cache_hits = 0;
  uint64_t cache_misses = 0;
  uint64_t disk_reads = 0;           // pread calls made by entries()
  uint64_t index_entries = 0;        // entries indexed, all groups
  uint64_t index_bytes = 0;          // memory of the index (locations and term runs)
  uint64_t rewritten_entries = 0;    // small pinning logs copied forward
  uint64_t recovered_records = 0;    // records replayed by open()
  uint64_t recovered_cut_bytes = 0;  // torn tail cut off the last segment by open()
};

class LogStore {
 public:
  // Opens (or creates) the log in options.dir and recovers it (see above).
  // Errors: Busy when another LogStore has the directory open; Corruption; IOError;
  // InvalidArgument for options out of range.
  static Result<std::unique_ptr<LogStore>> open(const LogStoreOptions& options);
  ~LogStore();
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  // Appends every group's changes as records in one write() syscall, then (sync) one
  // fdatasync, then updates the index; either all of `writes` is applied in memory or none.
  // Errors, with nothing written: NotFound for a group that does not exist (and is not
  // created here), InvalidArgument for a write that breaks its REQUIRES (at most one
  // GroupWrite per group per call), TooLarge over kWriteBytesMax or an entry over
  // kEntryDataBytesMax. IOError (the store then refuses later writes). An empty span is OK.
  Status write(std::span<const GroupWrite> writes, bool sync = true);
  // Makes everything written so far durable (nothing to do when it is).
  Status sync();
  // Drops the group's entries up to `index` and makes (index, term(index), conf) the log's
  // start point, conf being the configuration in effect at index (the caller's Raft knows it).
  // No IO: the record goes out with the next write() or sync() (if lost in a crash, the
  // entries come back, harmlessly), unless kPendingBytesMax of such records wait already: then
  // they are appended now, unsynced. An index at or below the current start is OK and does
  // nothing. Errors: NotFound (group), InvalidArgument when index > last_index; the IOError
  // of an earlier failed write.
  Status compact(GroupId group, Index index, const ConfState& conf);
  // Syncs if needed, deletes up to gc_segments_per_call_max segments no live entry needs,
  // then, if the oldest segment is still kept alive by groups with small logs, rewrites those
  // logs (up to rewrite_bytes_max, one synced write) and deletes again. For the host to call
  // now and then (e.g. once a second) to reclaim space sooner than writes alone would.
  Status collect_garbage();

  // Per group reads. NotFound for a group that does not exist.
  // Entries [lo, hi): at least one when lo < hi, then as many as fit in bytes_max of data.
  // From the cache or disk; Corruption when bytes read back fail their check.
  // InvalidArgument unless first_index <= lo <= hi <= last_index + 1.
  Result<std::vector<Entry>> entries(GroupId group, Index lo, Index hi, size_t bytes_max);
  // The term of entry index, or of the start point when index == start.index.
  // InvalidArgument outside [start.index, last_index].
  Result<Term> term(GroupId group, Index index) const;
  Result<Index> first_index(GroupId group) const;
  Result<Index> last_index(GroupId group) const;
  Result<HardState> hard_state(GroupId group) const;
  Result<SnapshotMeta> start(GroupId group) const;
  // Terms of [first_index, last_index] as runs (for the core's in-memory terms at restart).
  Result<std::vector<TermRun>> term_runs(GroupId group) const;
  // The kConfChange entries in [first_index, last_index], ascending; kept in memory.
  Result<std::vector<Entry>> conf_entries(GroupId group) const;

  bool contains(GroupId group) const { return groups_.count(group) != 0; }
  // Every group present, by id.
  std::vector<GroupInfo> groups() const;

  LogStoreStats stats() const;
  const std::filesystem::path& dir() const { return options_.dir; }

 private:
  struct Group {
    GroupMeta meta;
    GroupLog log;
  };
  // A record's effect on the in-memory state, shared by write() and recovery.
  struct Replay;

  explicit LogStore(const LogStoreOptions& options);
  Status recover();
  Status recover_segment(uint64_t number, bool last);
  Status validate(const GroupWrite& w) const;
  Status encode(std::span<const GroupWrite> writes, std::vector<EntrySpan>* spans);
  void apply(std::span<const GroupWrite> writes, const std::vector<EntrySpan>& spans,
             uint64_t base);
  static void apply_start(Group* g, const SnapshotMeta& meta, bool keep_suffix);
  static bool keeps_suffix(const Group& g, const SnapshotMeta& meta);
  Status replay(Record& record, uint64_t segment, uint64_t payload_offset);
  Status apply_checkpoint(std::vector<Record>& records);
  Status roll();
  Status append_buffer(ByteView bytes);
  Status flush_pending();
  Status gc_pass();
  Status rewrite_pinning_groups();
  // Appends to *writes (and *logs, which their spans borrow) the whole logs of groups not in
  // `exclude` (sorted) whose first entry is in the oldest segment, `budget` bytes at most.
  Status plan_rewrites(size_t budget, std::span<const GroupId> exclude,
                       std::vector<std::vector<Entry>>* logs, std::vector<GroupWrite>* writes);
  Status fail(Status status);
  const Group* find(GroupId group) const;

  LogStoreOptions options_;
  std::unique_ptr<DirLock> lock_;
  std::map<GroupId, Group> groups_;
  std::map<uint64_t, std::unique_ptr<SegmentFile>> segments_;  // live, by number
  SegmentFile* active_ = nullptr;                              // segments_.rbegin()
  uint64_t next_segment_ = 1;
  uint64_t active_head_end_ = 0;  // end of the active segment's checkpoint
  bool unsynced_ = false;         // bytes appended since the last sync
  Bytes pending_;                 // records of compact() calls, not written yet
  bool gc_due_ = false;           // something may have freed a segment since the last GC pass
  Status failed_;                 // sticky IO error of a write or sync
  EntryCache cache_;
  Bytes buffer_;  // one write()'s records, reused
  LogStoreStats stats_;
};

}  // namespace tessera::raftlog
