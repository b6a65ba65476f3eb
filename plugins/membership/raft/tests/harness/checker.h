// Checker: Raft's safety invariants, checked incrementally as the simulation runs.
//
// Purpose: every persisted entry, every commit and every apply is hashed into a prefix chain
// (hash of the entry and of everything before it), so that comparing one chain value compares
// whole log prefixes. Checked:
//   - election safety: at most one leader per term;
//   - log matching: two persisted entries with the same index and term have equal prefixes;
//   - leader completeness: a node that becomes leader of term T holds every entry committed by
//     a leader of a term before T (a leader of a stale term, elected by vote responses that
//     arrive late, may lack entries committed in later terms: that is allowed, and it cannot
//     commit anything);
//   - state-machine safety: every node applies exactly the committed sequence, in order;
//   - durability: the highest committed entry is on the disks of enough voters that no
//     crash pattern the group tolerates can lose it.
// The first violation is kept; error() returns it (empty while all is well).
// Thread-safety: none. Ownership: plain value.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "raft/conf_change.h"
#include "raft/types.h"

namespace tessera::raft::sim_harness {

uint64_t chain_hash(uint64_t prev, const Entry& entry);

class Checker {
 public:
  explicit Checker(ConfState initial);

  // A node persisted `entry` whose prefix chain is `chain`.
  void on_persist(NodeId node, const Entry& entry, uint64_t chain);
  // Chain value of the committed prefix ending at `index`, if known.
  bool committed_chain(Index index, uint64_t* chain) const;
  Term committed_term(Index index) const;
  // A node's commit index moved from `from` to `to`; `entry_at(i)` gives its entries.
  // `term` is the node's term when it was seen committing (the first to commit an index is its
  // leader, so this records the term in which the entry was committed).
  template <class EntryAt>
  void on_commit(NodeId node, Term term, Index from, Index to, uint64_t from_chain,
                 EntryAt entry_at);
  // A node installed or restored a snapshot covering up to (index, term).
  void on_snapshot(NodeId node, Index index, Term term);
  // A node applied `entry`; `applied_chain` is its running chain before the entry.
  uint64_t on_apply(NodeId node, Index expected, const Entry& entry, uint64_t applied_chain);
  void on_leader(NodeId node, Term term);

  Index commit_max() const { return committed_.empty() ? 0 : committed_.size() - 1; }
  // The highest index committed in a term before `term`.
  Index commit_max_before(Term term) const;
  const ConfState& committed_conf() const { return committed_conf_; }
  void fail(std::string what);
  const std::string& error() const { return error_; }

 private:
  struct Committed {
    Term term = 0;
    uint64_t chain = 0;
    Term commit_term = 0;
  };
  std::vector<Committed> committed_;                       // by index; [0] is the empty prefix
  std::unordered_map<uint64_t, uint64_t> chain_by_entry_;  // (index, term) key -> chain
  std::map<Term, NodeId> leader_by_term_;
  ConfState committed_conf_;
  std::string error_;
};

template <class EntryAt>
void Checker::on_commit(NodeId node, Term term, Index from, Index to, uint64_t from_chain,
                        EntryAt entry_at) {
  uint64_t chain = from_chain;
  for (Index i = from + 1; i <= to; ++i) {
    const Entry& e = entry_at(i);
    chain = chain_hash(chain, e);
    if (i < committed_.size()) {
      if (committed_[i].chain != chain) {
        fail("state-machine safety: node " + std::to_string(node) + " committed index " +
             std::to_string(i) + " term " + std::to_string(e.term) + " but term " +
             std::to_string(committed_[i].term) + " was committed there");
        return;
      }
      continue;
    }
    if (i != committed_.size()) {
      fail("commit gap at " + std::to_string(i));
      return;
    }
    committed_.push_back(Committed{e.term, chain, term});
    if (e.type == EntryType::kConfChange) {
      std::optional<ConfState> conf = decode_conf_state(e.data);
      if (conf) committed_conf_ = std::move(*conf);
    }
  }
}

}  // namespace tessera::raft::sim_harness
