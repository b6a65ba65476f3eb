#include "cursor.h"

namespace tessera::btree {
namespace {

constexpr size_t kTreeHeightMax = 64;  // as in tree_read.cc

}  // namespace

Status Cursor::descend(PageId id, const ByteView* target) {
  for (;;) {
    if (path_.size() == kTreeHeightMax) return page_corruption(tree_.file.name(), id, "tree too deep");
    TESSERA_ASSIGN_OR_RETURN(PageRef ref, tree_.pool.fetch(id));
    NodeView node(ref.data(), tree_.page_bytes);
    size_t index = 0;
    if (node.is_leaf()) {
      if (target != nullptr) {
        TESSERA_ASSIGN_OR_RETURN(index, node_lower_bound(tree_.file, node, *target));
      }
      path_.push_back({std::move(ref), index});
      return Status::ok();
    }
    if (target != nullptr) {
      TESSERA_ASSIGN_OR_RETURN(index, node_child_index(tree_.file, node, *target));
    }
    id = node.child(index);
    path_.push_back({std::move(ref), index});
  }
}

Status Cursor::settle() {
  for (;;) {
    const Level& leaf = path_.back();
    if (leaf.index < NodeView(leaf.page.data(), tree_.page_bytes).count()) return load_entry();
    path_.pop_back();
    while (!path_.empty()) {
      Level& up = path_.back();
      if (up.index + 1 < NodeView(up.page.data(), tree_.page_bytes).children()) break;
      path_.pop_back();
    }
    if (path_.empty()) {
      valid_ = false;
      return Status::ok();
    }
    Level& up = path_.back();
    ++up.index;
    TESSERA_RETURN_IF_ERROR(descend(NodeView(up.page.data(), tree_.page_bytes).child(up.index), nullptr));
  }
}

Status Cursor::load_entry() {
  const Level& leaf = path_.back();
  Cell cell = NodeView(leaf.page.data(), tree_.page_bytes).cell(leaf.index);
  if (cell.key_overflows()) {
    TESSERA_ASSIGN_OR_RETURN(key_buf_, cell_key(tree_.file, cell));
    key_ = key_buf_;
  } else {
    key_ = cell.key_inline;
  }
  if (cell.value_overflows()) {
    TESSERA_ASSIGN_OR_RETURN(value_buf_, cell_value(tree_.file, cell));
    value_ = value_buf_;
  } else {
    value_ = cell.value_inline;
  }
  valid_ = true;
  return Status::ok();
}

Status Cursor::seek(ByteView target) {
  path_.clear();
  valid_ = false;
  if (root_ == kNoPage) return Status::ok();
  TESSERA_RETURN_IF_ERROR(descend(root_, &target));
  return settle();
}

Status Cursor::seek_to_first() {
  path_.clear();
  valid_ = false;
  if (root_ == kNoPage) return Status::ok();
  TESSERA_RETURN_IF_ERROR(descend(root_, nullptr));
  return settle();
}

Status Cursor::next() {
  TESSERA_REQUIRE(valid_);
  valid_ = false;
  ++path_.back().index;
  return settle();
}

}  // namespace tessera::btree
