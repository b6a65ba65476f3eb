#include "checker.h"

namespace tessera::raft::sim_harness {

namespace {

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

uint64_t entry_key(Index index, Term term) {
  return mix(index * 0x9e3779b97f4a7c15ULL ^ term);
}

}  // namespace

uint64_t chain_hash(uint64_t prev, const Entry& entry) {
  uint64_t h = mix(prev ^ (entry.index * 0x100000001b3ULL) ^ (entry.term << 1) ^
                   static_cast<uint64_t>(entry.type));
  for (unsigned char c : entry.data) h = (h ^ c) * 0x100000001b3ULL;
  return mix(h);
}

Checker::Checker(ConfState initial) : committed_(1), committed_conf_(std::move(initial)) {}

void Checker::fail(std::string what) {
  if (error_.empty()) error_ = std::move(what);
}

void Checker::on_persist(NodeId node, const Entry& entry, uint64_t chain) {
  auto [it, added] = chain_by_entry_.try_emplace(entry_key(entry.index, entry.term), chain);
  if (!added && it->second != chain) {
    fail("log matching: node " + std::to_string(node) + " persisted index " +
         std::to_string(entry.index) + " term " + std::to_string(entry.term) +
         " with a prefix that differs from another node's");
  }
}

bool Checker::committed_chain(Index index, uint64_t* chain) const {
  if (index >= committed_.size()) return false;
  *chain = committed_[index].chain;
  return true;
}

Term Checker::committed_term(Index index) const {
  return index < committed_.size() ? committed_[index].term : 0;
}

void Checker::on_snapshot(NodeId node, Index index, Term term) {
  if (index >= committed_.size() || committed_[index].term != term) {
    fail("snapshot safety: node " + std::to_string(node) + " has a snapshot at index " +
         std::to_string(index) + " term " + std::to_string(term) +
         " that is not a committed prefix");
  }
}

uint64_t Checker::on_apply(NodeId node, Index expected, const Entry& entry,
                           uint64_t applied_chain) {
  if (entry.index != expected) {
    fail("apply order: node " + std::to_string(node) + " applied index " +
         std::to_string(entry.index) + " when " + std::to_string(expected) + " was next");
    return applied_chain;
  }
  const uint64_t chain = chain_hash(applied_chain, entry);
  if (entry.index >= committed_.size() || committed_[entry.index].chain != chain) {
    fail("state-machine safety: node " + std::to_string(node) + " applied index " +
         std::to_string(entry.index) + " term " + std::to_string(entry.term) +
         " which is not the committed entry there");
  }
  return chain;
}

Index Checker::commit_max_before(Term term) const {
  Index i = commit_max();
  while (i > 0 && committed_[i].commit_term >= term) --i;
  return i;
}

void Checker::on_leader(NodeId node, Term term) {
  auto [it, added] = leader_by_term_.try_emplace(term, node);
  if (!added && it->second != node) {
    fail("election safety: nodes " + std::to_string(it->second) + " and " + std::to_string(node) +
         " both lead term " + std::to_string(term));
  }
}

}  // namespace tessera::raft::sim_harness
