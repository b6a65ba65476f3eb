// The read side of tree.h: key comparison across inline and overflow keys, descent, get and
// the position estimate behind approximate_size.
#include <algorithm>

#include "overflow.h"
#include "tree.h"

namespace tessera::btree {
namespace {

// Readers do not know the writer's current page count; reading past the end of the file is
// caught by PageFile::read, so the chain bound only has to be "any page".
constexpr PageId kAnyPage = UINT32_MAX;
// Bound on the descent: a tree this deep would need more pages than a file can number.
constexpr size_t kTreeHeightMax = 64;

}  // namespace

Result<Bytes> cell_key(const PageFile& file, const Cell& cell) {
  if (!cell.key_overflows()) return Bytes(cell.key_inline);
  return read_overflow(file, cell.key_page, cell.key_len, kAnyPage);
}

Result<Bytes> cell_value(const PageFile& file, const Cell& cell) {
  if (!cell.value_overflows()) return Bytes(cell.value_inline);
  return read_overflow(file, cell.value_page, cell.value_len, kAnyPage);
}

Result<int> compare_cell_key(const PageFile& file, const Cell& cell, ByteView target) {
  if (!cell.key_overflows()) return cell.key_inline.compare(target);
  TESSERA_ASSIGN_OR_RETURN(Bytes key, cell_key(file, cell));
  return ByteView(key).compare(target);
}

Result<size_t> node_lower_bound(const PageFile& file, const NodeView& node, ByteView target) {
  size_t lo = 0;
  size_t hi = node.count();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    TESSERA_ASSIGN_OR_RETURN(int c, compare_cell_key(file, node.cell(mid), target));
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

Result<size_t> node_child_index(const PageFile& file, const NodeView& node, ByteView target) {
  // Child i + 1 holds keys >= cell i's key: the answer is the number of cells with key <= target.
  size_t lo = 0;
  size_t hi = node.count();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    TESSERA_ASSIGN_OR_RETURN(int c, compare_cell_key(file, node.cell(mid), target));
    if (c <= 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

Result<std::optional<Bytes>> tree_get(const TreeContext& tree, PageId root, ByteView key) {
  PageId id = root;
  for (size_t depth = 0; id != kNoPage; ++depth) {
    if (depth == kTreeHeightMax) return page_corruption(tree.file.name(), id, "tree too deep");
    TESSERA_ASSIGN_OR_RETURN(PageRef ref, tree.pool.fetch(id));
    NodeView node(ref.data(), tree.page_bytes);
    if (!node.is_leaf()) {
      TESSERA_ASSIGN_OR_RETURN(size_t child, node_child_index(tree.file, node, key));
      id = node.child(child);
      continue;
    }
    TESSERA_ASSIGN_OR_RETURN(size_t i, node_lower_bound(tree.file, node, key));
    if (i == node.count()) return std::optional<Bytes>();
    Cell cell = node.cell(i);
    TESSERA_ASSIGN_OR_RETURN(int c, compare_cell_key(tree.file, cell, key));
    if (c != 0) return std::optional<Bytes>();
    TESSERA_ASSIGN_OR_RETURN(Bytes value, cell_value(tree.file, cell));
    return std::optional<Bytes>(std::move(value));
  }
  return std::optional<Bytes>();
}

Result<double> tree_position(const TreeContext& tree, PageId root, ByteView key) {
  double position = 0;
  double width = 1;
  PageId id = root;
  for (size_t depth = 0; id != kNoPage; ++depth) {
    if (depth == kTreeHeightMax) return page_corruption(tree.file.name(), id, "tree too deep");
    TESSERA_ASSIGN_OR_RETURN(PageRef ref, tree.pool.fetch(id));
    NodeView node(ref.data(), tree.page_bytes);
    if (node.is_leaf()) {
      TESSERA_ASSIGN_OR_RETURN(size_t i, node_lower_bound(tree.file, node, key));
      if (node.count() > 0) position += width * static_cast<double>(i) / node.count();
      break;
    }
    TESSERA_ASSIGN_OR_RETURN(size_t child, node_child_index(tree.file, node, key));
    width /= static_cast<double>(node.children());
    position += width * static_cast<double>(child);
    id = node.child(child);
  }
  return std::clamp(position, 0.0, 1.0);
}

}  // namespace tessera::btree
