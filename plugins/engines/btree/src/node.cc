#include "node.h"

#include "tessera/coding.h"

namespace tessera::btree {

bool decode_cell(ByteView in, bool leaf, Cell* cell, size_t* size) {
  size_t start = in.size();
  *cell = Cell();
  if (!leaf) {
    if (in.size() < 4) return false;
    cell->child = load_u32(in.data());
    in.remove_prefix(4);
  }
  if (in.empty()) return false;
  cell->flags = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  if ((cell->flags & ~(kKeyOverflow | kValueOverflow)) != 0) return false;
  if (!leaf && cell->value_overflows()) return false;
  if (!get_varint32(&in, &cell->key_len)) return false;
  if (leaf && !get_varint32(&in, &cell->value_len)) return false;
  if (cell->key_overflows()) {
    if (in.size() < 4) return false;
    cell->key_page = load_u32(in.data());
    if (cell->key_page < kFirstDataPage) return false;
    in.remove_prefix(4);
  } else {
    if (in.size() < cell->key_len) return false;
    cell->key_inline = in.substr(0, cell->key_len);
    in.remove_prefix(cell->key_len);
  }
  if (leaf) {
    if (cell->value_overflows()) {
      if (in.size() < 4) return false;
      cell->value_page = load_u32(in.data());
      if (cell->value_page < kFirstDataPage) return false;
      in.remove_prefix(4);
    } else {
      if (in.size() < cell->value_len) return false;
      cell->value_inline = in.substr(0, cell->value_len);
      in.remove_prefix(cell->value_len);
    }
  }
  *size = start - in.size();
  return true;
}

Bytes encode_leaf_cell(uint8_t flags, uint32_t key_len, ByteView key_part, uint32_t value_len,
                       ByteView value_part) {
  Bytes out;
  out.push_back(static_cast<char>(flags));
  put_varint32(&out, key_len);
  put_varint32(&out, value_len);
  out.append(key_part);
  out.append(value_part);
  return out;
}

Bytes encode_interior_cell(PageId child, uint8_t flags, uint32_t key_len, ByteView key_part) {
  Bytes out(4, '\0');
  store_u32(out.data(), child);
  out.push_back(static_cast<char>(flags));
  put_varint32(&out, key_len);
  out.append(key_part);
  return out;
}

Bytes overflow_ref(PageId first_page) {
  Bytes out(4, '\0');
  store_u32(out.data(), first_page);
  return out;
}

Bytes with_child(ByteView interior_cell, PageId child) {
  TESSERA_ASSERT(interior_cell.size() >= 5);
  Bytes out(interior_cell);
  store_u32(out.data(), child);
  return out;
}

size_t node_bytes_needed(const std::vector<Bytes>& cells) {
  size_t n = kPageHeaderBytes;
  for (const Bytes& c : cells) n += kSlotBytes + c.size();
  return n;
}

void build_node(char* page, size_t page_bytes, PageType type, PageId id, uint64_t txn,
                PageId leftmost, const std::vector<Bytes>& cells) {
  TESSERA_ASSERT(type == PageType::kLeaf || type == PageType::kInterior);
  TESSERA_ASSERT(node_bytes_needed(cells) <= page_bytes, "node overflows its page");
  TESSERA_ASSERT(cells.size() <= UINT16_MAX);
  init_page(page, page_bytes, type, id, txn);
  set_count(page, static_cast<uint16_t>(cells.size()));
  set_link(page, type == PageType::kInterior ? leftmost : kNoPage);
  size_t end = page_bytes;
  for (size_t i = 0; i < cells.size(); ++i) {
    end -= cells[i].size();
    std::memcpy(page + end, cells[i].data(), cells[i].size());
    store_u16(page + kPageHeaderBytes + i * kSlotBytes, static_cast<uint16_t>(end));
  }
}

Status validate_node(const char* page, size_t page_bytes, PageId id, const std::string& file) {
  PageHeader h{page};
  bool leaf = h.type() == PageType::kLeaf;
  if (!leaf && h.type() != PageType::kInterior) return page_corruption(file, id, "not a node");
  size_t slots_end = kPageHeaderBytes + size_t{h.count()} * kSlotBytes;
  if (slots_end > page_bytes) return page_corruption(file, id, "too many slots");
  if (!leaf && h.link() < kFirstDataPage) return page_corruption(file, id, "bad leftmost child");
  for (size_t i = 0; i < h.count(); ++i) {
    size_t offset = load_u16(page + kPageHeaderBytes + i * kSlotBytes);
    if (offset < slots_end || offset >= page_bytes) {
      return page_corruption(file, id, "cell offset out of range");
    }
    Cell cell;
    size_t size;
    if (!decode_cell(ByteView(page + offset, page_bytes - offset), leaf, &cell, &size)) {
      return page_corruption(file, id, "malformed cell " + std::to_string(i));
    }
    if (!leaf && cell.child < kFirstDataPage) return page_corruption(file, id, "bad child");
  }
  return Status::ok();
}

ByteView NodeView::cell_bytes(size_t i) const {
  TESSERA_ASSERT(i < count());
  size_t offset = load_u16(page_ + kPageHeaderBytes + i * kSlotBytes);
  Cell cell;
  size_t size = 0;
  bool ok = decode_cell(ByteView(page_ + offset, page_bytes_ - offset), is_leaf(), &cell, &size);
  TESSERA_ASSERT(ok, "cell of a validated node does not decode");
  return ByteView(page_ + offset, size);
}

Cell NodeView::cell(size_t i) const {
  TESSERA_ASSERT(i < count());
  size_t offset = load_u16(page_ + kPageHeaderBytes + i * kSlotBytes);
  Cell cell;
  size_t size = 0;
  bool ok = decode_cell(ByteView(page_ + offset, page_bytes_ - offset), is_leaf(), &cell, &size);
  TESSERA_ASSERT(ok, "cell of a validated node does not decode");
  return cell;
}

size_t NodeView::used_bytes() const {
  size_t n = kPageHeaderBytes;
  for (size_t i = 0; i < count(); ++i) n += kSlotBytes + cell_bytes(i).size();
  return n;
}

std::vector<Bytes> NodeView::cells() const {
  std::vector<Bytes> out;
  out.reserve(count());
  for (size_t i = 0; i < count(); ++i) out.emplace_back(cell_bytes(i));
  return out;
}

}  // namespace tessera::btree
