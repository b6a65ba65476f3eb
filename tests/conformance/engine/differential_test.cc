// A randomized run against the std::map model: puts, deletes, batches, gets, bounded scans and
// snapshots, all drawn from one seed. A failure prints TESSERA_SEED=<n>; setting TESSERA_SEED
// replays the same run.
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "engine_fixture.h"
#include "random_ops.h"

namespace tessera::conformance {
namespace {

struct HeldSnapshot {
  std::unique_ptr<Snapshot> snapshot;
  Model model;
};

class Differential : public EngineTest {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << "TESSERA_SEED=" << seed_ << "\n";
    snapshots_.clear();  // before the engine goes
    EngineTest::TearDown();
  }

  void check_scan(const ScanSpec& spec, const Model& model, int step) {
    KeyValues actual = scan(spec);
    KeyValues expected = expected_scan(model, spec);
    EXPECT_TRUE(actual == expected)
        << "step " << step << " scan from " << printable(spec.start.value_or("<first>")) << " to "
        << printable(spec.upper_bound.value_or("<end>")) << " limit " << spec.limit
        << (spec.snapshot ? " at a snapshot" : "") << "\n  got      " << printable(actual)
        << "\n  expected " << printable(expected);
  }

  void check_get(ByteView key, const Model& model, const Snapshot* snapshot, int step) {
    auto it = model.find(Bytes(key));
    std::optional<Bytes> expected;
    if (it != model.end()) expected = it->second;
    std::optional<Bytes> actual = get(key, snapshot);
    EXPECT_TRUE(actual == expected)
        << "step " << step << " get " << printable(key) << (snapshot ? " at a snapshot" : "")
        << ": got " << (actual ? printable(*actual) : "nothing") << ", expected "
        << (expected ? printable(*expected) : "nothing");
  }

  uint64_t seed_ = test_seed();
  std::vector<HeldSnapshot> snapshots_;
};

TEST_F(Differential, RandomOperationsMatchTheModel) {
  constexpr int kSteps = 10000;
  constexpr size_t kSnapshotsMax = 4;
  SCOPED_TRACE("TESSERA_SEED=" + std::to_string(seed_));
  RandomOps ops(seed_, /*keyspace=*/300);
  Model model;
  for (int step = 0; step < kSteps && !HasFailure(); ++step) {
    int dice = ops.below(100);
    if (dice < 35) {
      Bytes key = ops.key();
      Bytes value = ops.value();
      put(key, value);
      model[key] = value;
    } else if (dice < 45) {
      Bytes key = ops.key();
      del(key);
      model.erase(key);
    } else if (dice < 55) {
      WriteBatch batch = ops.batch(&model);
      write(batch, /*sync=*/ops.below(20) == 0);
    } else if (dice < 75) {
      const HeldSnapshot* held = snapshots_.empty() || ops.below(2) == 0
                                     ? nullptr
                                     : &snapshots_[ops.below(snapshots_.size())];
      check_get(ops.key(), held ? held->model : model, held ? held->snapshot.get() : nullptr, step);
    } else if (dice < 90) {
      const HeldSnapshot* held = snapshots_.empty() || ops.below(2) == 0
                                     ? nullptr
                                     : &snapshots_[ops.below(snapshots_.size())];
      ScanSpec spec = ops.scan_spec();
      spec.snapshot = held ? held->snapshot.get() : nullptr;
      check_scan(spec, held ? held->model : model, step);
    } else if (dice < 95) {
      if (snapshots_.size() == kSnapshotsMax) snapshots_.erase(snapshots_.begin());
      snapshots_.push_back({engine().snapshot(), model});
    } else if (dice < 98) {
      if (!snapshots_.empty()) snapshots_.erase(snapshots_.begin() + ops.below(snapshots_.size()));
    } else {
      ASSERT_TRUE(engine().sync().is_ok());
    }
  }
  check_scan({}, model, kSteps);
  for (const HeldSnapshot& held : snapshots_) {
    check_scan({.snapshot = held.snapshot.get()}, held.model, kSteps);
  }
}

}  // namespace
}  // namespace tessera::conformance
