#include "plugin/shared_log.h"

#include <utility>

namespace tessera::raft_plugin {
namespace {

std::string store_name(ReplicaId self, const GroupId& name) {
  return std::to_string(self) + ":" + name;
}

}  // namespace

Status SharedLog::write(const raft::driver::LogWrite& write) {
  scratch_.clear();
  for (const raft::driver::GroupWrite& g : write.groups) {
    raftlog::GroupWrite w;
    w.group = g.group;
    // An installed snapshot and a compaction are both the log's new start point: the store
    // keeps the entries after it only when it holds the start's index at the start's term
    // (true for a compaction, false for a snapshot the core installed).
    w.start = g.snapshot ? g.snapshot : g.compacted_to;
    w.entries = g.entries;
    w.hard_state = g.hard_state;
    scratch_.push_back(std::move(w));
  }
  return store_->write(scratch_, /*sync=*/true);
}

Result<std::vector<StoredGroup>> SharedLog::groups() const {
  std::vector<StoredGroup> out;
  for (const raftlog::GroupInfo& info : store_->groups()) {
    const size_t colon = info.name.find(':');
    uint64_t self = 0;
    bool parsed = colon != std::string::npos && colon > 0;
    for (size_t k = 0; parsed && k < colon; ++k) {
      const char c = info.name[k];
      parsed = c >= '0' && c <= '9' && self <= (UINT64_MAX - 9) / 10;
      self = self * 10 + static_cast<uint64_t>(c - '0');
    }
    if (!parsed || self == 0) {
      return Status::corruption("raft log " + store_->dir().string() + ": group " +
                                std::to_string(info.id) + " has the name '" + info.name +
                                "', not <replica>:<group>");
    }
    out.push_back({info.id, info.name.substr(colon + 1), self});
  }
  return out;
}

Status SharedLog::create(raft::driver::GroupId id, const GroupId& name, ReplicaId self,
                         const raft::SnapshotMeta& start) {
  raftlog::GroupWrite w;
  w.group = id;
  w.create = store_name(self, name);
  if (start.index > 0 || !start.conf.voters.empty()) w.start = start;
  return store_->write(std::span<const raftlog::GroupWrite>(&w, 1), /*sync=*/true);
}

Status SharedLog::remove(raft::driver::GroupId id) {
  storages_.erase(id);
  raftlog::GroupWrite w;
  w.group = id;
  w.remove = true;
  return store_->write(std::span<const raftlog::GroupWrite>(&w, 1), /*sync=*/true);
}

raft::LogStorage* SharedLog::storage(raft::driver::GroupId id) {
  std::unique_ptr<raftlog::GroupStorage>& s = storages_[id];
  if (s == nullptr) s = std::make_unique<raftlog::GroupStorage>(store_, id);
  return s.get();
}

Result<raft::DurableState> SharedLog::recover(raft::driver::GroupId id, LogIndex applied) {
  return raftlog::durable_state(*store_, id, applied, storage(id));
}

}  // namespace tessera::raft_plugin
