// Encoding and decoding of the shared raft log's records and segment header (format.h).
//
// Encoders append whole records (header and payload) to a byte buffer, so that one write call
// of the LogStore becomes one buffer and one write() syscall. Decoders never trust a length or
// count before checking it against the bytes that are there and the bounds in format.h; a
// malformed payload is a Corruption Status, never a crash or an unbounded allocation.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "log_store/format.h"
#include "raft/types.h"
#include "tessera/bytes.h"
#include "tessera/status.h"

namespace tessera::raftlog {

using GroupId = uint64_t;
using raft::ConfState;
using raft::Entry;
using raft::HardState;
using raft::Index;
using raft::SnapshotMeta;
using raft::Term;

// What the log keeps about a group besides its entries.
struct GroupMeta {
  std::string name;
  HardState hard_state;
  SnapshotMeta start;  // the log's start point: entries begin at start.index + 1
};

// Where one encoded entry sits, relative to the start of the buffer it was encoded into (or of
// the payload it was decoded from).
struct EntrySpan {
  Term term = 0;
  uint32_t offset = 0;
  uint32_t length = 0;  // the whole entry encoding, entry_check included
};

// Bytes one entry takes in a kEntries record.
inline size_t encoded_entry_bytes(const Entry& e) {
  return kEntryHeaderBytes + e.data.size() + kEntryCheckBytes;
}
void append_segment_header(Bytes* out, uint64_t number);
// Checks magic, version and header_check; *number is the number the header carries.
bool decode_segment_header(ByteView header, uint64_t* number);

// kind is kGroupState or kCheckpointGroup.
void append_group_state(Bytes* out, RecordKind kind, GroupId group, const GroupMeta& meta);
void append_remove(Bytes* out, GroupId group);
void append_hard_state(Bytes* out, GroupId group, const HardState& hard_state);
void append_start(Bytes* out, GroupId group, const SnapshotMeta& meta, bool keep_suffix);
void append_checkpoint_end(Bytes* out, uint64_t group_count);
// One kEntries record for `entries` (contiguous indexes); spans gets one EntrySpan per entry.
// REQUIRES: !entries.empty(), each data.size() <= kEntryDataBytesMax, the record's payload
// <= kRecordPayloadBytesMax.
void append_entries(Bytes* out, GroupId group, std::span<const Entry> entries,
                    std::vector<EntrySpan>* spans);

// A decoded payload; which fields mean something depends on kind.
struct Record {
  RecordKind kind = RecordKind::kRemove;
  GroupId group = 0;
  GroupMeta meta;                   // kGroupState, kCheckpointGroup
  HardState hard_state;             // kHardState
  SnapshotMeta start;               // kStart
  bool keep_suffix = false;         // kStart
  Index first_index = 0;            // kEntries
  std::vector<EntrySpan> entries;   // kEntries; offsets relative to the payload
  std::vector<Entry> conf_entries;  // kEntries: its kConfChange entries, whole
  uint64_t group_count = 0;         // kCheckpointEnd
};

// Decodes a payload whose payload_check passed. Corruption (without a file name: the caller
// adds where) when it does not parse or breaks a bound.
Status decode_record(ByteView payload, Record* out);

// Decodes one entry's bytes (an EntrySpan's) read back from disk and verifies entry_check
// against `index`: Corruption when the bytes are not that entry.
Result<Entry> decode_entry(ByteView bytes, Index index);

}  // namespace tessera::raftlog
