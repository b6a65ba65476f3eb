// Node split and merge through TreeWriter on tiny pages: splits keep every key reachable and
// in order, deletes merge nodes back down to a single leaf, and large keys and values go to
// overflow chains.
#include <gtest/gtest.h>

#include <map>

#include "btree_engine.h"
#include "test_util.h"

namespace tessera::btree {
namespace {

class NodeShapes : public ::testing::Test {
 protected:
  void SetUp() override {
    BtreeOptions options;
    options.page_bytes = 512;
    options.buffer_pool_bytes_max = 32 * 512;
    auto opened = BtreeEngine::open(dir_.path(), options);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    engine_ = std::move(opened).value();
  }
  void put(const std::string& k, const std::string& v) {
    ASSERT_TRUE(engine_->put(WriteOptions{}, k, v).is_ok());
  }
  void del(const std::string& k) { ASSERT_TRUE(engine_->del(WriteOptions{}, k).is_ok()); }
  std::map<std::string, std::string> scan() {
    std::map<std::string, std::string> out;
    auto it = engine_->new_iterator({});
    std::string last;
    for (it->seek_to_first(); it->valid(); it->next()) {
      EXPECT_TRUE(out.empty() || std::string(it->key()) > last) << "keys out of order";
      last = std::string(it->key());
      out.emplace(it->key(), it->value());
    }
    EXPECT_TRUE(it->status().is_ok()) << it->status().to_string();
    return out;
  }
  double stat(const std::string& name) { return engine_->stats()[name]; }

  testing::TempDir dir_;
  std::unique_ptr<BtreeEngine> engine_;
};

TEST_F(NodeShapes, SplitsGrowTheTreeAndMergesShrinkIt) {
  std::map<std::string, std::string> model;
  for (int i = 0; i < 2000; ++i) {
    std::string k = "k" + std::to_string(i * 7919 % 2000);
    model[k] = std::string(30, static_cast<char>('a' + i % 26));
    put(k, model[k]);
  }
  EXPECT_GE(stat("tree_height"), 3) << "512-byte pages hold a few dozen keys";
  EXPECT_EQ(scan(), model);
  for (const auto& [k, v] : model) del(k);
  EXPECT_EQ(stat("keys"), 0);
  EXPECT_EQ(stat("tree_height"), 0) << "deleting everything leaves an empty tree";
  EXPECT_TRUE(scan().empty());
}

TEST_F(NodeShapes, LargeKeysAndValuesUseOverflowChains) {
  std::map<std::string, std::string> model;
  for (int i = 0; i < 300; ++i) {
    // Shared 2 KiB prefixes make separators long too, so interior cells overflow as well.
    std::string k = std::string(2048, 'p') + std::to_string(i);
    model[k] = std::string(static_cast<size_t>(i * 37 % 3000), static_cast<char>('a' + i % 26));
    put(k, model[k]);
  }
  EXPECT_EQ(scan(), model);
  for (int i = 0; i < 300; i += 2) {
    std::string k = std::string(2048, 'p') + std::to_string(i);
    del(k);
    model.erase(k);
  }
  EXPECT_EQ(scan(), model);
  for (const auto& [k, v] : model) {
    auto got = engine_->get({}, k);
    ASSERT_TRUE(got.is_ok());
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ(**got, v);
  }
}

}  // namespace
}  // namespace tessera::btree
