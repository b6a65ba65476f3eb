// The shared raft log against a model: seeded random sequences of group creates and removals,
// appends, suffix overwrites, snapshot start points, compactions, hard states, garbage
// collection and reopens, on tiny segments so that rolls, checkpoints, deletions and rewrites
// happen all the time. After every step the log's per-group view (start, first/last index,
// hard state, term runs, configuration entries) equals the model's, and after every reopen
// and now and then every entry is read back and compared. A failure prints TESSERA_SEED=<n>;
// TESSERA_SEED=<n> replays that seed alone, TESSERA_SEEDS=<n> sets how many seeds run.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "test_util.h"

namespace tessera::raftlog {
namespace {

using namespace testing;

struct ModelGroup {
  std::string name;
  HardState hard_state;
  SnapshotMeta start;
  std::map<Index, Entry> entries;
  Term term = 1;  // terms only grow along a group's log

  Index last() const { return entries.empty() ? start.index : entries.rbegin()->first; }
  std::optional<Term> term_at(Index i) const {
    if (i == start.index) return start.term;
    auto it = entries.find(i);
    if (it == entries.end()) return std::nullopt;
    return it->second.term;
  }
};

class ModelRun {
 public:
  ModelRun(uint64_t seed, const fs::path& dir) : rng_(seed) {
    options_.dir = dir;
    options_.segment_bytes = 4096;
    options_.zero_fill_chunk_bytes = rng_() % 2 ? 1024 : 0;
    options_.cache_bytes_max = 2048;
    options_.gc_segments_per_call_max = 1 + rng_() % 3;
    options_.rewrite_bytes_max = rng_() % 2 ? 4096 : 0;
    reopen();
  }

  void step(int n) {
    switch (rng_() % 20) {
      case 0:
        collect_garbage();
        break;
      case 1:
        reopen();
        break;
      default:
        write();
    }
    check_meta();
    if (n % 25 == 0) check_entries();
  }

  void reopen() {
    if (store_ != nullptr) {
      LogStoreStats stats = store_->stats();
      totals_.segments_created += stats.segments_created;
      totals_.segments_deleted += stats.segments_deleted;
      totals_.rewritten_entries += stats.rewritten_entries;
    }
    store_.reset();
    store_ = open_store(options_);
    ASSERT_NE(store_, nullptr);
    check_meta();
    check_entries();
  }

  const LogStoreStats& totals() const { return totals_; }

  void check_meta() {
    ASSERT_EQ(store_->groups().size(), model_.size());
    for (const auto& [id, m] : model_) {
      ASSERT_TRUE(store_->contains(id)) << "group " << id;
      EXPECT_EQ(store_->groups()[std::distance(model_.begin(), model_.find(id))].name, m.name);
      ASSERT_EQ(*store_->start(id), m.start) << "group " << id;
      ASSERT_EQ(*store_->first_index(id), m.start.index + 1) << "group " << id;
      ASSERT_EQ(*store_->last_index(id), m.last()) << "group " << id;
      ASSERT_EQ(*store_->hard_state(id), m.hard_state) << "group " << id;
      std::vector<TermRun> runs;
      std::vector<Entry> conf;
      for (const auto& [i, e] : m.entries) {
        if (runs.empty() || runs.back().term != e.term) runs.push_back({i, e.term});
        if (e.type == raft::EntryType::kConfChange) conf.push_back(e);
      }
      ASSERT_EQ(*store_->term_runs(id), runs) << "group " << id;
      ASSERT_EQ(*store_->conf_entries(id), conf) << "group " << id;
    }
  }

  void check_entries() {
    for (const auto& [id, m] : model_) {
      if (m.entries.empty()) continue;
      Index lo = m.entries.begin()->first;
      Index hi = m.last() + 1;
      for (Index i = lo; i < hi;) {
        auto got = store_->entries(id, i, hi, rng_() % 600);
        ASSERT_TRUE(got.is_ok()) << got.status().to_string();
        ASSERT_FALSE(got->empty());
        for (const Entry& e : *got) {
          ASSERT_EQ(e, m.entries.at(i)) << "group " << id << " entry " << i;
          ++i;
        }
      }
    }
  }

 private:
  void collect_garbage() {
    ASSERT_TRUE(store_->collect_garbage().is_ok());
    // A compaction now and then, as the state machine's durable index moves on.
    for (auto& [id, m] : model_) {
      if (m.entries.empty() || rng_() % 2) continue;
      Index index = m.start.index + 1 + rng_() % (m.last() - m.start.index);
      ConfState conf{{1, id}, {}};
      ASSERT_TRUE(store_->compact(id, index, conf).is_ok());
      m.start = {index, *m.term_at(index), conf};
      m.entries.erase(m.entries.begin(), m.entries.upper_bound(index));
    }
  }

  void write() {
    // Up to three groups per write, each with a random mix of changes.
    std::vector<GroupWrite> writes;
    std::vector<std::vector<Entry>> runs(3);
    std::set<GroupId> used;
    const int n = 1 + static_cast<int>(rng_() % 3);
    for (int k = 0; k < n; ++k) {
      GroupId id = 1 + rng_() % 8;
      if (!used.insert(id).second) continue;
      GroupWrite w;
      w.group = id;
      auto it = model_.find(id);
      if (it == model_.end()) {
        if (rng_() % 3 != 0) continue;
        w.create = "group-" + std::to_string(id) + "-" + std::to_string(rng_() % 100);
        ModelGroup fresh;
        fresh.name = *w.create;
        it = model_.emplace(id, fresh).first;
      } else if (rng_() % 30 == 0) {
        w.remove = true;
        writes.push_back(w);
        model_.erase(it);
        continue;
      }
      ModelGroup& m = it->second;
      if (rng_() % 10 == 0) {  // a snapshot start: sometimes inside the log at its term
        Index index = m.start.index + rng_() % (m.last() - m.start.index + 4);
        Term term = m.term_at(index).value_or(m.term);
        if (rng_() % 3 == 0) term = ++m.term;
        w.start = SnapshotMeta{index, term, ConfState{{1, 2, 3}, {id}}};
        bool keep = m.term_at(index) == term;
        if (keep) {
          m.entries.erase(m.entries.begin(), m.entries.upper_bound(index));
        } else {
          m.entries.clear();
        }
        m.start = *w.start;
        m.term = std::max(m.term, term);
      }
      if (rng_() % 4 != 0) {
        Index first = m.last() + 1;
        if (rng_() % 4 == 0 && m.last() > m.start.index) {  // overwrite a suffix, new term
          first = m.start.index + 1 + rng_() % (m.last() - m.start.index);
          ++m.term;
        }
        auto& run = runs[k];
        run = make_entries(id, first, 1 + rng_() % 5, m.term, rng_() % 1000, 120);
        for (Entry& e : run) {
          if (rng_() % 8 == 0) e.type = raft::EntryType::kConfChange;
        }
        w.entries = run;
        m.entries.erase(m.entries.lower_bound(first), m.entries.end());
        for (const Entry& e : run) m.entries[e.index] = e;
      }
      if (rng_() % 2) {
        w.hard_state = HardState{m.term, rng_() % 4, m.last()};
        m.hard_state = *w.hard_state;
      }
      writes.push_back(w);
    }
    Status s = store_->write(writes, /*sync=*/rng_() % 4 == 0);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }

  std::mt19937_64 rng_;
  LogStoreOptions options_;
  std::unique_ptr<LogStore> store_;
  std::map<GroupId, ModelGroup> model_;
  LogStoreStats totals_;  // summed over the opens of the run
};

TEST(LogStoreModel, RandomOperationsAndReopensMatchTheModel) {
  uint64_t first = 1;
  uint64_t seeds = 10;
  if (const char* s = std::getenv("TESSERA_SEED")) {
    first = std::stoull(s);
    seeds = 1;
  }
  if (const char* s = std::getenv("TESSERA_SEEDS")) seeds = std::stoull(s);
  constexpr int kSteps = 400;
  LogStoreStats totals;
  for (uint64_t seed = first; seed < first + seeds; ++seed) {
    TempDir dir;
    ModelRun run(seed, dir.path());
    for (int n = 1; n <= kSteps && !HasFatalFailure(); ++n) run.step(n);
    if (!HasFatalFailure()) run.reopen();
    if (HasFatalFailure()) {
      std::printf("TESSERA_SEED=%llu\n", static_cast<unsigned long long>(seed));
      return;
    }
    totals.segments_created += run.totals().segments_created;
    totals.segments_deleted += run.totals().segments_deleted;
    totals.rewritten_entries += run.totals().rewritten_entries;
  }
  std::printf("segments created %llu, deleted %llu; entries rewritten %llu\n",
              static_cast<unsigned long long>(totals.segments_created),
              static_cast<unsigned long long>(totals.segments_deleted),
              static_cast<unsigned long long>(totals.rewritten_entries));
  EXPECT_GT(totals.segments_deleted, seeds);
  EXPECT_GT(totals.rewritten_entries, 0u);
}

}  // namespace
}  // namespace tessera::raftlog
