#include "skiplist.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "memtable.h"

namespace tessera::lsm {
namespace {

struct U64Compare {
  int operator()(uint64_t a, uint64_t b) const { return a < b ? -1 : (a > b ? 1 : 0); }
};

TEST(SkipList, InsertAndIterateInOrder) {
  Arena arena;
  SkipList<uint64_t, U64Compare> list(U64Compare{}, &arena);
  std::set<uint64_t> model;
  std::mt19937_64 rng(1);
  for (int i = 0; i < 5000; ++i) {
    uint64_t k = rng() % 100000;
    if (model.insert(k).second) list.insert(k);
  }
  SkipList<uint64_t, U64Compare>::Iterator it(&list);
  it.seek_to_first();
  for (uint64_t k : model) {
    ASSERT_TRUE(it.valid());
    EXPECT_EQ(it.key(), k);
    it.next();
  }
  EXPECT_FALSE(it.valid());
  for (int i = 0; i < 100; ++i) {
    uint64_t target = rng() % 100000;
    it.seek(target);
    auto m = model.lower_bound(target);
    if (m == model.end()) {
      EXPECT_FALSE(it.valid());
    } else {
      ASSERT_TRUE(it.valid());
      EXPECT_EQ(it.key(), *m);
    }
  }
}

TEST(SkipList, ReadersRunConcurrentlyWithOneWriter) {
  Arena arena;
  SkipList<uint64_t, U64Compare> list(U64Compare{}, &arena);
  std::atomic<uint64_t> inserted{0};  // keys 1..inserted are in the list
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) {
      uint64_t known = inserted.load(std::memory_order_acquire);
      SkipList<uint64_t, U64Compare>::Iterator it(&list);
      uint64_t expect = 1;
      for (it.seek_to_first(); it.valid() && expect <= known; it.next(), ++expect) {
        ASSERT_EQ(it.key(), expect);
      }
      ASSERT_GT(expect, known);
    }
  });
  for (uint64_t k = 1; k <= 50000; ++k) {
    list.insert(k);
    inserted.store(k, std::memory_order_release);
  }
  stop.store(true);
  reader.join();
}

TEST(MemTable, NewestVisibleVersionWins) {
  MemTable mem;
  mem.add(1, ValueType::kValue, "a", "a1");
  mem.add(2, ValueType::kValue, "a", "a2");
  mem.add(3, ValueType::kDeletion, "a", "");
  mem.add(4, ValueType::kValue, "b", "b4");
  EXPECT_EQ(mem.get("a", 1)->value, "a1");
  EXPECT_EQ(mem.get("a", 2)->value, "a2");
  EXPECT_TRUE(mem.get("a", 3)->deleted);
  EXPECT_FALSE(mem.get("b", 3).has_value());
  EXPECT_EQ(mem.get("b", 10)->value, "b4");
  EXPECT_FALSE(mem.get("c", 10).has_value());
  EXPECT_FALSE(mem.get("", 10).has_value());
  EXPECT_EQ(mem.entry_count(), 4u);
}

TEST(MemTable, IteratorYieldsInternalKeyOrder) {
  auto mem = std::make_shared<MemTable>();
  mem->add(5, ValueType::kValue, "b", "x");
  mem->add(6, ValueType::kValue, "a", "y");
  mem->add(7, ValueType::kValue, "b", "z");
  auto it = MemTable::new_iterator(mem);
  it->seek_to_first();
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(user_key_of(it->key()), "a");
  it->next();
  EXPECT_EQ(it->value(), "z");  // b@7 before b@5
  it->next();
  EXPECT_EQ(it->value(), "x");
  it->next();
  EXPECT_FALSE(it->valid());
}

}  // namespace
}  // namespace tessera::lsm
