// ApplySink: where committed work leaves the driver, to be carried out off the driver thread.
//
// Purpose: the driver never touches a state machine. Per group it hands out, strictly in log
// order, the items below; the host's apply stage carries them out in that order (different
// groups may proceed in parallel) and reports progress back with Driver::applied(). Only then
// does the driver answer the proposals and reads that waited for that index, and only the
// state machine's *durable* index lets the driver compact the group's log.
//
// Items, in the order they come for one group:
//   kEntries:      committed entries, consecutive, continuing the previous item; apply each
//                  (an empty kNormal entry is a leader's no-op: nothing to do, but it counts).
//   kRestore:      the core installed a snapshot at `snapshot` (index, term, conf): replace the
//                  state machine by the image staged for it (the host stages a received image
//                  durably before it delivers the kSnapshot message to the driver, and keeps it
//                  until the state machine's durable index reaches it). The next kEntries
//                  continues after snapshot.index.
//   kSendSnapshot: a peer needs a snapshot. Generate the state machine's image exactly here
//                  (after every earlier item of the group, before any later one), which is
//                  state at `snapshot.index`, and stream it in bounded chunks to node `to`
//                  beside `message` (the core's kSnapshot message). This item does not count as
//                  progress: applied() never reports it.
// Thread-safety: called from the driver's thread; the sink must hand the items to its own
// threads and return quickly. Ownership: the sink takes the items.
#pragma once

#include <cstdint>
#include <vector>

#include "driver/types.h"
#include "raft/messages.h"
#include "raft/types.h"
#include "tessera/cluster.h"

namespace tessera::raft::driver {

struct ApplyItem {
  enum class Kind : uint8_t { kEntries, kRestore, kSendSnapshot };

  Kind kind = Kind::kEntries;
  std::vector<Entry> entries;  // kEntries
  SnapshotMeta snapshot;       // kRestore, kSendSnapshot
  tessera::NodeId to;          // kSendSnapshot
  Message message;             // kSendSnapshot
};

class ApplySink {
 public:
  virtual ~ApplySink() = default;

  // Takes this iteration's items of one group, in order. Called at most once per group per
  // iteration. REQUIRES: !items.empty().
  virtual void apply(GroupId group, std::vector<ApplyItem> items) = 0;
};

}  // namespace tessera::raft::driver
