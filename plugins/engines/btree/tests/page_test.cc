// Page, meta and node formats: what is written reads back, and checksums catch damage.
#include <gtest/gtest.h>

#include <vector>

#include "tessera/crc32c.h"
#include "meta.h"
#include "node.h"
#include "page.h"

namespace tessera::btree {
namespace {

constexpr size_t kPage = 512;

TEST(Crc32c, StandardCheckValue) {
  EXPECT_EQ(crc32c::value("123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c::value("", 0), 0u);
}

TEST(Page, HeaderRoundTripAndChecksum) {
  std::vector<char> page(kPage);
  init_page(page.data(), kPage, PageType::kOverflow, 7, 42);
  set_count(page.data(), 100);
  set_link(page.data(), 9);
  seal_page(page.data(), kPage);
  ASSERT_TRUE(verify_page(page.data(), kPage, 7, "f").is_ok());
  PageHeader h{page.data()};
  EXPECT_EQ(h.type(), PageType::kOverflow);
  EXPECT_EQ(h.count(), 100);
  EXPECT_EQ(h.link(), 9u);
  EXPECT_EQ(h.txn(), 42u);
  Status wrong_place = verify_page(page.data(), kPage, 8, "f");
  EXPECT_EQ(wrong_place.code(), StatusCode::kCorruption);
  page[300] ^= 1;
  Status flipped = verify_page(page.data(), kPage, 7, "f");
  EXPECT_EQ(flipped.code(), StatusCode::kCorruption);
  EXPECT_NE(flipped.message().find("f: page 7"), std::string::npos) << flipped.message();
}

TEST(Meta, RoundTrip) {
  std::vector<char> page(kPage);
  Meta meta{.txn = 5, .page_bytes = kPage, .root = 3, .page_count = 10, .height = 2,
            .entries = 99};
  encode_meta(meta, page.data());
  Result<Meta> back = decode_meta(page.data(), kPage, 1, "f");
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, meta);
  EXPECT_FALSE(decode_meta(page.data(), kPage, 0, "f").is_ok()) << "txn 5 belongs in slot 1";
}

TEST(Node, LeafAndInteriorRoundTrip) {
  std::vector<Bytes> cells = {
      encode_leaf_cell(0, 1, "a", 3, "one"),
      encode_leaf_cell(kKeyOverflow, 5000, overflow_ref(12), 2, "xy"),
      encode_leaf_cell(kValueOverflow, 1, "c", 70000, overflow_ref(13)),
      encode_leaf_cell(0, 0, "", 0, ""),
  };
  std::vector<char> page(kPage);
  build_node(page.data(), kPage, PageType::kLeaf, 4, 1, kNoPage, cells);
  seal_page(page.data(), kPage);
  ASSERT_TRUE(verify_page(page.data(), kPage, 4, "f").is_ok());
  ASSERT_TRUE(validate_node(page.data(), kPage, 4, "f").is_ok());
  NodeView leaf(page.data(), kPage);
  ASSERT_TRUE(leaf.is_leaf());
  ASSERT_EQ(leaf.count(), 4u);
  EXPECT_EQ(leaf.cell(0).key_inline, "a");
  EXPECT_EQ(leaf.cell(0).value_inline, "one");
  EXPECT_TRUE(leaf.cell(1).key_overflows());
  EXPECT_EQ(leaf.cell(1).key_page, 12u);
  EXPECT_EQ(leaf.cell(1).key_len, 5000u);
  EXPECT_TRUE(leaf.cell(2).value_overflows());
  EXPECT_EQ(leaf.cell(2).value_len, 70000u);
  EXPECT_EQ(leaf.cells(), cells);
  EXPECT_EQ(leaf.used_bytes(), node_bytes_needed(cells));

  std::vector<Bytes> inner = {encode_interior_cell(20, 0, 1, "m"),
                              encode_interior_cell(21, kKeyOverflow, 900, overflow_ref(30))};
  build_node(page.data(), kPage, PageType::kInterior, 5, 1, 19, inner);
  ASSERT_TRUE(validate_node(page.data(), kPage, 5, "f").is_ok());
  NodeView node(page.data(), kPage);
  EXPECT_FALSE(node.is_leaf());
  EXPECT_EQ(node.children(), 3u);
  EXPECT_EQ(node.child(0), 19u);
  EXPECT_EQ(node.child(1), 20u);
  EXPECT_EQ(node.child(2), 21u);
  EXPECT_EQ(NodeView(page.data(), kPage).cell(0).key_inline, "m");
  Cell moved;
  size_t size;
  ASSERT_TRUE(decode_cell(with_child(inner[0], 77), false, &moved, &size));
  EXPECT_EQ(moved.child, 77u);
  EXPECT_EQ(moved.key_inline, "m");
}

TEST(Node, ValidateRejectsBadSlots) {
  std::vector<char> page(kPage);
  build_node(page.data(), kPage, PageType::kLeaf, 4, 1, kNoPage,
             {encode_leaf_cell(0, 1, "a", 1, "b")});
  store_u16(page.data() + kPageHeaderBytes, kPage - 1);  // cell runs off the page
  Status s = validate_node(page.data(), kPage, 4, "f");
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  set_count(page.data(), 1000);
  EXPECT_EQ(validate_node(page.data(), kPage, 4, "f").code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace tessera::btree
