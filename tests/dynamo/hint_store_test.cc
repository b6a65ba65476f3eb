// HintStore: hints kept beside the data in the node's LocalStore.
#include "tessera/dynamo/hint_store.h"

#include <gtest/gtest.h>

#include "../node/local_store_fixture.h"
#include "tessera/write_batch.h"

namespace tessera::dynamo {
namespace {


class HintStoreTest : public node::LocalStoreTest {
 protected:
  void SetUp() override {
    node::LocalStoreTest::SetUp();
    hints_ = std::make_unique<HintStore>(store_.get(), [this] { return now_ms_; });
  }
  void reopen_with_hints() {
    hints_.reset();
    reopen();
    hints_ = std::make_unique<HintStore>(store_.get(), [this] { return now_ms_; });
  }

  std::unique_ptr<HintStore> hints_;
};

TEST_F(HintStoreTest, HintedWritesAreKeptForTheirOwnerUntilHandedOver) {
  ASSERT_TRUE(store_->create_table("t").is_ok());
  auto v1 = store_->new_version({});
  ASSERT_TRUE(v1.is_ok());
  ASSERT_TRUE(hints_->merge_versions("t", "k", {{*v1, false, "one"}}, "n2").is_ok());
  ASSERT_TRUE(hints_->merge_versions("t", "other", {{*v1, false, "x"}}, "n3").is_ok());
  ASSERT_TRUE(store_->merge_versions("t", "plain", {{*v1, false, "p"}}).is_ok());
  EXPECT_EQ(value_of("t", "k"), "one") << "a hinted write lands in this node's copy too";
  auto page = hints_->hints({}, 10);
  ASSERT_TRUE(page.is_ok()) << page.status().to_string();
  ASSERT_EQ(page->hints.size(), 2u) << "only hinted writes leave hints";
  const Hint& for_n2 = page->hints[0];
  EXPECT_EQ(for_n2.owner, "n2");
  EXPECT_EQ(for_n2.table, "t");
  EXPECT_EQ(for_n2.key, "k");
  ASSERT_EQ(for_n2.versions.size(), 1u);
  EXPECT_EQ(for_n2.versions[0].value, "one");
  // Pages resume where they stopped.
  auto first = hints_->hints({}, 1);
  ASSERT_TRUE(first.is_ok());
  ASSERT_EQ(first->hints.size(), 1u);
  auto second = hints_->hints(first->next_cursor, 1);
  ASSERT_TRUE(second.is_ok());
  ASSERT_EQ(second->hints.size(), 1u);
  EXPECT_EQ(second->hints[0].owner, "n3");
  EXPECT_TRUE(second->next_cursor.empty());
  // A later hinted write to the same key keeps the hint alive past a handover of the older one.
  auto v2 = store_->new_version({});
  ASSERT_TRUE(hints_->merge_versions("t", "k", {{*v2, false, "two"}}, "n2").is_ok());
  ASSERT_TRUE(hints_->drop_hint(for_n2).is_ok());
  page = hints_->hints({}, 10);
  ASSERT_TRUE(page.is_ok());
  ASSERT_EQ(page->hints.size(), 2u);
  // Handed over as it stands now: gone. The table catalog is untouched by hints.
  ASSERT_TRUE(hints_->drop_hint(page->hints[0]).is_ok());
  ASSERT_TRUE(hints_->drop_hint(page->hints[1]).is_ok());
  EXPECT_TRUE(hints_->hints({}, 10)->hints.empty());
  ASSERT_TRUE(hints_->merge_versions("t", "again", {{*v2, false, "a"}}, "n4").is_ok());
  // A tombstone from a peer must carry its write time, or the sweep would take it at once.
  EXPECT_EQ(store_->merge_versions("t", "k", {{*v2, true, ""}}).code(),
            StatusCode::kInvalidArgument);
  reopen_with_hints();
  EXPECT_EQ(store_->list_tables(), std::vector<std::string>{"t"});
  EXPECT_EQ(hints_->hints({}, 10)->hints.size(), 1u) << "hints survive a reopen";
  // A hint that does not parse is counted and passed over; the others still come.
  WriteBatch bad;
  bad.put(Bytes("\0\0\0\0zz", 6), "not a record");
  ASSERT_TRUE(engine_->write({}, bad).is_ok());
  auto with_bad = hints_->hints({}, 10);
  ASSERT_TRUE(with_bad.is_ok()) << with_bad.status().to_string();
  EXPECT_EQ(with_bad->unreadable, 1u);
  EXPECT_EQ(with_bad->hints.size(), 1u);
  // Dropping the table forgets its hints: a table made later under the name owes nothing.
  ASSERT_TRUE(store_->drop_table("t").is_ok());
  EXPECT_TRUE(hints_->hints({}, 10)->hints.empty());
}

TEST_F(HintStoreTest, AHintKeepsTheTimeItWasFirstWrittenUntilItIsHandedOver) {
  ASSERT_TRUE(store_->create_table("t").is_ok());
  auto v1 = store_->new_version({});
  ASSERT_TRUE(hints_->merge_versions("t", "k", {{*v1, false, "one"}}, "n2").is_ok());
  now_ms_ += 5'000;
  auto v2 = store_->new_version({});
  ASSERT_TRUE(hints_->merge_versions("t", "k", {{*v2, false, "two"}}, "n2").is_ok());
  ASSERT_TRUE(hints_->merge_versions("t", "j", {{*v2, false, "j"}}, "n2").is_ok());
  auto page = hints_->hints({}, 10);
  ASSERT_TRUE(page.is_ok()) << page.status().to_string();
  ASSERT_EQ(page->hints.size(), 2u) << "time records are not hints";
  EXPECT_EQ(page->unreadable, 0u);
  EXPECT_EQ(page->hints[0].key, "j");
  EXPECT_EQ(page->hints[0].first_hinted_ms, now_ms_);
  EXPECT_EQ(page->hints[1].first_hinted_ms, now_ms_ - 5'000) << "a later write keeps the time";
  // Handed over: the next hint of the key starts its own time.
  ASSERT_TRUE(hints_->drop_hint(page->hints[1]).is_ok());
  now_ms_ += 1'000;
  ASSERT_TRUE(hints_->merge_versions("t", "k", {{*v2, false, "two"}}, "n2").is_ok());
  page = hints_->hints({}, 10);
  ASSERT_EQ(page->hints.size(), 2u);
  EXPECT_EQ(page->hints[1].first_hinted_ms, now_ms_);
  // A dropped table takes the time records with its hints.
  ASSERT_TRUE(store_->drop_table("t").is_ok());
  auto it = engine_->new_iterator({.upper_bound = node::LocalStore::extension_end()});
  size_t records = 0;
  for (it->seek(node::LocalStore::extension_key("")); it->valid(); it->next()) ++records;
  EXPECT_EQ(records, 0u);
}

}  // namespace
}  // namespace tessera::dynamo
