// LogStore: the write path, reads, compaction and garbage collection. Recovery is in
// recovery.cc.
#include "log_store/log_store.h"

#include <algorithm>

namespace tessera::raftlog {
namespace {

std::string group_name(GroupId group) { return "group " + std::to_string(group); }

// An upper bound of the bytes a GroupWrite's records take, computed before encoding anything.
uint64_t planned_bytes(const GroupWrite& w) {
  static constexpr uint64_t kRecordBytes = kRecordHeaderBytes + kPayloadHeaderBytes;
  uint64_t bytes = 4 * kRecordBytes + 4 + kGroupNameBytesMax + 2 * kHardStateBytes + 1;
  if (w.start) {
    bytes += 24 + 8 * (w.start->conf.voters.size() + w.start->conf.learners.size());
  }
  for (const Entry& e : w.entries) {
    bytes +=
        encoded_entry_bytes(e) + kRecordBytes + kEntriesRunHeaderBytes;  // worst: a record each
  }
  return bytes;
}

}  // namespace

LogStore::LogStore(const LogStoreOptions& options)
    : options_(options), cache_(options.cache_bytes_max) {}

LogStore::~LogStore() {
  // Tidy, not needed for correctness: recovery cuts zero fill and loses only compactions.
  if (failed_.is_ok() && active_ != nullptr) {
    (void)flush_pending();
    (void)active_->trim();
  }
}

const LogStore::Group* LogStore::find(GroupId group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? nullptr : &it->second;
}

Status LogStore::fail(Status status) {
  failed_ = status;
  return status;
}

bool LogStore::keeps_suffix(const Group& g, const SnapshotMeta& meta) {
  if (meta.index == g.meta.start.index) return meta.term == g.meta.start.term;
  if (meta.index < g.log.first_index() || meta.index > g.log.last_index()) return false;
  return g.log.term(meta.index) == meta.term;
}

void LogStore::apply_start(Group* g, const SnapshotMeta& meta, bool keep_suffix) {
  if (keep_suffix) {
    g->log.drop_through(meta.index);
  } else {
    g->log.reset(meta.index + 1);
  }
  g->meta.start = meta;
}

Status LogStore::validate(const GroupWrite& w) const {
  const Group* existing = find(w.group);
  if (w.remove) {
    if (w.create || w.start || !w.entries.empty() || w.hard_state) {
      return Status::invalid_argument(group_name(w.group) + ": remove together with changes");
    }
    if (existing == nullptr) return Status::not_found(group_name(w.group) + " does not exist");
    return Status::ok();
  }
  std::optional<Group> fresh;  // a deque allocates even when empty: only for a create
  if (w.create) {
    if (existing != nullptr) {
      return Status::invalid_argument(group_name(w.group) + " exists already");
    }
    if (w.create->size() > kGroupNameBytesMax) {
      return Status::invalid_argument(group_name(w.group) + ": name longer than " +
                                      std::to_string(kGroupNameBytesMax) + " bytes");
    }
    existing = &fresh.emplace();
  } else if (existing == nullptr) {
    return Status::not_found(group_name(w.group) + " does not exist");
  }
  Index start = existing->meta.start.index;
  Index last = existing->log.last_index();
  if (w.start) {
    if (w.start->index < start) {
      return Status::invalid_argument(group_name(w.group) + ": start " +
                                      std::to_string(w.start->index) +
                                      " is below the log's start " + std::to_string(start));
    }
    if (w.start->conf.voters.size() > kConfMembersMax ||
        w.start->conf.learners.size() > kConfMembersMax) {
      return Status::invalid_argument(group_name(w.group) + ": configuration too large");
    }
    if (!keeps_suffix(*existing, *w.start)) last = w.start->index;
    start = w.start->index;
  }
  if (!w.entries.empty()) {
    Index first = w.entries.front().index;
    if (first <= start || first > last + 1) {
      return Status::invalid_argument(group_name(w.group) + ": entries from " +
                                      std::to_string(first) + " do not follow the log (start " +
                                      std::to_string(start) + ", last " + std::to_string(last) +
                                      ")");
    }
    for (size_t i = 0; i < w.entries.size(); ++i) {
      const Entry& e = w.entries[i];
      if (e.index != first + i || (i > 0 && e.term < w.entries[i - 1].term)) {
        return Status::invalid_argument(group_name(w.group) + ": entry " + std::to_string(e.index) +
                                        " breaks the run");
      }
      if (e.type != raft::EntryType::kNormal && e.type != raft::EntryType::kConfChange) {
        return Status::invalid_argument(group_name(w.group) + ": unknown entry type");
      }
      if (e.data.size() > kEntryDataBytesMax) {
        return Status::too_large(group_name(w.group) + ": entry " + std::to_string(e.index) +
                                 " is over " + std::to_string(kEntryDataBytesMax) + " bytes");
      }
    }
  }
  return Status::ok();
}

Status LogStore::encode(std::span<const GroupWrite> writes, std::vector<EntrySpan>* spans) {
  buffer_.clear();
  buffer_.append(pending_);
  for (const GroupWrite& w : writes) {
    if (w.remove) {
      append_remove(&buffer_, w.group);
      continue;
    }
    std::optional<Group> fresh;
    const Group* g = find(w.group);
    if (w.create) {
      g = &fresh.emplace();
      fresh->meta.name = *w.create;
      append_group_state(&buffer_, RecordKind::kGroupState, w.group, fresh->meta);
    }
    if (w.start) append_start(&buffer_, w.group, *w.start, keeps_suffix(*g, *w.start));
    // Runs of at most kRecordPayloadBytesMax each.
    size_t begin = 0;
    while (begin < w.entries.size()) {
      size_t end = begin;
      size_t bytes = kPayloadHeaderBytes + kEntriesRunHeaderBytes;
      while (
          end < w.entries.size() &&
          (end == begin || bytes + encoded_entry_bytes(w.entries[end]) <= kRecordPayloadBytesMax)) {
        bytes += encoded_entry_bytes(w.entries[end]);
        ++end;
      }
      append_entries(&buffer_, w.group, w.entries.subspan(begin, end - begin), spans);
      begin = end;
    }
    if (w.hard_state) append_hard_state(&buffer_, w.group, *w.hard_state);
  }
  return Status::ok();
}

void LogStore::apply(std::span<const GroupWrite> writes, const std::vector<EntrySpan>& spans,
                     uint64_t base) {
  size_t next_span = 0;
  for (const GroupWrite& w : writes) {
    if (w.remove) {
      cache_.erase_from(w.group, 0);
      groups_.erase(w.group);
      gc_due_ = true;
      continue;
    }
    if (w.create) {
      Group& fresh = groups_[w.group];
      fresh = Group{};
      fresh.meta.name = *w.create;
      cache_.erase_from(w.group, 0);
    }
    Group& g = groups_.at(w.group);
    if (w.start) {
      bool keep = keeps_suffix(g, *w.start);
      if (keep) {
        cache_.erase_through(w.group, w.start->index);
      } else {
        cache_.erase_from(w.group, 0);
      }
      apply_start(&g, *w.start, keep);
      gc_due_ = true;
    }
    if (!w.entries.empty()) {
      Index first = w.entries.front().index;
      if (first <= g.log.last_index()) {
        g.log.truncate_from(first);
        cache_.erase_from(w.group, first);
        gc_due_ = true;
      }
      for (const Entry& e : w.entries) {
        const EntrySpan& span = spans[next_span++];
        TESSERA_ASSERT(span.term == e.term);
        g.log.append(e.index, e.term,
                     {static_cast<uint32_t>(active_->number()),
                      static_cast<uint32_t>(base + span.offset), span.length});
        if (e.type == raft::EntryType::kConfChange) g.log.add_conf_entry(e);
        cache_.put(w.group, e);
      }
    }
    if (w.hard_state) g.meta.hard_state = *w.hard_state;
  }
  TESSERA_ASSERT(next_span == spans.size());
}

Status LogStore::append_buffer(ByteView bytes) {
  uint64_t writes_before = active_->write_syscalls();
  uint64_t fills_before = active_->fill_syscalls();
  Status status = active_->append(bytes);
  stats_.write_syscalls += active_->write_syscalls() - writes_before;
  stats_.fill_syscalls += active_->fill_syscalls() - fills_before;
  if (!status.is_ok()) return fail(status);
  stats_.bytes_written += bytes.size();
  unsynced_ = true;
  return Status::ok();
}

Status LogStore::write(std::span<const GroupWrite> writes, bool sync) {
  if (!failed_.is_ok()) return failed_;
  if (writes.empty()) return sync ? this->sync() : Status::ok();
  std::vector<GroupId> ids;
  ids.reserve(writes.size());
  uint64_t planned = pending_.size();
  for (const GroupWrite& w : writes) {
    TESSERA_RETURN_IF_ERROR(validate(w));
    ids.push_back(w.group);
    planned += planned_bytes(w);
  }
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) {
    return Status::invalid_argument("a write names a group twice");
  }
  if (planned > kWriteBytesMax) {
    return Status::too_large("a write of about " + std::to_string(planned) +
                             " bytes is over the bound of " + std::to_string(kWriteBytesMax));
  }
  // A synced write also carries forward a few small logs that keep the oldest segment alive
  // (same buffer, same fdatasync), so that GC never depends on collect_garbage() being called.
  std::vector<std::vector<Entry>> rewrite_logs;
  std::vector<GroupWrite> combined;
  if (sync && options_.rewrite_bytes_per_write_max > 0 && segments_.size() >= kRewriteSegmentsMin) {
    combined.assign(writes.begin(), writes.end());
    if (plan_rewrites(options_.rewrite_bytes_per_write_max, ids, &rewrite_logs, &combined)
            .is_ok() &&
        !rewrite_logs.empty()) {
      writes = combined;  // bounded by rewrite_bytes_per_write_max, far below kWriteBytesMax
    }
  }
  std::vector<EntrySpan> spans;
  TESSERA_RETURN_IF_ERROR(encode(writes, &spans));
  if (active_->size() + buffer_.size() > options_.segment_bytes &&
      active_->size() > active_head_end_) {
    TESSERA_RETURN_IF_ERROR(roll());
  }
  const uint64_t base = active_->size();
  if (base + buffer_.size() > UINT32_MAX) {  // the index keeps offsets in 32 bits
    return Status::too_large("a write of " + std::to_string(buffer_.size()) +
                             " bytes does not fit in a segment after its checkpoint");
  }
  TESSERA_RETURN_IF_ERROR(append_buffer(buffer_));
  pending_.clear();
  ++stats_.write_calls;
  if (sync) {
    ++stats_.fsyncs;
    Status status = active_->sync();
    if (!status.is_ok()) return fail(status);
    unsynced_ = false;
  }
  apply(writes, spans, base);
  if (writes.data() == combined.data()) {
    for (const auto& log : rewrite_logs) stats_.rewritten_entries += log.size();
  }
  if (buffer_.capacity() > (16u << 20)) Bytes().swap(buffer_);  // do not pin a huge buffer
  // The write is durable whatever GC does; a failed pass is retried by the next one.
  if (sync && gc_due_) (void)gc_pass();
  return Status::ok();
}

Status LogStore::flush_pending() {
  if (pending_.empty()) return Status::ok();
  if (active_->size() + pending_.size() > options_.segment_bytes &&
      active_->size() > active_head_end_) {
    TESSERA_RETURN_IF_ERROR(roll());
  }
  TESSERA_RETURN_IF_ERROR(append_buffer(pending_));
  pending_.clear();
  return Status::ok();
}

Status LogStore::sync() {
  if (!failed_.is_ok()) return failed_;
  TESSERA_RETURN_IF_ERROR(flush_pending());
  if (!unsynced_) return Status::ok();
  ++stats_.fsyncs;
  Status status = active_->sync();
  if (!status.is_ok()) return fail(status);
  unsynced_ = false;
  return Status::ok();
}

Status LogStore::compact(GroupId group, Index index, const ConfState& conf) {
  if (!failed_.is_ok()) return failed_;
  auto it = groups_.find(group);
  if (it == groups_.end()) return Status::not_found(group_name(group) + " does not exist");
  Group& g = it->second;
  if (index <= g.meta.start.index) return Status::ok();
  if (index > g.log.last_index()) {
    return Status::invalid_argument(group_name(group) + ": compact to " + std::to_string(index) +
                                    " beyond the last index " + std::to_string(g.log.last_index()));
  }
  if (conf.voters.size() > kConfMembersMax || conf.learners.size() > kConfMembersMax) {
    return Status::invalid_argument(group_name(group) + ": configuration too large");
  }
  SnapshotMeta meta{index, g.log.term(index), conf};
  append_start(&pending_, group, meta, true);
  cache_.erase_through(group, index);
  apply_start(&g, meta, true);
  gc_due_ = true;
  // Many compactions between two writes: out with them (no sync) rather than hold them all.
  if (pending_.size() > kPendingBytesMax) return flush_pending();
  return Status::ok();
}

Status LogStore::collect_garbage() {
  TESSERA_RETURN_IF_ERROR(sync());
  TESSERA_RETURN_IF_ERROR(gc_pass());
  if (options_.rewrite_bytes_max == 0) return Status::ok();
  TESSERA_RETURN_IF_ERROR(rewrite_pinning_groups());
  return gc_pass();
}

Status LogStore::plan_rewrites(size_t budget, std::span<const GroupId> exclude,
                               std::vector<std::vector<Entry>>* logs,
                               std::vector<GroupWrite>* writes) {
  const uint64_t oldest = segments_.begin()->first;
  if (oldest == active_->number()) return Status::ok();
  // Each chosen group's whole log, rewritten as one run from its first index: the truncation
  // rule replaces the log by the same entries, now in the active segment.
  const size_t planned = writes->size();
  for (const auto& [id, g] : groups_) {
    if (g.log.empty() || g.log.first_segment() != oldest) continue;
    if (std::binary_search(exclude.begin(), exclude.end(), id)) continue;
    size_t bytes = 0;
    for (Index i = g.log.first_index(); i <= g.log.last_index() && bytes <= budget; ++i) {
      bytes += g.log.location(i).length;
    }
    if (bytes > budget) continue;
    TESSERA_ASSIGN_OR_RETURN(
        auto entries, this->entries(id, g.log.first_index(), g.log.last_index() + 1, SIZE_MAX));
    TESSERA_ASSERT(entries.size() == g.log.size());
    budget -= bytes;
    logs->push_back(std::move(entries));
    GroupWrite w;
    w.group = id;
    writes->push_back(w);
  }
  // The spans last: logs may have moved while it grew.
  for (size_t i = planned; i < writes->size(); ++i) {
    (*writes)[i].entries = (*logs)[logs->size() - (writes->size() - i)];
  }
  return Status::ok();
}

Status LogStore::rewrite_pinning_groups() {
  std::vector<std::vector<Entry>> logs;
  std::vector<GroupWrite> writes;
  TESSERA_RETURN_IF_ERROR(plan_rewrites(options_.rewrite_bytes_max, {}, &logs, &writes));
  if (writes.empty()) return Status::ok();
  TESSERA_RETURN_IF_ERROR(write(writes, /*sync=*/true));
  for (const auto& log : logs) stats_.rewritten_entries += log.size();
  return Status::ok();
}

Status LogStore::roll() {
  if (active_ != nullptr) {
    // The segment must be whole on disk before a newer one exists: recovery then treats only
    // the newest segment's tail as possibly torn.
    ++stats_.fsyncs;
    Status status = active_->trim();
    if (!status.is_ok()) return fail(status);
    unsynced_ = false;
  }
  const uint64_t number = next_segment_;
  if (number > UINT32_MAX) return fail(Status::internal("segment numbers exhausted"));
  const fs::path path = segment_path(options_.dir, number);
  auto file = SegmentFile::create(path, number,
                                  std::min(options_.zero_fill_chunk_bytes, options_.segment_bytes));
  if (!file.is_ok()) return fail(file.status());
  ++next_segment_;
  Bytes head;
  append_segment_header(&head, number);
  for (const auto& [id, g] : groups_) {
    append_group_state(&head, RecordKind::kCheckpointGroup, id, g.meta);
  }
  append_checkpoint_end(&head, groups_.size());
  active_ = file->get();
  segments_.emplace(number, std::move(file).value());
  ++stats_.segments_created;
  TESSERA_RETURN_IF_ERROR(append_buffer(head));
  active_head_end_ = head.size();
  ++stats_.dir_syncs;
  Status status = sync_dir(options_.dir);
  if (!status.is_ok()) return fail(status);
  gc_due_ = true;
  return Status::ok();
}

Status LogStore::gc_pass() {
  if (unsynced_ || !pending_.empty()) return Status::ok();  // what frees a segment is not durable
  if (segments_.size() == 1) {  // only the active segment: nothing to delete, skip the scan
    gc_due_ = false;
    return Status::ok();
  }
  uint64_t keep_from = active_->number();
  for (const auto& [id, g] : groups_) {
    if (!g.log.empty()) keep_from = std::min<uint64_t>(keep_from, g.log.first_segment());
  }
  size_t deleted = 0;
  Status status;
  while (segments_.begin()->first < keep_from && deleted < options_.gc_segments_per_call_max) {
    fs::path path = segments_.begin()->second->path();
    segments_.erase(segments_.begin());
    ++deleted;
    ++stats_.segments_deleted;
    status = remove_file(path);
    if (!status.is_ok()) break;
  }
  gc_due_ = !status.is_ok() || segments_.begin()->first < keep_from;
  if (deleted > 0) {
    ++stats_.dir_syncs;
    Status synced = sync_dir(options_.dir);
    if (status.is_ok()) status = synced;
  }
  return status;
}

Result<std::vector<Entry>> LogStore::entries(GroupId group, Index lo, Index hi, size_t bytes_max) {
  const Group* g = find(group);
  if (g == nullptr) return Status::not_found(group_name(group) + " does not exist");
  if (lo < g->log.first_index() || lo > hi || hi > g->log.last_index() + 1) {
    return Status::invalid_argument(group_name(group) + ": entries [" + std::to_string(lo) + ", " +
                                    std::to_string(hi) + ") outside the log [" +
                                    std::to_string(g->log.first_index()) + ", " +
                                    std::to_string(g->log.last_index()) + "]");
  }
  std::vector<Entry> out;
  size_t bytes = 0;
  auto fits = [&](size_t n) { return out.empty() || bytes + n <= bytes_max; };
  Bytes scratch;
  Index i = lo;
  while (i < hi) {
    if (const Entry* cached = cache_.get(group, i)) {
      if (!fits(cached->data.size())) break;
      ++stats_.cache_hits;
      bytes += cached->data.size();
      out.push_back(*cached);
      ++i;
      continue;
    }
    // A run of uncached entries lying next to each other in one segment: one pread.
    const EntryLocation first = g->log.location(i);
    Index j = i + 1;
    uint64_t run_bytes = first.length;
    while (j < hi && run_bytes < options_.read_bytes_max) {
      const EntryLocation& next = g->log.location(j);
      if (next.segment != first.segment || next.offset != first.offset + run_bytes ||
          run_bytes + next.length > options_.read_bytes_max || cache_.get(group, j) != nullptr) {
        break;
      }
      run_bytes += next.length;
      ++j;
    }
    auto segment = segments_.find(first.segment);
    if (segment == segments_.end()) {
      return Status::internal(group_name(group) + ": entry " + std::to_string(i) +
                              " is in deleted segment " + std::to_string(first.segment));
    }
    const SegmentFile& file = *segment->second;
    scratch.resize(run_bytes);
    ++stats_.disk_reads;
    TESSERA_RETURN_IF_ERROR(file.read(first.offset, run_bytes, scratch.data()));
    uint64_t at = 0;
    for (Index k = i; k < j; ++k) {
      const EntryLocation& loc = g->log.location(k);
      auto entry = decode_entry(ByteView(scratch).substr(at, loc.length), k);
      if (entry.is_ok() && entry->term != g->log.term(k)) {
        entry = Status::corruption("entry " + std::to_string(k) + ": term differs from the index");
      }
      if (!entry.is_ok()) {
        return entry.status().with_context(file.path().string() + " at offset " +
                                           std::to_string(loc.offset));
      }
      at += loc.length;
      if (!fits(entry->data.size())) return out;
      ++stats_.cache_misses;
      bytes += entry->data.size();
      cache_.put(group, *entry);
      out.push_back(std::move(entry).value());
    }
    i = j;
  }
  return out;
}

Result<Term> LogStore::term(GroupId group, Index index) const {
  const Group* g = find(group);
  if (g == nullptr) return Status::not_found(group_name(group) + " does not exist");
  if (index == g->meta.start.index) return g->meta.start.term;
  if (index < g->log.first_index() || index > g->log.last_index()) {
    return Status::invalid_argument(group_name(group) + ": no term for index " +
                                    std::to_string(index));
  }
  return g->log.term(index);
}

Result<Index> LogStore::first_index(GroupId group) const {
  const Group* g = find(group);
  if (g == nullptr) return Status::not_found(group_name(group) + " does not exist");
  return g->log.first_index();
}

Result<Index> LogStore::last_index(GroupId group) const {
  const Group* g = find(group);
  if (g == nullptr) return Status::not_found(group_name(group) + " does not exist");
  return g->log.last_index();
}

Result<HardState> LogStore::hard_state(GroupId group) const {
  const Group* g = find(group);
  if (g == nullptr) return Status::not_found(group_name(group) + " does not exist");
  return g->meta.hard_state;
}

Result<SnapshotMeta> LogStore::start(GroupId group) const {
  const Group* g = find(group);
  if (g == nullptr) return Status::not_found(group_name(group) + " does not exist");
  return g->meta.start;
}

Result<std::vector<TermRun>> LogStore::term_runs(GroupId group) const {
  const Group* g = find(group);
  if (g == nullptr) return Status::not_found(group_name(group) + " does not exist");
  const auto& runs = g->log.term_runs();
  return std::vector<TermRun>(runs.begin(), runs.end());
}

Result<std::vector<Entry>> LogStore::conf_entries(GroupId group) const {
  const Group* g = find(group);
  if (g == nullptr) return Status::not_found(group_name(group) + " does not exist");
  const auto& conf = g->log.conf_entries();
  return std::vector<Entry>(conf.begin(), conf.end());
}

std::vector<GroupInfo> LogStore::groups() const {
  std::vector<GroupInfo> out;
  out.reserve(groups_.size());
  for (const auto& [id, g] : groups_) {
    out.push_back({id, g.meta.name, g.log.first_index(), g.log.last_index()});
  }
  return out;
}

LogStoreStats LogStore::stats() const {
  LogStoreStats s = stats_;
  s.segments_live = segments_.size();
  s.segment_first = segments_.empty() ? 0 : segments_.begin()->first;
  s.segment_last = segments_.empty() ? 0 : segments_.rbegin()->first;
  s.cache_bytes = cache_.bytes();
  s.cache_entries = cache_.count();
  for (const auto& [id, g] : groups_) {
    s.index_entries += g.log.size();
    s.index_bytes += g.log.memory_bytes();
  }
  return s;
}

}  // namespace tessera::raftlog
