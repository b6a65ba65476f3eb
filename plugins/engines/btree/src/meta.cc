#include "meta.h"

#include <vector>

namespace tessera::btree {
namespace {

constexpr size_t kMagic = kPageHeaderBytes;
constexpr size_t kFormat = kMagic + 8;
constexpr size_t kPageBytes = kFormat + 4;
constexpr size_t kRoot = kPageBytes + 4;
constexpr size_t kPageCount = kRoot + 4;
constexpr size_t kHeight = kPageCount + 4;
constexpr size_t kEntries = kHeight + 8;
static_assert(kEntries + 8 <= kPageBytesMin);

}  // namespace

void encode_meta(const Meta& meta, char* page) {
  TESSERA_ASSERT(valid_page_bytes(meta.page_bytes));
  init_page(page, meta.page_bytes, PageType::kMeta, meta_slot(meta.txn), meta.txn);
  store_u64(page + kMagic, kMetaMagic);
  store_u32(page + kFormat, kFormatVersion);
  store_u32(page + kPageBytes, meta.page_bytes);
  store_u32(page + kRoot, meta.root);
  store_u32(page + kPageCount, meta.page_count);
  store_u32(page + kHeight, meta.height);
  store_u64(page + kEntries, meta.entries);
  seal_page(page, meta.page_bytes);
}

Result<Meta> decode_meta(const char* page, size_t page_bytes, PageId slot,
                         const std::string& file) {
  TESSERA_RETURN_IF_ERROR(verify_page(page, page_bytes, slot, file));
  PageHeader h{page};
  if (h.type() != PageType::kMeta) return page_corruption(file, slot, "not a meta page");
  if (load_u64(page + kMagic) != kMetaMagic) return page_corruption(file, slot, "bad magic");
  if (load_u32(page + kFormat) != kFormatVersion) {
    return page_corruption(file, slot, "unknown format version " +
                                           std::to_string(load_u32(page + kFormat)));
  }
  Meta meta;
  meta.txn = h.txn();
  meta.page_bytes = load_u32(page + kPageBytes);
  meta.root = load_u32(page + kRoot);
  meta.page_count = load_u32(page + kPageCount);
  meta.height = load_u32(page + kHeight);
  meta.entries = load_u64(page + kEntries);
  if (meta.page_bytes != page_bytes) return page_corruption(file, slot, "page size mismatch");
  if (meta_slot(meta.txn) != slot) return page_corruption(file, slot, "txn in the wrong slot");
  if (meta.page_count < kFirstDataPage) return page_corruption(file, slot, "page_count < 2");
  bool empty = meta.root == kNoPage;
  if (empty != (meta.height == 0) ||
      (!empty && (meta.root < kFirstDataPage || meta.root >= meta.page_count))) {
    return page_corruption(file, slot, "root or height out of range");
  }
  return meta;
}

Result<Meta> load_newest_meta(PageFile& file) {
  std::optional<Meta> best;
  Status first_error;
  for (size_t size = kPageBytesMin; size <= kPageBytesMax; size *= 2) {
    std::vector<char> page(size);
    for (PageId slot = 0; slot < kMetaPages; ++slot) {
      TESSERA_ASSIGN_OR_RETURN(size_t got, file.read_at(uint64_t{slot} * size, page.data(), size));
      if (got < size) continue;
      Result<Meta> meta = decode_meta(page.data(), size, slot, file.name());
      if (!meta.is_ok()) {
        if (first_error.is_ok() && size == file.page_bytes()) first_error = meta.status();
        continue;
      }
      if (!best || meta->txn > best->txn) best = *meta;
    }
  }
  if (!best) {
    if (!first_error.is_ok()) {
      return Status::corruption(file.name() + ": no valid meta page (" + first_error.message() +
                                ")");
    }
    return Status::corruption(file.name() + ": no valid meta page");
  }
  file.set_page_bytes(best->page_bytes);
  return *best;
}

}  // namespace tessera::btree
