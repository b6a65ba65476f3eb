#include "fake_shared_log.h"

#include <algorithm>
#include <utility>

#include "harness/checker.h"
#include "tessera/assert.h"

namespace tessera::raft::multi_sim {

FakeSharedLog::FakeSharedLog(sim::Rng& rng, OnPersist on_persist, CommittedChain committed_chain)
    : rng_(rng), on_persist_(std::move(on_persist)), committed_chain_(std::move(committed_chain)) {}

void FakeSharedLog::add_group(GroupId group, const SnapshotMeta& start) {
  auto disk = std::make_unique<GroupDisk>();
  disk->id = group;
  disk->start = start;
  disk->storage = std::make_unique<Storage>(*this, *disk);
  groups_.emplace(group, std::move(disk));
}

Result<std::vector<Entry>> FakeSharedLog::Storage::entries(Index lo, Index hi, size_t bytes_max) {
  ++log_.reads_;
  if (log_.rng_.chance(log_.read_error_chance_)) {
    ++log_.read_errors_;
    return Status::io_error("simulated read error");
  }
  TESSERA_ASSERT(lo > disk_.start.index && lo < hi && hi <= disk_.last_index() + 1);
  std::vector<Entry> out;
  size_t bytes = 0;
  for (Index i = lo; i < hi; ++i) {
    const Entry& e = disk_.entries[i - disk_.start.index - 1];
    bytes += e.data.size();
    if (!out.empty() && bytes > bytes_max) break;
    out.push_back(e);
  }
  return out;
}

void FakeSharedLog::put_entry(GroupDisk& disk, const Entry& e) {
  TESSERA_ASSERT(e.index > disk.start.index && e.index <= disk.last_index() + 1);
  const size_t keep = e.index - disk.start.index - 1;
  disk.entries.resize(keep);
  disk.chains.resize(keep);
  const uint64_t prev = disk.chains.empty() ? disk.start_chain : disk.chains.back();
  const uint64_t chain = sim_harness::chain_hash(prev, e);
  disk.entries.push_back(e);
  disk.chains.push_back(chain);
  on_persist_(disk.id, e, chain);
}

bool FakeSharedLog::apply(GroupDisk& disk, const driver::GroupWrite& w, size_t* budget) {
  auto take = [&] {
    if (*budget == 0) return false;
    --*budget;
    return true;
  };
  if (w.snapshot) {
    if (!take()) return false;
    disk.start = *w.snapshot;
    disk.start_chain = committed_chain_(disk.id, w.snapshot->index);
    disk.entries.clear();
    disk.chains.clear();
  } else if (w.compacted_to && w.compacted_to->index > disk.start.index) {
    if (!take()) return false;
    const SnapshotMeta& meta = *w.compacted_to;
    TESSERA_ASSERT(meta.index <= disk.last_index());
    const size_t drop = meta.index - disk.start.index;
    TESSERA_ASSERT(disk.entries[drop - 1].term == meta.term);
    disk.start_chain = disk.chains[drop - 1];
    disk.entries.erase(disk.entries.begin(), disk.entries.begin() + static_cast<ptrdiff_t>(drop));
    disk.chains.erase(disk.chains.begin(), disk.chains.begin() + static_cast<ptrdiff_t>(drop));
    disk.start = meta;
  }
  for (const Entry& e : w.entries) {
    if (!take()) return false;
    put_entry(disk, e);
  }
  if (w.hard_state) {
    if (!take()) return false;
    disk.hard_state = *w.hard_state;
  }
  return true;
}

Status FakeSharedLog::write(const driver::LogWrite& write) {
  TESSERA_ASSERT(!write.empty());
  size_t records = 0;
  for (const driver::GroupWrite& w : write.groups) {
    records += (w.snapshot || w.compacted_to ? 1 : 0) + w.entries.size() + (w.hard_state ? 1 : 0);
  }
  size_t budget = records;
  const bool torn = torn_armed_;
  if (torn) {
    torn_armed_ = false;
    budget = rng_.uniform(records + 1);  // records + 1 choices: none .. all, then no ack
  }
  for (const driver::GroupWrite& w : write.groups) {
    if (!apply(*groups_.at(w.group), w, &budget)) break;
  }
  if (torn) {
    ++torn_writes_;
    return Status::io_error("simulated crash during the log write");
  }
  ++syncs_;
  return Status::ok();
}

DurableState FakeSharedLog::durable_state(GroupId group, Index sm_durable) {
  GroupDisk& disk = *groups_.at(group);
  DurableState d;
  d.hard_state = disk.hard_state;
  d.snapshot = disk.start;
  TESSERA_ASSERT(sm_durable <= disk.last_index());
  d.applied = std::max(sm_durable, disk.start.index);
  d.storage = disk.storage.get();
  d.last_index = disk.last_index();
  for (const Entry& e : disk.entries) {
    if (d.term_runs.empty() || d.term_runs.back().term != e.term) {
      d.term_runs.push_back(TermRun{e.index, e.term});
    }
    if (e.type == EntryType::kConfChange) d.conf_entries.push_back(e);
  }
  return d;
}

bool FakeSharedLog::holds(GroupId group, Index index, uint64_t chain) const {
  const GroupDisk& disk = *groups_.at(group);
  if (index <= disk.start.index) return true;  // start points are committed prefixes
  const Index offset = index - disk.start.index - 1;
  return offset < disk.chains.size() && disk.chains[offset] == chain;
}

}  // namespace tessera::raft::multi_sim
