// Concurrent readers and writers. Writers own disjoint key sets and write values that name their
// key, so any view can be checked without knowing the interleaving: sorted keys, values that
// belong to their keys, and a snapshot that reads the same twice. At the end, each writer's last
// write to each key is what the engine holds.
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "engine_fixture.h"
#include "random_ops.h"

namespace tessera::conformance {
namespace {

constexpr int kWriters = 3;
constexpr int kReaders = 2;
constexpr int kKeysPerWriter = 40;
constexpr int kOpsPerWriter = 1500;
constexpr int kOpsPerWriterMax = 1'000'000;
constexpr int kReaderRoundsMax = 20000;  // bounds a reader if the writers stall

Bytes writer_key(int writer, int k) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "w%d/%03d", writer, k);
  return buffer;
}

// "<key>#<op number>": a value that says which key it belongs to.
Bytes writer_value(ByteView key, int op) { return Bytes(key) + "#" + std::to_string(op); }

bool value_belongs_to(ByteView key, ByteView value) {
  return value.size() > key.size() + 1 && value.substr(0, key.size()) == key &&
         value[key.size()] == '#';
}

class Concurrency : public EngineTest {
 protected:
  // One writer: puts, deletes and two-key batches over its own keys, `kOpsPerWriter` in all,
  // and on (up to kOpsPerWriterMax) until the readers have checked a view each: a fast engine
  // on a busy machine could otherwise finish before any reader ran, testing nothing.
  void run_writer(int writer, uint64_t seed, Model* last, const std::atomic<int>& views) {
    RandomOps random(seed + writer, 1);
    for (int op = 0; op < kOpsPerWriter || (views.load() < kReaders && op < kOpsPerWriterMax);
         ++op) {
      Bytes key = writer_key(writer, static_cast<int>(random.below(kKeysPerWriter)));
      size_t dice = random.below(10);
      if (dice < 6) {
        put(key, writer_value(key, op));
        (*last)[key] = writer_value(key, op);
      } else if (dice < 8) {
        del(key);
        last->erase(key);
      } else {
        Bytes other = writer_key(writer, static_cast<int>(random.below(kKeysPerWriter)));
        WriteBatch batch;
        batch.put(key, writer_value(key, op));
        batch.put(other, writer_value(other, op));
        write(batch);
        (*last)[key] = writer_value(key, op);
        (*last)[other] = writer_value(other, op);
      }
    }
  }

  // One reader: alternates whole scans, bounded scans of one writer's keys, and a snapshot read
  // twice, until the writers are done.
  void run_reader(const std::atomic<bool>& done, std::atomic<int>* views) {
    for (int round = 0; round < kReaderRoundsMax && !done.load() && !HasFailure(); ++round) {
      std::unique_ptr<Snapshot> snapshot = engine().snapshot();
      int writer = round % kWriters;
      ScanSpec one_writer{.start = writer_key(writer, 0), .upper_bound = writer_key(writer + 1, 0)};
      KeyValues view = round % 2 == 0 ? scan({.snapshot = snapshot.get()}) : scan(one_writer);
      for (const auto& [key, value] : view) {
        EXPECT_TRUE(value_belongs_to(key, value))
            << "key " << printable(key) << " holds " << printable(value);
      }
      KeyValues again = scan({.snapshot = snapshot.get()});
      if (round % 2 == 0) {
        EXPECT_EQ(view, again) << "one snapshot read twice differs";
      }
      // A get at the snapshot agrees with the iterator at the snapshot.
      if (!again.empty()) {
        const auto& [key, value] = again[round % again.size()];
        EXPECT_EQ(get(key, snapshot.get()), value) << "get at a snapshot " << printable(key);
      }
      views->fetch_add(1);
    }
  }
};

TEST_F(Concurrency, ReadersSeeConsistentViewsAndLastWritesWin) {
  uint64_t seed = test_seed();
  SCOPED_TRACE("TESSERA_SEED=" + std::to_string(seed));
  std::vector<Model> last(kWriters);
  std::atomic<bool> done{false};
  std::atomic<int> views{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) readers.emplace_back([&] { run_reader(done, &views); });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] { run_writer(w, seed, &last[w], views); });
  }
  for (std::thread& t : writers) t.join();
  done.store(true);
  for (std::thread& t : readers) t.join();
  if (HasFailure()) std::cerr << "TESSERA_SEED=" << seed << "\n";

  EXPECT_GT(views.load(), 0);
  Model expected;
  for (const Model& model : last) expected.insert(model.begin(), model.end());
  EXPECT_EQ(scan({}), expected_scan(expected, {}));
  for (int w = 0; w < kWriters; ++w) {
    for (int k = 0; k < kKeysPerWriter; ++k) {
      Bytes key = writer_key(w, k);
      auto it = last[w].find(key);
      std::optional<Bytes> want;
      if (it != last[w].end()) want = it->second;
      EXPECT_EQ(get(key), want) << "the last write to " << key << " by writer " << w;
    }
  }
}

}  // namespace
}  // namespace tessera::conformance
