// On-disk format of the shared raft log: one directory of numbered segment files holding the
// checksummed records of every Raft group on the node.
//
// Directory:
//   <n>.rlog          segment number n (twenty decimal digits); numbers only grow, the live
//                     segments are always a consecutive range, the highest is appended to
//   LOCK              flock()ed by the LogStore that has the directory open
//
// Grammar (all integers little-endian, fixed width):
//   segment        := segment_header checkpoint record*
//   segment_header := magic[8] = "TSRAFTLG" | version:u32 = kFormatVersion | number:u64
//                     | header_check:u32 (crc32c of the 20 bytes before it)
//   checkpoint     := group_state_record* checkpoint_end_record
//                     the metadata of every group at the moment the segment was started, so
//                     that older segments are never needed for metadata (they can be deleted
//                     as soon as no live entry is in them)
//   record         := length:u32 | length_check:u32 | payload_check:u32 | payload
//                     length = payload size (<= kRecordPayloadBytesMax);
//                     length_check = crc32c(the 4 length bytes): a flipped length bit is caught
//                     before the reader trusts it; payload_check = crc32c(payload)
//   payload        := kind:u8 | group:u64 | body
//   body, by kind:
//     kGroupState (1), kCheckpointGroup (7)  := name | hard_state | meta
//                     create the group (kGroupState) or state it at a segment's head; both set
//                     name, hard state and start; entries at or below meta.index are dropped
//     kRemove (2)     := (empty)                       the group and its log are gone
//     kEntries (3)    := first_index:u64 | count:u32 | entry{count}
//                     a contiguous run; a first_index at or below the group's last index
//                     first truncates the log from first_index on
//     kHardState (4)  := hard_state
//     kStart (5)      := meta | keep_suffix:u8
//                     the log's new start (a snapshot installed, or a compaction): entries at
//                     or below meta.index are dropped; entries above it are kept when
//                     keep_suffix = 1 (the log had meta.index at meta.term when it was written),
//                     else dropped too. The decision is recorded, never recomputed on replay.
//     kCheckpointEnd (6) := group_count:u64            (group field = 0)
//   name           := length:u32 (<= kGroupNameBytesMax) | bytes
//   hard_state     := term:u64 | vote:u64 | commit:u64
//   meta           := index:u64 | term:u64 | voter_count:u32 | voter:u64{voter_count}
//                     | learner_count:u32 | learner:u64{learner_count}   (counts <=
//                     kConfMembersMax)
//   entry          := term:u64 | type:u8 | data_length:u32 | data | entry_check:u32
//                     entry_check = crc32c(index:u64 | term..data): each entry can be read back
//                     from disk alone (pread of its bytes) and verified, index included
//
// Tail rule: a record that fails a check or is cut short in the LAST segment is where the log
// ends (a write that a crash interrupted; nothing past it was acknowledged, because a segment is
// synced before the next one is started): the file is truncated there. The same in any other
// segment is Corruption naming the file and the offset. A last segment whose checkpoint is
// incomplete holds nothing else and is deleted.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::raftlog {

inline constexpr char kSegmentMagic[8] = {'T', 'S', 'R', 'A', 'F', 'T', 'L', 'G'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderBytes = 8 + 4 + 8 + 4;
inline constexpr size_t kRecordHeaderBytes = 4 + 4 + 4;
inline constexpr size_t kPayloadHeaderBytes = 1 + 8;  // kind, group
inline constexpr size_t kHardStateBytes = 3 * 8;
inline constexpr size_t kEntryHeaderBytes = 8 + 1 + 4;  // term, type, data_length
inline constexpr size_t kEntryCheckBytes = 4;
inline constexpr size_t kEntriesRunHeaderBytes = 8 + 4;  // first_index, count

// Bounds checked before anything is allocated from a length or count read off the disk.
inline constexpr uint32_t kRecordPayloadBytesMax = 64u << 20;
inline constexpr uint32_t kEntryDataBytesMax = kRecordPayloadBytesMax - 256;
inline constexpr uint32_t kGroupNameBytesMax = 1024;
inline constexpr uint32_t kConfMembersMax = 1024;
// One write() call's bytes (all its records): segment offsets stay far below 4 GiB, so that
// the in-memory index can hold them in 32 bits.
inline constexpr uint64_t kWriteBytesMax = 1ull << 30;
inline constexpr uint64_t kSegmentBytesMin = 4096;
inline constexpr uint64_t kSegmentBytesMax = 1ull << 30;
static_assert(kSegmentBytesMax + kWriteBytesMax < (1ull << 32));
static_assert(kEntryDataBytesMax + kEntryHeaderBytes + kEntryCheckBytes + kPayloadHeaderBytes +
                  kEntriesRunHeaderBytes <=
              kRecordPayloadBytesMax);

enum class RecordKind : uint8_t {
  kGroupState = 1,
  kRemove = 2,
  kEntries = 3,
  kHardState = 4,
  kStart = 5,
  kCheckpointEnd = 6,
  kCheckpointGroup = 7,
};

}  // namespace tessera::raftlog
