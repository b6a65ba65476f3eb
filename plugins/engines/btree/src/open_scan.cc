#include "open_scan.h"

#include <memory>

#include "node.h"
#include "overflow.h"

namespace tessera::btree {
namespace {

Status mark(const PageFile& file, std::vector<bool>& used, PageId id, PageId page_count) {
  if (id < kFirstDataPage || id >= page_count) {
    return page_corruption(file.name(), id, "page number past page_count " +
                                                std::to_string(page_count));
  }
  if (used[id]) return page_corruption(file.name(), id, "reached twice from the root");
  used[id] = true;
  return Status::ok();
}

Status mark_chain(const PageFile& file, std::vector<bool>& used, PageId first, uint32_t length,
                  PageId page_count) {
  std::vector<PageId> pages;
  TESSERA_RETURN_IF_ERROR(overflow_pages(file, first, length, page_count, &pages));
  for (PageId id : pages) TESSERA_RETURN_IF_ERROR(mark(file, used, id, page_count));
  return Status::ok();
}

}  // namespace

Result<std::vector<PageId>> scan_free_pages(const PageFile& file, const Meta& meta) {
  std::vector<bool> used(meta.page_count, false);
  std::vector<PageId> stack;
  if (meta.root != kNoPage) stack.push_back(meta.root);
  std::unique_ptr<char[]> buf(new char[meta.page_bytes]);
  // Each page is marked once (a second visit is Corruption), which bounds the walk.
  while (!stack.empty()) {
    PageId id = stack.back();
    stack.pop_back();
    TESSERA_RETURN_IF_ERROR(mark(file, used, id, meta.page_count));
    TESSERA_RETURN_IF_ERROR(file.read(id, buf.get()));
    TESSERA_RETURN_IF_ERROR(validate_node(buf.get(), meta.page_bytes, id, file.name()));
    NodeView node(buf.get(), meta.page_bytes);
    if (!node.is_leaf()) stack.push_back(node.leftmost());
    for (size_t i = 0; i < node.count(); ++i) {
      Cell cell = node.cell(i);
      if (!node.is_leaf()) stack.push_back(cell.child);
      if (cell.key_overflows()) {
        TESSERA_RETURN_IF_ERROR(mark_chain(file, used, cell.key_page, cell.key_len, meta.page_count));
      }
      if (node.is_leaf() && cell.value_overflows()) {
        TESSERA_RETURN_IF_ERROR(
            mark_chain(file, used, cell.value_page, cell.value_len, meta.page_count));
      }
    }
  }
  std::vector<PageId> free;
  for (PageId id = kFirstDataPage; id < meta.page_count; ++id) {
    if (!used[id]) free.push_back(id);
  }
  return free;
}

}  // namespace tessera::btree
