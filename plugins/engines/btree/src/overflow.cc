#include "overflow.h"

#include <memory>

namespace tessera::btree {
namespace {

// Walks the chain, calling fn(page bytes, payload) for each page. The chain may have at most
// the pages `length` needs, which also bounds the walk on a corrupt (cyclic) chain.
template <typename Fn>
Status walk(const PageFile& file, PageId first, uint32_t length, PageId page_count, Fn&& fn) {
  size_t page_bytes = file.page_bytes();
  size_t per_page = overflow_payload_bytes(page_bytes);
  size_t pages_max = (length + per_page - 1) / per_page;
  std::unique_ptr<char[]> buf(new char[page_bytes]);
  PageId id = first;
  size_t left = length;
  for (size_t n = 0; n < pages_max; ++n) {
    if (id < kFirstDataPage || id >= page_count) {
      return page_corruption(file.name(), id, "overflow chain leaves the file");
    }
    TESSERA_RETURN_IF_ERROR(file.read(id, buf.get()));
    PageHeader h{buf.get()};
    if (h.type() != PageType::kOverflow) {
      return page_corruption(file.name(), id, "expected an overflow page");
    }
    size_t take = std::min(left, per_page);
    if (h.count() != take) return page_corruption(file.name(), id, "overflow payload size");
    fn(id, ByteView(buf.get() + kPageHeaderBytes, take));
    left -= take;
    PageId next = h.link();
    if (left == 0) {
      if (next != kNoPage) return page_corruption(file.name(), id, "overflow chain too long");
      return Status::ok();
    }
    id = next;
  }
  return page_corruption(file.name(), id, "overflow chain too short");
}

}  // namespace

Result<PageId> write_overflow(PageFile& file, const std::function<PageId()>& allocate,
                              uint64_t txn, ByteView data) {
  TESSERA_ASSERT(!data.empty());
  size_t page_bytes = file.page_bytes();
  size_t per_page = overflow_payload_bytes(page_bytes);
  TESSERA_ASSERT(per_page <= UINT16_MAX);
  size_t pages = (data.size() + per_page - 1) / per_page;
  std::vector<PageId> ids(pages);
  for (PageId& id : ids) id = allocate();
  std::unique_ptr<char[]> buf(new char[page_bytes]);
  for (size_t i = 0; i < pages; ++i) {
    ByteView part = data.substr(i * per_page, per_page);
    init_page(buf.get(), page_bytes, PageType::kOverflow, ids[i], txn);
    set_count(buf.get(), static_cast<uint16_t>(part.size()));
    set_link(buf.get(), i + 1 < pages ? ids[i + 1] : kNoPage);
    std::memcpy(buf.get() + kPageHeaderBytes, part.data(), part.size());
    seal_page(buf.get(), page_bytes);
    TESSERA_RETURN_IF_ERROR(file.write(ids[i], buf.get()));
  }
  return ids.front();
}

Result<Bytes> read_overflow(const PageFile& file, PageId first, uint32_t length,
                            PageId page_count) {
  Bytes out;
  out.reserve(length);
  TESSERA_RETURN_IF_ERROR(
      walk(file, first, length, page_count, [&](PageId, ByteView part) { out.append(part); }));
  return out;
}

Status overflow_pages(const PageFile& file, PageId first, uint32_t length, PageId page_count,
                      std::vector<PageId>* pages) {
  return walk(file, first, length, page_count,
              [&](PageId id, ByteView) { pages->push_back(id); });
}

}  // namespace tessera::btree
