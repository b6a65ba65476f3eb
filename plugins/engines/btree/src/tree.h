// The B+ tree: search, insert, delete, split and merge over node pages, copy-on-write.
//
// Reads (tree_get, tree_position, the cursor) start from a root page id and only read, so any
// number of them run at once on any version whose pages are kept alive (engine.h says how).
//
// TreeWriter applies puts and deletes as one transaction `txn`. It never changes a page that
// an older version can still see: a page last written at txn <= `barrier` (the durable txn or
// a pinned reader's, whichever is newer) is copied to a fresh page and the old one released to
// the free list; a newer page is rewritten in place. So every change climbs a fresh path to a
// new root, and the root page id plus height is the whole of a version.
//
// Shape rules: a node that no longer fits in a page splits in two at the byte midpoint; a node
// left under a quarter full after a delete merges with a neighbour under the same parent when
// both fit in one page; an interior root left with one child is replaced by it. Leaf splits
// push up the shortest separator between the two halves.
// Thread-safety: readers as above; one TreeWriter at a time, with the engine's writer lock.
#pragma once

#include <cstdint>
#include <optional>

#include "buffer_pool.h"
#include "free_list.h"
#include "node.h"
#include "page_file.h"

namespace tessera::btree {

// Where a tree lives and how its cells are cut; shared by readers and the writer.
struct TreeContext {
  BufferPool& pool;
  PageFile& file;
  size_t page_bytes;
  // Largest encoded cell, slot included: a third of the node space, so that a node holding a
  // full page plus one more cell splits into two halves that each fit.
  size_t cell_bytes_max() const { return (page_bytes - kPageHeaderBytes) / 3 - kSlotBytes; }
  // Longer keys go to an overflow chain; leaves room for the lengths and a value reference.
  size_t key_inline_bytes_max() const { return cell_bytes_max() / 2 - 16; }
};

// The full key of a cell (reads its chain when it has one).
Result<Bytes> cell_key(const PageFile& file, const Cell& cell);
// The full value of a leaf cell.
Result<Bytes> cell_value(const PageFile& file, const Cell& cell);
// Sign of (key of cell) - target.
Result<int> compare_cell_key(const PageFile& file, const Cell& cell, ByteView target);
// First cell with key >= target.
Result<size_t> node_lower_bound(const PageFile& file, const NodeView& node, ByteView target);
// The child of an interior node whose range holds target.
Result<size_t> node_child_index(const PageFile& file, const NodeView& node, ByteView target);

// Value of `key` in the tree at `root` (kNoPage: empty), or nullopt.
Result<std::optional<Bytes>> tree_get(const TreeContext& tree, PageId root, ByteView key);

// Fraction of the tree's entries, in key order, that sort before `key`, estimated from the
// child indexes along the path (so it is monotone in `key`, not exact).
Result<double> tree_position(const TreeContext& tree, PageId root, ByteView key);

struct TreeRoot {
  PageId root = kNoPage;
  uint32_t height = 0;
  uint64_t entries = 0;
};

class TreeWriter {
 public:
  // REQUIRES: txn > barrier.
  TreeWriter(const TreeContext& tree, FreeList& free_list, TreeRoot root, uint64_t txn,
             uint64_t barrier);

  Status put(ByteView key, ByteView value);
  // Deleting a missing key is OK and changes nothing.
  Status del(ByteView key);
  const TreeRoot& root() const { return root_; }

 private:
  struct Outcome {
    PageId page = kNoPage;
    std::optional<Bytes> split;  // interior cell pointing at a new right sibling
    size_t used_bytes = 0;
    bool changed = true;
  };
  struct Node {  // a decoded node being edited
    PageId id;
    uint64_t txn;
    PageType type;
    PageId leftmost;
    std::vector<Bytes> cells;
  };

  Result<Node> load(PageId id);
  Result<Outcome> insert_into(PageId id, ByteView key, ByteView value, bool* added);
  Result<Outcome> erase_from(PageId id, ByteView key, bool* removed);
  Result<Bytes> make_leaf_cell(ByteView key, ByteView value, const Cell* existing);
  // Writes `node` back, splitting it when it does not fit.
  Result<Outcome> store(Node node);
  Result<Outcome> split(Node node);
  // Merges child `child` of `parent` with a neighbour when both fit in one page.
  Status maybe_merge(Node& parent, size_t child);
  // The page `node` may be written to: its own when newer than the barrier, else a new one.
  PageId writable_id(const Node& node);
  static PageId child_of(const Node& node, size_t i);
  static void set_child(Node& node, size_t i, PageId child);
  PageId write_node(PageId id, PageType type, PageId leftmost, const std::vector<Bytes>& cells);
  void release(PageId id);
  Status release_chain(PageId first, uint32_t length);
  Status release_cell_chains(ByteView cell, bool leaf);
  Result<Bytes> separator(ByteView left_cell, ByteView right_cell);
  Status shrink_root();
  PageId allocate() { return free_list_.allocate(); }

  TreeContext tree_;
  FreeList& free_list_;
  TreeRoot root_;
  const uint64_t txn_;
  const uint64_t barrier_;
};

}  // namespace tessera::btree
