// The write side of tree.h: copy-on-write insert and delete with split, merge and root changes.
#include <algorithm>

#include "overflow.h"
#include "tree.h"

namespace tessera::btree {
namespace {

constexpr PageId kAnyPage = UINT32_MAX;

// Bytes a cell takes in a node, slot included.
size_t footprint(const Bytes& cell) { return cell.size() + kSlotBytes; }

// Shortest s with left < s <= right. REQUIRES: left < right.
Bytes shortest_separator(ByteView left, ByteView right) {
  TESSERA_ASSERT(left < right);
  size_t common = 0;
  while (common < left.size() && common < right.size() && left[common] == right[common]) ++common;
  TESSERA_ASSERT(common < right.size());
  return Bytes(right.substr(0, common + 1));
}

}  // namespace

TreeWriter::TreeWriter(const TreeContext& tree, FreeList& free_list, TreeRoot root, uint64_t txn,
                       uint64_t barrier)
    : tree_(tree), free_list_(free_list), root_(root), txn_(txn), barrier_(barrier) {
  TESSERA_REQUIRE(txn > barrier);
}

Result<TreeWriter::Node> TreeWriter::load(PageId id) {
  TESSERA_ASSIGN_OR_RETURN(PageRef ref, tree_.pool.fetch(id));
  NodeView view(ref.data(), tree_.page_bytes);
  PageHeader h{ref.data()};
  return Node{id, h.txn(), h.type(), view.is_leaf() ? kNoPage : view.leftmost(), view.cells()};
}

void TreeWriter::release(PageId id) {
  free_list_.release(id, txn_);
  tree_.pool.mark_freed(id);
}

Status TreeWriter::release_chain(PageId first, uint32_t length) {
  std::vector<PageId> pages;
  TESSERA_RETURN_IF_ERROR(overflow_pages(tree_.file, first, length, kAnyPage, &pages));
  for (PageId id : pages) free_list_.release(id, txn_);
  return Status::ok();
}

Status TreeWriter::release_cell_chains(ByteView cell_bytes, bool leaf) {
  Cell cell;
  size_t size;
  bool ok = decode_cell(cell_bytes, leaf, &cell, &size);
  TESSERA_ASSERT(ok);
  if (cell.key_overflows()) TESSERA_RETURN_IF_ERROR(release_chain(cell.key_page, cell.key_len));
  if (leaf && cell.value_overflows()) {
    TESSERA_RETURN_IF_ERROR(release_chain(cell.value_page, cell.value_len));
  }
  return Status::ok();
}

PageId TreeWriter::child_of(const Node& node, size_t i) {
  if (i == 0) return node.leftmost;
  Cell cell;
  size_t size;
  bool ok = decode_cell(node.cells[i - 1], false, &cell, &size);
  TESSERA_ASSERT(ok);
  return cell.child;
}

void TreeWriter::set_child(Node& node, size_t i, PageId child) {
  if (i == 0) {
    node.leftmost = child;
  } else {
    node.cells[i - 1] = with_child(node.cells[i - 1], child);
  }
}

PageId TreeWriter::writable_id(const Node& node) {
  if (node.txn > barrier_) return node.id;  // no older version can see it: rewrite in place
  release(node.id);
  return allocate();
}

PageId TreeWriter::write_node(PageId id, PageType type, PageId leftmost,
                              const std::vector<Bytes>& cells) {
  PageRef ref = tree_.pool.create(id);
  build_node(ref.mutable_data(), tree_.page_bytes, type, id, txn_, leftmost, cells);
  return id;
}

Result<Bytes> TreeWriter::make_leaf_cell(ByteView key, ByteView value, const Cell* existing) {
  TESSERA_REQUIRE(key.size() <= UINT32_MAX && value.size() <= UINT32_MAX);
  auto allocate_fn = [this] { return allocate(); };
  uint8_t flags = 0;
  Bytes key_part;
  if (existing != nullptr && existing->key_overflows()) {
    flags |= kKeyOverflow;  // same key: keep its chain
    key_part = overflow_ref(existing->key_page);
  } else if (key.size() > tree_.key_inline_bytes_max()) {
    flags |= kKeyOverflow;
    TESSERA_ASSIGN_OR_RETURN(PageId first, write_overflow(tree_.file, allocate_fn, txn_, key));
    key_part = overflow_ref(first);
  } else {
    key_part = Bytes(key);
  }
  // flags, two varint32 lengths (5 bytes each at most), the key part, then the value.
  size_t fixed = 1 + 5 + 5 + key_part.size();
  Bytes value_part;
  if (fixed + value.size() + kSlotBytes > tree_.cell_bytes_max()) {
    flags |= kValueOverflow;
    TESSERA_ASSIGN_OR_RETURN(PageId first, write_overflow(tree_.file, allocate_fn, txn_, value));
    value_part = overflow_ref(first);
  } else {
    value_part = Bytes(value);
  }
  return encode_leaf_cell(flags, static_cast<uint32_t>(key.size()), key_part,
                          static_cast<uint32_t>(value.size()), value_part);
}

Status TreeWriter::put(ByteView key, ByteView value) {
  if (root_.root == kNoPage) {
    TESSERA_ASSIGN_OR_RETURN(Bytes cell, make_leaf_cell(key, value, nullptr));
    root_.root = write_node(allocate(), PageType::kLeaf, kNoPage, {std::move(cell)});
    root_.height = 1;
    root_.entries = 1;
    return Status::ok();
  }
  bool added = false;
  TESSERA_ASSIGN_OR_RETURN(Outcome out, insert_into(root_.root, key, value, &added));
  root_.root = out.page;
  if (out.split) {
    root_.root = write_node(allocate(), PageType::kInterior, out.page, {std::move(*out.split)});
    ++root_.height;
  }
  if (added) ++root_.entries;
  return Status::ok();
}

Result<TreeWriter::Outcome> TreeWriter::insert_into(PageId id, ByteView key, ByteView value,
                                                    bool* added) {
  size_t index;
  PageId child = kNoPage;
  bool leaf;
  bool exists = false;
  {
    TESSERA_ASSIGN_OR_RETURN(PageRef ref, tree_.pool.fetch(id));
    NodeView view(ref.data(), tree_.page_bytes);
    leaf = view.is_leaf();
    if (leaf) {
      TESSERA_ASSIGN_OR_RETURN(index, node_lower_bound(tree_.file, view, key));
      if (index < view.count()) {
        TESSERA_ASSIGN_OR_RETURN(int c, compare_cell_key(tree_.file, view.cell(index), key));
        exists = c == 0;
      }
    } else {
      TESSERA_ASSIGN_OR_RETURN(index, node_child_index(tree_.file, view, key));
      child = view.child(index);
    }
  }
  if (leaf) {
    TESSERA_ASSIGN_OR_RETURN(Node node, load(id));
    if (exists) {
      Cell old;
      size_t size;
      bool ok = decode_cell(node.cells[index], true, &old, &size);
      TESSERA_ASSERT(ok);
      if (old.value_overflows()) {
        TESSERA_RETURN_IF_ERROR(release_chain(old.value_page, old.value_len));
      }
      TESSERA_ASSIGN_OR_RETURN(Bytes cell, make_leaf_cell(key, value, &old));
      node.cells[index] = std::move(cell);
    } else {
      TESSERA_ASSIGN_OR_RETURN(Bytes cell, make_leaf_cell(key, value, nullptr));
      node.cells.insert(node.cells.begin() + static_cast<ptrdiff_t>(index), std::move(cell));
      *added = true;
    }
    return store(std::move(node));
  }
  TESSERA_ASSIGN_OR_RETURN(Outcome out, insert_into(child, key, value, added));
  if (out.page == child && !out.split) return Outcome{id, std::nullopt, 0, false};
  TESSERA_ASSIGN_OR_RETURN(Node node, load(id));
  set_child(node, index, out.page);
  if (out.split) {
    node.cells.insert(node.cells.begin() + static_cast<ptrdiff_t>(index), std::move(*out.split));
  }
  return store(std::move(node));
}

Result<TreeWriter::Outcome> TreeWriter::store(Node node) {
  size_t needed = node_bytes_needed(node.cells);
  if (needed > tree_.page_bytes) return split(std::move(node));
  PageId id = write_node(writable_id(node), node.type, node.leftmost, node.cells);
  return Outcome{id, std::nullopt, needed, true};
}

Result<Bytes> TreeWriter::separator(ByteView left_cell, ByteView right_cell) {
  Cell left;
  Cell right;
  size_t size;
  bool ok = decode_cell(left_cell, true, &left, &size) && decode_cell(right_cell, true, &right, &size);
  TESSERA_ASSERT(ok);
  TESSERA_ASSIGN_OR_RETURN(Bytes left_key, cell_key(tree_.file, left));
  TESSERA_ASSIGN_OR_RETURN(Bytes right_key, cell_key(tree_.file, right));
  if (!(ByteView(left_key) < ByteView(right_key))) {
    return page_corruption(tree_.file.name(), kNoPage, "leaf keys out of order");
  }
  return shortest_separator(left_key, right_key);
}

Result<TreeWriter::Outcome> TreeWriter::split(Node node) {
  bool leaf = node.type == PageType::kLeaf;
  size_t n = node.cells.size();
  TESSERA_ASSERT(n >= (leaf ? 2u : 3u), "a node too big for its page has too few cells");
  // Split index m: leaves keep [0, m) | [m, n); interiors [0, m) | up m | [m + 1, n).
  size_t total = 0;
  for (const Bytes& c : node.cells) total += footprint(c);
  size_t best = 0;
  size_t best_cost = SIZE_MAX;
  size_t left = 0;
  for (size_t m = 1; m + (leaf ? 0 : 1) < n; ++m) {
    left += footprint(node.cells[m - 1]);
    size_t right = total - left - (leaf ? 0 : footprint(node.cells[m]));
    size_t cost = std::max(left, right);
    if (cost < best_cost) {
      best_cost = cost;
      best = m;
    }
  }
  TESSERA_ASSERT(best > 0 && kPageHeaderBytes + best_cost <= tree_.page_bytes,
                 "split halves do not fit");
  std::vector<Bytes> right(node.cells.begin() + static_cast<ptrdiff_t>(best), node.cells.end());
  node.cells.resize(best);
  PageId right_leftmost = kNoPage;
  Bytes up;
  if (leaf) {
    TESSERA_ASSIGN_OR_RETURN(Bytes sep, separator(node.cells.back(), right.front()));
    uint8_t flags = 0;
    Bytes key_part = sep;
    if (sep.size() > tree_.key_inline_bytes_max()) {
      flags = kKeyOverflow;
      TESSERA_ASSIGN_OR_RETURN(PageId first,
                               write_overflow(tree_.file, [this] { return allocate(); }, txn_, sep));
      key_part = overflow_ref(first);
    }
    up = encode_interior_cell(kNoPage, flags, static_cast<uint32_t>(sep.size()), key_part);
  } else {
    up = std::move(right.front());
    right.erase(right.begin());
    Cell cell;
    size_t size;
    bool ok = decode_cell(up, false, &cell, &size);
    TESSERA_ASSERT(ok);
    right_leftmost = cell.child;
  }
  PageId left_id = write_node(writable_id(node), node.type, node.leftmost, node.cells);
  PageId right_id = write_node(allocate(), node.type, right_leftmost, right);
  return Outcome{left_id, with_child(up, right_id), node_bytes_needed(node.cells), true};
}

Status TreeWriter::del(ByteView key) {
  if (root_.root == kNoPage) return Status::ok();
  bool removed = false;
  TESSERA_ASSIGN_OR_RETURN(Outcome out, erase_from(root_.root, key, &removed));
  if (!removed) return Status::ok();
  root_.root = out.page;
  --root_.entries;
  return shrink_root();
}

Status TreeWriter::shrink_root() {
  for (;;) {
    TESSERA_ASSIGN_OR_RETURN(PageRef ref, tree_.pool.fetch(root_.root));
    NodeView view(ref.data(), tree_.page_bytes);
    if (view.count() > 0) return Status::ok();
    PageId old = root_.root;
    root_.root = view.is_leaf() ? kNoPage : view.leftmost();
    ref.reset();
    release(old);
    --root_.height;
    if (root_.root == kNoPage) return Status::ok();
  }
}

Result<TreeWriter::Outcome> TreeWriter::erase_from(PageId id, ByteView key, bool* removed) {
  size_t index;
  PageId child = kNoPage;
  bool leaf;
  {
    TESSERA_ASSIGN_OR_RETURN(PageRef ref, tree_.pool.fetch(id));
    NodeView view(ref.data(), tree_.page_bytes);
    leaf = view.is_leaf();
    if (leaf) {
      TESSERA_ASSIGN_OR_RETURN(index, node_lower_bound(tree_.file, view, key));
      bool found = false;
      if (index < view.count()) {
        TESSERA_ASSIGN_OR_RETURN(int c, compare_cell_key(tree_.file, view.cell(index), key));
        found = c == 0;
      }
      if (!found) return Outcome{id, std::nullopt, 0, false};
    } else {
      TESSERA_ASSIGN_OR_RETURN(index, node_child_index(tree_.file, view, key));
      child = view.child(index);
    }
  }
  if (leaf) {
    TESSERA_ASSIGN_OR_RETURN(Node node, load(id));
    TESSERA_RETURN_IF_ERROR(release_cell_chains(node.cells[index], true));
    node.cells.erase(node.cells.begin() + static_cast<ptrdiff_t>(index));
    *removed = true;
    return store(std::move(node));
  }
  TESSERA_ASSIGN_OR_RETURN(Outcome out, erase_from(child, key, removed));
  if (!out.changed) return Outcome{id, std::nullopt, 0, false};
  TESSERA_ASSIGN_OR_RETURN(Node node, load(id));
  set_child(node, index, out.page);
  if (out.used_bytes < tree_.page_bytes / 4) TESSERA_RETURN_IF_ERROR(maybe_merge(node, index));
  return store(std::move(node));
}

Status TreeWriter::maybe_merge(Node& parent, size_t child) {
  size_t children = parent.cells.size() + 1;
  if (children < 2) return Status::ok();
  size_t left_index = child + 1 < children ? child : child - 1;
  TESSERA_ASSIGN_OR_RETURN(Node left, load(child_of(parent, left_index)));
  TESSERA_ASSIGN_OR_RETURN(Node right, load(child_of(parent, left_index + 1)));
  TESSERA_ASSERT(left.type == right.type);
  bool leaf = left.type == PageType::kLeaf;
  // The parent's cell for `right` is the separator between the two.
  Bytes& sep = parent.cells[left_index];
  std::vector<Bytes> merged = left.cells;
  if (!leaf) merged.push_back(with_child(sep, right.leftmost));  // the separator moves down
  merged.insert(merged.end(), right.cells.begin(), right.cells.end());
  if (node_bytes_needed(merged) > tree_.page_bytes) return Status::ok();
  if (leaf) TESSERA_RETURN_IF_ERROR(release_cell_chains(sep, false));
  left.cells = std::move(merged);
  PageId left_id = write_node(writable_id(left), left.type, left.leftmost, left.cells);
  release(right.id);
  parent.cells.erase(parent.cells.begin() + static_cast<ptrdiff_t>(left_index));
  set_child(parent, left_index, left_id);
  return Status::ok();
}

}  // namespace tessera::btree
