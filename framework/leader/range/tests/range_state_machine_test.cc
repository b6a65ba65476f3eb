#include "range_state_machine.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <utility>

#include "range_commands.h"
#include "tessera/coding.h"
#include "tessera/plugin_loader.h"

namespace tessera::leader {
namespace {

constexpr uint32_t kTable = 3;

// A 16-byte lww sequencer (sequencer.h's layout: timestamp, counter, node tag, big-endian).
Bytes sequencer(uint64_t timestamp_ns, uint32_t counter = 0, uint32_t node_tag = 1) {
  Bytes out;
  put_fixed64_be(&out, timestamp_ns);
  put_fixed32_be(&out, counter);
  put_fixed32_be(&out, node_tag);
  return out;
}

RangeDescriptor range_of(uint64_t id, Bytes start, Bytes end, uint64_t epoch) {
  RangeDescriptor d;
  d.id = id;
  d.range = KeyRange{"t", std::move(start), std::move(end)};
  d.epoch = epoch;
  d.group = "range-" + std::to_string(id);
  return d;
}

RangeWriteOp put(Bytes key, Bytes value) { return RangeWriteOp{std::move(key), std::move(value)}; }
RangeWriteOp remove(Bytes key) { return RangeWriteOp{std::move(key), std::nullopt}; }

// Chunks of an image, read from a list (e.g. one copied out of another replica).
class ListedChunks final : public SnapshotChunks {
 public:
  explicit ListedChunks(std::vector<Bytes> chunks, size_t fail_at = SIZE_MAX)
      : chunks_(std::move(chunks)), fail_at_(fail_at) {}
  Result<std::optional<Bytes>> next() override {
    if (next_ == fail_at_) return Status::io_error("the sender went away");
    if (next_ == chunks_.size()) return std::optional<Bytes>();
    return std::optional<Bytes>(chunks_[next_++]);
  }

 private:
  std::vector<Bytes> chunks_;
  size_t next_ = 0;
  const size_t fail_at_;
};

std::vector<Bytes> read_all(SnapshotChunks& chunks) {
  std::vector<Bytes> out;
  while (true) {
    auto chunk = chunks.next();
    EXPECT_TRUE(chunk.is_ok()) << chunk.status().to_string();
    if (!chunk.is_ok() || !chunk.value()) return out;
    out.push_back(std::move(*chunk.value()));
  }
}

class RangeStateMachineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tessera-range-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "a");
    std::filesystem::create_directories(dir_ / "b");
    auto conflict = loader_.make_conflict(TESSERA_LWW_CONFLICT, {"n1", {}}, {});
    ASSERT_TRUE(conflict.is_ok()) << conflict.status().to_string();
    conflict_ = std::move(conflict).value();
    engine_ = make_engine(TESSERA_MEMORY_ENGINE, {});
    ASSERT_NE(engine_, nullptr);
    sm_ = open_range(engine_.get(), descriptor_);
  }
  void TearDown() override {
    sm_.reset();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }

  PluginPtr<Engine> make_engine(const char* plugin, std::filesystem::path data_dir) {
    auto engine = loader_.make_engine(plugin, {"n1", std::move(data_dir)}, {});
    EXPECT_TRUE(engine.is_ok()) << engine.status().to_string();
    return engine.is_ok() ? std::move(engine).value() : nullptr;
  }

  std::unique_ptr<RangeStateMachine> open_range(Engine* engine, RangeDescriptor descriptor,
                                                uint64_t sync_every_entries = 4096) {
    auto sm = RangeStateMachine::open(engine, conflict_.get(), kTable, std::move(descriptor),
                                      {.sync_every_entries = sync_every_entries});
    EXPECT_TRUE(sm.is_ok()) << sm.status().to_string();
    return sm.is_ok() ? std::move(sm).value() : nullptr;
  }

  // Applies `commands` to `sm` as one batch after its applied index; returns their results.
  std::vector<Result<Bytes>> apply(RangeStateMachine& sm, std::vector<Bytes> commands) {
    std::vector<Command> batch;
    LogIndex index = sm.applied_index();
    for (const Bytes& c : commands) batch.push_back(Command{++index, c});
    std::vector<Bytes> results;
    Status status = sm.apply(batch, results);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    EXPECT_EQ(results.size(), commands.size());
    std::vector<Result<Bytes>> out;
    for (const Bytes& r : results) out.push_back(decode_range_result(r));
    return out;
  }
  Result<Bytes> apply1(Bytes command) { return apply(*sm_, {std::move(command)}).at(0); }

  // A write into the fixture's range at its epoch.
  Bytes write(Bytes seq, std::vector<RangeWriteOp> ops) {
    return encode_write(descriptor_.id, descriptor_.epoch, seq, ops);
  }

  std::optional<StoredValue> get(const RangeStateMachine& sm, ByteView key) {
    auto got = sm.get(key);
    EXPECT_TRUE(got.is_ok()) << got.status().to_string();
    return got.is_ok() ? got.value() : std::nullopt;
  }
  std::optional<Bytes> value_of(ByteView key) {
    std::optional<StoredValue> got = get(*sm_, key);
    if (!got) return std::nullopt;
    return got->value;
  }

  std::vector<ScanItem> scan_all(const RangeStateMachine& sm) {
    auto page = sm.scan(sm.descriptor().range.start, "", 0);
    EXPECT_TRUE(page.is_ok()) << page.status().to_string();
    return page.is_ok() ? page->items : std::vector<ScanItem>{};
  }

  std::filesystem::path dir_;
  PluginLoader loader_{{std::filesystem::path(TESSERA_MEMORY_ENGINE).parent_path()}};
  PluginPtr<Conflict> conflict_;
  PluginPtr<Engine> engine_;
  const RangeDescriptor descriptor_ = range_of(7, "b", "m", 3);
  std::unique_ptr<RangeStateMachine> sm_;
};

TEST_F(RangeStateMachineTest, PutsAndRemovesAreReadBackWithTheirVersion) {
  auto first = apply1(write(sequencer(100), {put("c", "1"), put("d", "2")}));
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  EXPECT_EQ(first.value(), sequencer(100));
  EXPECT_EQ(get(*sm_, "c"), (StoredValue{"1", sequencer(100)}));
  EXPECT_EQ(get(*sm_, "d"), (StoredValue{"2", sequencer(100)}));

  auto second = apply1(write(sequencer(200), {remove("c"), put("d", ""), remove("e")}));
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_FALSE(get(*sm_, "c").has_value());
  EXPECT_EQ(get(*sm_, "d"), (StoredValue{"", sequencer(200)}));
  EXPECT_FALSE(get(*sm_, "e").has_value());  // removing a missing key is applied
  EXPECT_EQ(sm_->applied_index(), 2u);
  EXPECT_EQ(sm_->last_version(), sequencer(200));
}

TEST_F(RangeStateMachineTest, DestroyDeletesTheRangeAndLeavesItsNeighbours) {
  ASSERT_TRUE(apply1(write(sequencer(100), {put("c", "1"), put("l", "2")})).is_ok());
  std::unique_ptr<RangeStateMachine> right = open_range(engine_.get(), range_of(8, "m", "", 1));
  std::vector<RangeWriteOp> ops = {put("x", "3")};
  ASSERT_TRUE(apply(*right, {encode_write(8, 1, sequencer(100), ops)})[0].is_ok());
  ASSERT_TRUE(sm_->destroy().is_ok());
  EXPECT_FALSE(get(*sm_, "c").has_value());
  EXPECT_FALSE(get(*sm_, "l").has_value());
  EXPECT_EQ(get(*right, "x"), (StoredValue{"3", sequencer(100)})) << "the neighbour keeps its keys";
  // Nothing of it is left: opened again, it is a fresh range.
  sm_ = open_range(engine_.get(), descriptor_);
  EXPECT_EQ(sm_->applied_index(), 0u);
  EXPECT_TRUE(sm_->last_version().empty());
}

TEST_F(RangeStateMachineTest, AWriteOfSeveralKeysIsAppliedWholeOrNotAtAll) {
  auto whole = apply1(write(sequencer(100), {put("b", "1"), put("f", "2"), put("l\xff", "3")}));
  ASSERT_TRUE(whole.is_ok()) << whole.status().to_string();
  std::vector<ScanItem> items = scan_all(*sm_);
  ASSERT_EQ(items.size(), 3u);
  for (const ScanItem& item : items) EXPECT_EQ(item.value.version, sequencer(100));

  // One key past the end: none of the others is written either.
  auto refused = apply1(write(sequencer(200), {put("b", "x"), put("m", "y")}));
  EXPECT_EQ(refused.status().code(), StatusCode::kStaleRoute);
  EXPECT_EQ(value_of("b"), "1");
  EXPECT_EQ(sm_->last_version(), sequencer(100));
}

TEST_F(RangeStateMachineTest, KeyOutsideTheRangeIsRefusedAsStaleRouteAndCountsAsApplied) {
  for (Bytes key : {Bytes("a"), Bytes("m"), Bytes("z"), Bytes("")}) {
    const LogIndex before = sm_->applied_index();
    auto refused = apply1(write(sequencer(100), {put(key, "v")}));
    EXPECT_EQ(refused.status().code(), StatusCode::kStaleRoute) << key;
    EXPECT_EQ(refused.status().detail().route_epoch, 3u);
    EXPECT_EQ(sm_->applied_index(), before + 1);
  }
  // Nothing of the table was written, inside the range or next to it.
  auto it = engine_->new_iterator({});
  it->seek(RangeStateMachine::data_key(kTable, ""));
  EXPECT_TRUE(!it->valid() || !it->key().starts_with(RangeStateMachine::data_key(kTable, "")));
  EXPECT_TRUE(sm_->last_version().empty());
}

TEST_F(RangeStateMachineTest, StaleEpochOrAnotherRangeIsRefusedWithTheCurrentEpoch) {
  auto old_epoch = apply1(encode_write(7, 2, sequencer(100), std::vector{put("c", "v")}));
  EXPECT_EQ(old_epoch.status().code(), StatusCode::kStaleRoute);
  EXPECT_EQ(old_epoch.status().detail().route_epoch, 3u);
  auto new_epoch = apply1(encode_write(7, 4, sequencer(100), std::vector{put("c", "v")}));
  EXPECT_EQ(new_epoch.status().code(), StatusCode::kStaleRoute);
  auto other = apply1(encode_write(8, 3, sequencer(100), std::vector{put("c", "v")}));
  EXPECT_EQ(other.status().code(), StatusCode::kStaleRoute);
  EXPECT_EQ(other.status().detail().route_epoch, 3u);
  EXPECT_EQ(sm_->applied_index(), 3u);
  EXPECT_FALSE(value_of("c").has_value());

  // The metadata raises the epoch: what was routed at 3 is refused, at 4 applied.
  RangeDescriptor next = descriptor_;
  next.epoch = 4;
  ASSERT_TRUE(sm_->set_descriptor(next).is_ok());
  auto at3 = apply1(write(sequencer(100), {put("c", "v")}));
  EXPECT_EQ(at3.status().detail().route_epoch, 4u);
  EXPECT_TRUE(apply1(encode_write(7, 4, sequencer(100), std::vector{put("c", "v")})).is_ok());
  EXPECT_EQ(value_of("c"), "v");
  EXPECT_EQ(sm_->set_descriptor(descriptor_).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sm_->set_descriptor(range_of(8, "b", "m", 5)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sm_->descriptor().epoch, 4u);
}

TEST_F(RangeStateMachineTest, CommandsThatDoNotParseAreRefusedAndCountAsApplied) {
  const std::vector<Bytes> garbage = {
      "not a capnp message at all", Bytes(64, '\xff'), Bytes(24, '\0'),
      write(sequencer(100), {}),  // a write with no keys
  };
  std::vector<Result<Bytes>> results = apply(*sm_, garbage);
  for (const Result<Bytes>& r : results) {
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().to_string();
  }
  auto bad_sequencer = apply1(write("short", {put("c", "v")}));
  EXPECT_EQ(bad_sequencer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sm_->applied_index(), 5u);
  EXPECT_TRUE(scan_all(*sm_).empty());
}

TEST_F(RangeStateMachineTest, PluginEntriesOnlyAdvanceTheIndex) {
  std::vector<Bytes> results;
  std::vector<Command> batch = {Command{1, ""}, Command{2, ""}};
  ASSERT_TRUE(sm_->apply(batch, results).is_ok());
  EXPECT_EQ(results, (std::vector<Bytes>{"", ""}));
  EXPECT_EQ(sm_->applied_index(), 2u);
  EXPECT_TRUE(scan_all(*sm_).empty());
}

TEST_F(RangeStateMachineTest, VersionsRatchetAboveTheLastWhenTheLeaderClockIsBehind) {
  ASSERT_TRUE(apply1(write(sequencer(1000, 0, 1), {put("c", "old leader")})).is_ok());
  // A new leader whose clock is 900 ns behind proposes two writes in one batch.
  std::vector<Result<Bytes>> results =
      apply(*sm_, {write(sequencer(100, 0, 2), {put("c", "new leader")}),
                   write(sequencer(101, 0, 2), {put("d", "new leader")})});
  ASSERT_TRUE(results[0].is_ok() && results[1].is_ok());
  EXPECT_GT(results[0].value(), sequencer(1000, 0, 1));
  EXPECT_GT(results[1].value(), results[0].value());
  EXPECT_EQ(get(*sm_, "c")->version, results[0].value());
  // A proposal ahead of the last is applied as proposed.
  EXPECT_EQ(apply1(write(sequencer(5000), {put("c", "v")})).value(), sequencer(5000));
}

TEST_F(RangeStateMachineTest, RatchetGoesOnFromThePersistedVersionAfterARestart) {
  sm_.reset();
  engine_ = make_engine(TESSERA_LSM_ENGINE, dir_ / "a");
  ASSERT_NE(engine_, nullptr);
  sm_ = open_range(engine_.get(), descriptor_, 1);
  auto last = apply1(write(sequencer(1'000'000), {put("c", "before")}));
  ASSERT_TRUE(last.is_ok());

  // The node restarts (engine and all) with its clock set back.
  sm_.reset();
  engine_.reset();
  engine_ = make_engine(TESSERA_LSM_ENGINE, dir_ / "a");
  ASSERT_NE(engine_, nullptr);
  sm_ = open_range(engine_.get(), descriptor_, 1);
  EXPECT_EQ(sm_->applied_index(), 1u);
  EXPECT_EQ(sm_->durable_index(), 1u);
  EXPECT_EQ(sm_->last_version(), last.value());
  auto after = apply1(write(sequencer(10), {put("c", "after")}));
  ASSERT_TRUE(after.is_ok());
  EXPECT_GT(after.value(), last.value());
  EXPECT_EQ(get(*sm_, "c"), (StoredValue{"after", after.value()}));
}

TEST_F(RangeStateMachineTest, DurableIndexLagsTheAppliedOneUntilTheSyncInterval) {
  sm_ = open_range(engine_.get(), descriptor_, 4);
  EXPECT_EQ(sm_->durable_index(), 0u);
  apply(*sm_, {write(sequencer(1), {put("c", "1")}), ""});
  EXPECT_EQ(sm_->applied_index(), 2u);
  EXPECT_EQ(sm_->durable_index(), 0u);
  apply(*sm_, {write(sequencer(2), {put("c", "2")})});
  EXPECT_EQ(sm_->durable_index(), 0u);
  apply(*sm_, {"", write(sequencer(3), {put("c", "3")})});  // passes 4
  EXPECT_EQ(sm_->applied_index(), 5u);
  EXPECT_EQ(sm_->durable_index(), 5u);
  apply(*sm_, {""});
  EXPECT_EQ(sm_->durable_index(), 5u);
}

TEST_F(RangeStateMachineTest, ReadsRefuseKeysOutsideTheRangeAndScanPages) {
  std::vector<RangeWriteOp> ops;
  for (char c = 'b'; c < 'm'; ++c) ops.push_back(put(Bytes(1, c), Bytes(2, c)));
  ASSERT_TRUE(apply1(write(sequencer(100), ops)).is_ok());
  // A neighbouring range of the same table, in the same engine.
  auto right = open_range(engine_.get(), range_of(8, "m", "", 1));
  ASSERT_TRUE(apply(*right, {encode_write(8, 1, sequencer(100), std::vector{put("m", "r")})})
                  .at(0)
                  .is_ok());

  EXPECT_EQ(sm_->get("a").status().code(), StatusCode::kStaleRoute);
  EXPECT_EQ(sm_->get("m").status().detail().route_epoch, 3u);
  EXPECT_EQ(sm_->scan("a", "", 0).status().code(), StatusCode::kStaleRoute);
  EXPECT_EQ(sm_->scan("b", "n", 0).status().code(), StatusCode::kStaleRoute);
  EXPECT_EQ(right->get("l").status().code(), StatusCode::kStaleRoute);

  auto first = sm_->scan("b", "", 4);
  ASSERT_TRUE(first.is_ok());
  ASSERT_EQ(first->items.size(), 4u);
  EXPECT_EQ(first->items[0], (ScanItem{"b", {"bb", sequencer(100)}}));
  EXPECT_EQ(first->next_key, "f");
  auto rest = sm_->scan(*first->next_key, "", 0);
  ASSERT_TRUE(rest.is_ok());
  EXPECT_EQ(rest->items.size(), 7u);  // f..l; the neighbour's "m" is not ours
  EXPECT_EQ(rest->items.back().key, "l");
  EXPECT_FALSE(rest->next_key.has_value());
  auto bounded = sm_->scan("c", "e", 0);
  ASSERT_TRUE(bounded.is_ok());
  EXPECT_EQ(bounded->items.size(), 2u);
  EXPECT_TRUE(sm_->scan("e", "c", 0)->items.empty());
  EXPECT_EQ(scan_all(*right).size(), 1u);
}

TEST_F(RangeStateMachineTest, ReadsFromAnotherThreadSeeEachWriteWhole) {
  std::atomic<bool> done = false;
  std::thread reader([&] {
    while (!done.load()) {
      auto page = sm_->scan("c", "e", 0);
      ASSERT_TRUE(page.is_ok()) << page.status().to_string();
      if (page->items.empty()) continue;
      ASSERT_EQ(page->items.size(), 2u);
      EXPECT_EQ(page->items[0].value.version, page->items[1].value.version);
    }
  });
  for (uint64_t i = 1; i <= 300; ++i) {
    apply(*sm_, {write(sequencer(i), {put("c", std::to_string(i)), put("d", std::to_string(i))})});
  }
  done = true;
  reader.join();
  EXPECT_EQ(value_of("d"), "300");
}

TEST_F(RangeStateMachineTest, SnapshotRestoredIntoAnotherEngineKeepsNeighboursAndTheRatchet) {
  // Enough data for several chunks.
  const Bytes big(64 * 1024, 'v');
  for (int i = 0; i < 40; ++i) {
    const Bytes key = "k" + std::to_string(100 + i);
    ASSERT_TRUE(apply1(write(sequencer(1000 + i), {put(key, big + key)})).is_ok());
  }
  const Bytes last = sm_->last_version();
  auto image = sm_->snapshot();
  ASSERT_TRUE(image.is_ok());
  EXPECT_EQ(image->index, 40u);
  // The source goes on after the snapshot; the image does not see it.
  ASSERT_TRUE(apply1(write(sequencer(9999), {put("c", "later")})).is_ok());
  std::vector<Bytes> chunks = read_all(*image->chunks);
  ASSERT_GT(chunks.size(), 3u);
  for (const Bytes& chunk : chunks) EXPECT_LE(chunk.size(), RangeStateMachine::kChunkBytesMax);

  // The target: a stale key of the range, and a neighbouring range of the same table.
  PluginPtr<Engine> target = make_engine(TESSERA_MEMORY_ENGINE, {});
  auto restored = open_range(target.get(), descriptor_);
  ASSERT_TRUE(apply(*restored, {write(sequencer(5), {put("h-stale", "x")})}).at(0).is_ok());
  auto neighbour = open_range(target.get(), range_of(8, "m", "", 1));
  ASSERT_TRUE(apply(*neighbour, {encode_write(8, 1, sequencer(5), std::vector{put("n", "keep")})})
                  .at(0)
                  .is_ok());

  ListedChunks listed(chunks);
  ASSERT_TRUE(restored->restore(40, listed).is_ok());
  EXPECT_EQ(restored->applied_index(), 40u);
  EXPECT_EQ(restored->durable_index(), 40u);
  EXPECT_EQ(restored->last_version(), last);
  EXPECT_FALSE(get(*restored, "h-stale").has_value());
  EXPECT_FALSE(get(*restored, "c").has_value());
  EXPECT_EQ(get(*neighbour, "n")->value, "keep");
  std::vector<ScanItem> want = scan_all(*sm_);
  want.erase(want.begin());  // "c", written after the snapshot
  EXPECT_EQ(scan_all(*restored), want);

  // The restored replica ratchets on from the image's last version, also after a reopen.
  restored = open_range(target.get(), descriptor_);
  EXPECT_EQ(restored->applied_index(), 40u);
  auto next = apply(*restored, {write(sequencer(1), {put("c", "x")})}).at(0);
  ASSERT_TRUE(next.is_ok());
  EXPECT_GT(next.value(), last);
}

TEST_F(RangeStateMachineTest, RestoreInterruptedMidwayClaimsNoIndexAndIsStartedAgain) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(apply1(write(sequencer(10 + i), {put("k" + std::to_string(i), "v")})).is_ok());
  }
  auto image = sm_->snapshot();
  ASSERT_TRUE(image.is_ok());
  std::vector<Bytes> chunks = read_all(*image->chunks);

  PluginPtr<Engine> target = make_engine(TESSERA_MEMORY_ENGINE, {});
  auto restored = open_range(target.get(), descriptor_);
  ASSERT_TRUE(apply(*restored, {write(sequencer(5), {put("h-stale", "x")}), "", ""})[0].is_ok());
  ListedChunks failing(chunks, 1);  // the header, then the sender fails
  EXPECT_FALSE(restored->restore(3, failing).is_ok());
  restored = open_range(target.get(), descriptor_);  // the node restarts
  EXPECT_EQ(restored->durable_index(), 0u);
  ListedChunks whole(chunks);
  ASSERT_TRUE(restored->restore(3, whole).is_ok());
  EXPECT_EQ(scan_all(*restored), scan_all(*sm_));  // "h-stale" is gone
  EXPECT_EQ(restored->durable_index(), 3u);
  EXPECT_EQ(restored->last_version(), sm_->last_version());
}

TEST_F(RangeStateMachineTest, RestoreRefusesAnImageOfAnotherRangeAndKeepsItsState) {
  ASSERT_TRUE(apply1(write(sequencer(10), {put("c", "mine")})).is_ok());
  PluginPtr<Engine> other_engine = make_engine(TESSERA_MEMORY_ENGINE, {});
  auto other = open_range(other_engine.get(), range_of(8, "m", "", 1));
  auto image = other->snapshot();
  ASSERT_TRUE(image.is_ok());
  EXPECT_EQ(sm_->restore(image->index, *image->chunks).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(value_of("c"), "mine");
  EXPECT_EQ(sm_->applied_index(), 1u);
}

TEST_F(RangeStateMachineTest, AConflictPluginWithoutTotalOrderRefusesWrites) {
  auto vclock = loader_.make_conflict(TESSERA_VCLOCK_CONFLICT, {"n1", {}}, {});
  ASSERT_TRUE(vclock.is_ok()) << vclock.status().to_string();
  auto sm = RangeStateMachine::open(engine_.get(), vclock.value().get(), kTable, descriptor_, {});
  ASSERT_TRUE(sm.is_ok());
  auto refused = apply(*sm.value(), {write(sequencer(10), {put("c", "v")})}).at(0);
  EXPECT_EQ(refused.status().code(), StatusCode::kNotSupported);
  EXPECT_EQ(sm.value()->applied_index(), 1u);
  EXPECT_FALSE(get(*sm.value(), "c").has_value());
}

TEST_F(RangeStateMachineTest, OpenRefusesBadBounds) {
  auto backwards =
      RangeStateMachine::open(engine_.get(), conflict_.get(), kTable, range_of(9, "m", "b", 1), {});
  EXPECT_EQ(backwards.status().code(), StatusCode::kInvalidArgument);
  auto no_id =
      RangeStateMachine::open(engine_.get(), conflict_.get(), kTable, range_of(0, "", "", 1), {});
  EXPECT_EQ(no_id.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::leader
