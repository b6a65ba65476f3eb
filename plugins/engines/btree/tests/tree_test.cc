// Randomized differential test: random puts, deletes, batches, snapshots, scans and reopens
// against std::map, on tiny pages and a tiny pool. Prints TESSERA_SEED=<n>; set it to replay.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "btree_engine.h"
#include "test_util.h"

namespace tessera::btree {
namespace {

using Model = std::map<std::string, std::string>;

std::string random_key(std::mt19937_64& rng) {
  // Mostly short keys from a small space (overwrites and deletes hit), some long ones.
  uint64_t n = rng() % 600;
  std::string k = "key" + std::to_string(n);
  if (n % 50 == 0) k += std::string(100 + rng() % 600, static_cast<char>('a' + n % 26));
  return k;
}

std::string random_value(std::mt19937_64& rng) {
  size_t size = rng() % 10 == 0 ? rng() % 4000 : rng() % 60;
  std::string v(size, '\0');
  for (char& c : v) c = static_cast<char>(rng());
  return v;
}

Model scan(Engine& engine, const Snapshot* snapshot) {
  Model out;
  IteratorOptions options;
  options.snapshot = snapshot;
  auto it = engine.new_iterator(options);
  for (it->seek_to_first(); it->valid(); it->next()) out.emplace(it->key(), it->value());
  EXPECT_TRUE(it->status().is_ok()) << it->status().to_string();
  return out;
}

TEST(Tree, RandomOperationsMatchStdMap) {
  uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  testing::TempDir dir;
  BtreeOptions options;
  options.page_bytes = 512;
  options.buffer_pool_bytes_max = 16 * 512;
  auto engine = BtreeEngine::open(dir.path(), options);
  ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
  Model model;
  Model synced;
  struct Held {
    std::unique_ptr<Snapshot> snapshot;
    Model model;
  };
  std::vector<Held> held;
  constexpr int kSteps = 4000;
  for (int step = 0; step < kSteps; ++step) {
    uint64_t dice = rng() % 100;
    if (dice < 70) {
      WriteBatch batch;
      int ops = 1 + static_cast<int>(rng() % 8);
      for (int i = 0; i < ops; ++i) {
        std::string k = random_key(rng);
        if (rng() % 3 == 0) {
          batch.del(k);
          model.erase(k);
        } else {
          std::string v = random_value(rng);
          batch.put(k, v);
          model[k] = v;
        }
      }
      bool sync = rng() % 10 == 0;
      ASSERT_TRUE((*engine)->write(WriteOptions{.sync = sync}, batch).is_ok()) << "step " << step;
      if (sync) synced = model;
    } else if (dice < 80) {
      std::string k = random_key(rng);
      auto got = (*engine)->get({}, k);
      ASSERT_TRUE(got.is_ok()) << got.status().to_string();
      auto want = model.find(k);
      ASSERT_EQ(got->has_value(), want != model.end()) << "step " << step << " key " << k;
      if (want != model.end()) {
        ASSERT_EQ(**got, want->second) << "step " << step;
      }
    } else if (dice < 85) {
      if (held.size() < 4) held.push_back({(*engine)->snapshot(), model});
    } else if (dice < 90) {
      if (!held.empty()) {
        size_t i = rng() % held.size();
        ASSERT_EQ(scan(**engine, held[i].snapshot.get()), held[i].model) << "step " << step;
        held.erase(held.begin() + static_cast<ptrdiff_t>(i));
      }
    } else if (dice < 97) {
      ASSERT_EQ(scan(**engine, nullptr), model) << "step " << step;
    } else {
      held.clear();
      if (rng() % 2 == 0) {
        ASSERT_TRUE((*engine)->sync().is_ok());
        synced = model;
      }
      engine->reset();
      engine = BtreeEngine::open(dir.path(), options);
      ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
      ASSERT_EQ(scan(**engine, nullptr), model) << "a clean close keeps everything, step " << step;
    }
  }
  EXPECT_GE((*engine)->stats()["tree_height"], 2);
}

}  // namespace
}  // namespace tessera::btree
