// Snapshots: gets and iterators at a snapshot see exactly the writes before it.
#include <string>
#include <vector>

#include "engine_fixture.h"

namespace tessera::conformance {
namespace {

using Snapshots = EngineTest;

TEST_F(Snapshots, GetAtSnapshotIgnoresLaterWrites) {
  put("kept", "1");
  put("overwritten", "old");
  put("deleted", "here");
  std::unique_ptr<Snapshot> snapshot = engine().snapshot();
  ASSERT_NE(snapshot, nullptr);
  put("overwritten", "new");
  del("deleted");
  put("added", "later");
  EXPECT_EQ(get("kept", snapshot.get()), "1");
  EXPECT_EQ(get("overwritten", snapshot.get()), "old");
  EXPECT_EQ(get("deleted", snapshot.get()), "here");
  EXPECT_EQ(get("added", snapshot.get()), std::nullopt);
  // The latest state is unaffected by the snapshot.
  EXPECT_EQ(get("overwritten"), "new");
  EXPECT_EQ(get("deleted"), std::nullopt);
  EXPECT_EQ(get("added"), "later");
}

TEST_F(Snapshots, IteratorAtSnapshotIgnoresLaterWrites) {
  for (int i = 0; i < 50; ++i) put("k" + std::to_string(100 + i), "v" + std::to_string(i));
  std::unique_ptr<Snapshot> snapshot = engine().snapshot();
  KeyValues before = scan({});
  for (int i = 0; i < 50; i += 2) del("k" + std::to_string(100 + i));
  for (int i = 1; i < 50; i += 2) put("k" + std::to_string(100 + i), "changed");
  put("a-first", "x");
  put("z-last", "x");
  EXPECT_EQ(scan({.snapshot = snapshot.get()}), before);
  EXPECT_EQ(
      scan({.start = Bytes("k120"), .upper_bound = Bytes("k130"), .snapshot = snapshot.get()}),
      (KeyValues(before.begin() + 20, before.begin() + 30)));
  // An iterator made at the snapshot after more writes still sees the snapshot.
  put("k999", "even later");
  EXPECT_EQ(scan({.limit = 10, .snapshot = snapshot.get()}),
            (KeyValues(before.begin(), before.begin() + 10)));
  EXPECT_EQ(scan({}).size(), 25u + 2u + 1u);
}

TEST_F(Snapshots, ManySnapshotsSeeTheirOwnPoints) {
  std::vector<std::unique_ptr<Snapshot>> snapshots;
  std::vector<Model> models;
  Model model;
  for (int step = 0; step < 8; ++step) {
    snapshots.push_back(engine().snapshot());
    models.push_back(model);
    for (int i = 0; i < 10; ++i) {
      Bytes key = "k" + std::to_string((step * 7 + i * 3) % 20);
      if ((step + i) % 4 == 0) {
        del(key);
        model.erase(key);
      } else {
        Bytes value = std::to_string(step) + "." + std::to_string(i);
        put(key, value);
        model[key] = value;
      }
    }
  }
  // Release every other snapshot first: the remaining ones must not be disturbed.
  for (size_t s = 0; s < snapshots.size(); s += 2) snapshots[s].reset();
  for (size_t s = 1; s < snapshots.size(); s += 2) {
    EXPECT_EQ(scan({.snapshot = snapshots[s].get()}), expected_scan(models[s], {}))
        << "snapshot " << s;
    for (int k = 0; k < 20; ++k) {
      Bytes key = "k" + std::to_string(k);
      auto it = models[s].find(key);
      std::optional<Bytes> expected;
      if (it != models[s].end()) expected = it->second;
      EXPECT_EQ(get(key, snapshots[s].get()), expected) << "snapshot " << s << " key " << key;
    }
  }
  EXPECT_EQ(scan({}), expected_scan(model, {}));
}

TEST_F(Snapshots, ReleasingASnapshotIsFine) {
  put("k", "1");
  std::unique_ptr<Snapshot> snapshot = engine().snapshot();
  put("k", "2");
  EXPECT_EQ(get("k", snapshot.get()), "1");
  snapshot.reset();
  put("k", "3");
  EXPECT_EQ(get("k"), "3");
  // A snapshot of an empty engine, released without use.
  engine().snapshot().reset();
  std::unique_ptr<Snapshot> again = engine().snapshot();
  del("k");
  EXPECT_EQ(get("k", again.get()), "3");
  EXPECT_EQ(get("k"), std::nullopt);
}

TEST_F(Snapshots, SnapshotOfAnEmptyEngineStaysEmpty) {
  std::unique_ptr<Snapshot> snapshot = engine().snapshot();
  put("k", "v");
  EXPECT_EQ(get("k", snapshot.get()), std::nullopt);
  EXPECT_TRUE(scan({.snapshot = snapshot.get()}).empty());
}

}  // namespace
}  // namespace tessera::conformance
