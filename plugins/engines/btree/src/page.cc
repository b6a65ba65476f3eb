#include "page.h"

#include "tessera/crc32c.h"

namespace tessera::btree {

void init_page(char* page, size_t page_bytes, PageType type, PageId id, uint64_t txn) {
  std::memset(page, 0, page_bytes);
  page[header::kType] = static_cast<char>(type);
  set_page_id(page, id);
  set_txn(page, txn);
}

void seal_page(char* page, size_t page_bytes) {
  store_u32(page + header::kCrc, crc32c::value(page + 4, page_bytes - 4));
}

Status page_corruption(const std::string& file, PageId id, const std::string& what) {
  return Status::corruption(file + ": page " + std::to_string(id) + ": " + what);
}

Status verify_page(const char* page, size_t page_bytes, PageId expected_id,
                   const std::string& file) {
  uint32_t stored = load_u32(page + header::kCrc);
  uint32_t actual = crc32c::value(page + 4, page_bytes - 4);
  if (stored != actual) return page_corruption(file, expected_id, "checksum mismatch (torn or damaged page)");
  PageHeader h{page};
  if (h.page_id() != expected_id) {
    return page_corruption(file, expected_id,
                           "holds page " + std::to_string(h.page_id()) + " (misdirected write)");
  }
  auto type = static_cast<uint8_t>(h.type());
  if (type < static_cast<uint8_t>(PageType::kMeta) ||
      type > static_cast<uint8_t>(PageType::kOverflow)) {
    return page_corruption(file, expected_id, "unknown page type " + std::to_string(type));
  }
  return Status::ok();
}

}  // namespace tessera::btree
