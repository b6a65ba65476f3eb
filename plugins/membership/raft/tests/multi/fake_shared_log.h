// FakeSharedLog: one node's shared Raft log for the simulation, surviving the node's crashes.
//
// Purpose: the DurableLog the simulated driver writes to, modelling the shared segmented log of
// a real node: one write() is one group-commit of records of many groups, then one sync. A
// write can be armed to be torn: the node dies inside the call, and any prefix of the call's
// records survives (records of a group in the order start point, entries, hard state; groups
// in the order given), never a later record without every earlier one: what a log with
// checksummed records and torn-tail recovery presents after a crash. Every stored entry is
// hashed into a per-group prefix chain, so that the durability check compares one value.
// Per group it is also the core's LogStorage (the read-back of entries the core no longer
// caches), failing now and then when asked to.
// Thread-safety: none. Ownership: owns every group's stored log; the LogStorage objects it
// hands out live as long as it does.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "driver/durable_log.h"
#include "raft/storage.h"
#include "raft/types.h"
#include "tessera/sim/rng.h"

namespace tessera::raft::multi_sim {

using driver::GroupId;

class FakeSharedLog : public driver::DurableLog {
 public:
  // Called for every entry that becomes durable, with its prefix chain.
  using OnPersist = std::function<void(GroupId, const Entry&, uint64_t chain)>;
  // The chain of the committed prefix ending at an index (a snapshot's start point).
  using CommittedChain = std::function<uint64_t(GroupId, Index)>;

  FakeSharedLog(sim::Rng& rng, OnPersist on_persist, CommittedChain committed_chain);

  // A group this node hosts, starting from `start` (founders: {0, 0, founders}).
  void add_group(GroupId group, const SnapshotMeta& start);

  Status write(const driver::LogWrite& write) override;

  // The next write() is torn: a random prefix of its records survives and it fails (the node
  // is to crash at once).
  void arm_torn_write() { torn_armed_ = true; }
  // Disarms a torn write that did not happen (the iteration wrote nothing).
  void disarm_torn_write() { torn_armed_ = false; }
  // Probability that one LogStorage read fails with kIOError.
  void set_read_error_chance(double p) { read_error_chance_ = p; }

  // What the group's core restarts from. `sm_durable` is the state machine's durable index.
  // REQUIRES: the group was added; sm_durable <= last stored index.
  DurableState durable_state(GroupId group, Index sm_durable);
  const SnapshotMeta& start(GroupId group) const { return groups_.at(group)->start; }
  Index last_index(GroupId group) const { return groups_.at(group)->last_index(); }
  // Whether the stored log of `group` holds the committed prefix ending at (index, chain).
  bool holds(GroupId group, Index index, uint64_t chain) const;

  uint64_t syncs() const { return syncs_; }
  uint64_t torn_writes() const { return torn_writes_; }
  uint64_t reads() const { return reads_; }
  uint64_t read_errors() const { return read_errors_; }

 private:
  struct GroupDisk;
  class Storage : public LogStorage {
   public:
    Storage(FakeSharedLog& log, GroupDisk& disk) : log_(log), disk_(disk) {}
    Result<std::vector<Entry>> entries(Index lo, Index hi, size_t bytes_max) override;

   private:
    FakeSharedLog& log_;
    GroupDisk& disk_;
  };
  struct GroupDisk {
    GroupId id = 0;
    SnapshotMeta start;
    uint64_t start_chain = 0;
    HardState hard_state;
    std::deque<Entry> entries;  // (start.index, last_index()]
    std::deque<uint64_t> chains;
    std::unique_ptr<Storage> storage;
    Index last_index() const { return start.index + entries.size(); }
  };

  // Applies up to *budget records of one group's write; false once the budget ran out.
  bool apply(GroupDisk& disk, const driver::GroupWrite& w, size_t* budget);
  void put_entry(GroupDisk& disk, const Entry& e);

  sim::Rng& rng_;
  OnPersist on_persist_;
  CommittedChain committed_chain_;
  std::map<GroupId, std::unique_ptr<GroupDisk>> groups_;
  bool torn_armed_ = false;
  double read_error_chance_ = 0.0;
  uint64_t syncs_ = 0;
  uint64_t torn_writes_ = 0;
  uint64_t reads_ = 0;
  uint64_t read_errors_ = 0;
};

}  // namespace tessera::raft::multi_sim
