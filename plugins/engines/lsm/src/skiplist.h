// SkipList: the sorted, concurrent index of a memtable (after LevelDB's db/skiplist.h).
//
// Thread-safety: one writer at a time (the engine's write leader) may insert while any number of
// readers search and iterate without locks. Nodes are never removed until the list is destroyed;
// a node's links are published with release stores and read with acquire loads, so a reader
// sees either the old or the new list, never a half-linked node.
// Ownership: nodes live in the Arena passed in; keys are pointers the caller allocated there.
#pragma once

#include <atomic>
#include <cstdint>
#include <new>

#include "arena.h"
#include "tessera/assert.h"

namespace tessera::lsm {

// Comparator: int operator()(const Key&, const Key&) const, like memcmp.
template <typename Key, class Comparator>
class SkipList {
 public:
  static constexpr int kHeightMax = 12;

  SkipList(Comparator compare, Arena* arena)
      : compare_(compare), arena_(arena), head_(new_node(Key(), kHeightMax)) {
    for (int i = 0; i < kHeightMax; ++i) head_->set_next(i, nullptr);
  }
  SkipList(const SkipList&) = delete;
  SkipList& operator=(const SkipList&) = delete;

  // REQUIRES: no entry equal to `key` is in the list; external exclusion between writers.
  void insert(const Key& key) {
    Node* prev[kHeightMax];
    Node* x = find_greater_or_equal(key, prev);
    TESSERA_ASSERT(x == nullptr || compare_(key, x->key) != 0, "duplicate skiplist key");
    int height = random_height();
    int current = height_.load(std::memory_order_relaxed);
    if (height > current) {
      for (int i = current; i < height; ++i) prev[i] = head_;
      // Readers that see the new height before the links find nullptr from head_: harmless.
      height_.store(height, std::memory_order_relaxed);
    }
    x = new_node(key, height);
    for (int i = 0; i < height; ++i) {
      x->set_next_relaxed(i, prev[i]->next_relaxed(i));
      prev[i]->set_next(i, x);
    }
  }

  // Forward cursor; valid while the list lives.
  class Iterator {
   public:
    explicit Iterator(const SkipList* list) : list_(list) {}
    bool valid() const { return node_ != nullptr; }
    const Key& key() const { return node_->key; }
    void next() { node_ = node_->next(0); }
    void seek(const Key& target) { node_ = list_->find_greater_or_equal(target, nullptr); }
    void seek_to_first() { node_ = list_->head_->next(0); }

   private:
    const SkipList* list_;
    typename SkipList::Node* node_ = nullptr;
  };

 private:
  struct Node {
    explicit Node(const Key& k) : key(k) {}
    Key const key;
    Node* next(int n) { return next_[n].load(std::memory_order_acquire); }
    void set_next(int n, Node* x) { next_[n].store(x, std::memory_order_release); }
    Node* next_relaxed(int n) { return next_[n].load(std::memory_order_relaxed); }
    void set_next_relaxed(int n, Node* x) { next_[n].store(x, std::memory_order_relaxed); }

   private:
    std::atomic<Node*> next_[1];  // really `height` entries, allocated past the end
  };

  Node* new_node(const Key& key, int height) {
    char* mem = arena_->allocate_aligned(sizeof(Node) + sizeof(std::atomic<Node*>) * (height - 1));
    return new (mem) Node(key);
  }

  int random_height() {
    // Branching factor 4: each level holds a quarter of the nodes of the level below.
    int height = 1;
    while (height < kHeightMax && (next_random() & 3) == 0) ++height;
    return height;
  }
  uint32_t next_random() {
    rng_state_ ^= rng_state_ << 13;
    rng_state_ ^= rng_state_ >> 17;
    rng_state_ ^= rng_state_ << 5;
    return rng_state_;
  }

  // First node >= key; fills prev[level] with the last node < key on each level when non-null.
  Node* find_greater_or_equal(const Key& key, Node** prev) const {
    Node* x = head_;
    int level = height_.load(std::memory_order_relaxed) - 1;
    while (true) {
      Node* next = x->next(level);
      if (next != nullptr && compare_(next->key, key) < 0) {
        x = next;
      } else {
        if (prev != nullptr) prev[level] = x;
        if (level == 0) return next;
        --level;
      }
    }
  }

  Comparator const compare_;
  Arena* const arena_;
  Node* const head_;
  std::atomic<int> height_{1};
  uint32_t rng_state_ = 0x9E3779B9u;  // deterministic: heights do not affect results
};

}  // namespace tessera::lsm
