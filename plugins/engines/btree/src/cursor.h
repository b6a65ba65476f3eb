// Cursor: in-order walk over the leaves of one tree version.
//
// Leaves carry no sibling links: in a copy-on-write tree a link would have to be rewritten
// each time the leaf it points to is copied, which would cascade copies along the whole leaf
// chain. The cursor keeps the root-to-leaf path instead (each level pinned in the buffer pool)
// and steps to the next leaf through the lowest ancestor that has a next child, so a scan reads
// each leaf once and touches interior pages that are already pinned.
// Thread-safety: one thread at a time; the version's pages must stay alive (engine.h).
#pragma once

#include <vector>

#include "tree.h"

namespace tessera::btree {

class Cursor {
 public:
  Cursor(const TreeContext& tree, PageId root) : tree_(tree), root_(root) {}

  // Positions at the first key >= target / the first key. Errors leave the cursor invalid.
  Status seek(ByteView target);
  Status seek_to_first();
  // REQUIRES: valid().
  Status next();

  bool valid() const { return valid_; }
  // REQUIRES: valid(). Stay good until the cursor moves.
  ByteView key() const { return key_; }
  ByteView value() const { return value_; }

 private:
  struct Level {
    PageRef page;
    size_t index;
  };

  // Descends from `id` to a leaf, towards `target` or, without one, along the leftmost edge.
  Status descend(PageId id, const ByteView* target);
  // While the leaf is used up, moves to the first entry of the next leaf.
  Status settle();
  Status load_entry();

  TreeContext tree_;
  PageId root_;
  std::vector<Level> path_;
  bool valid_ = false;
  Bytes key_buf_;
  Bytes value_buf_;
  ByteView key_;
  ByteView value_;
};

}  // namespace tessera::btree
