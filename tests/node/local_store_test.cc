#include "tessera/node/local_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <utility>

#include "tessera/coding.h"
#include "local_store_fixture.h"
#include "tessera/plugin_loader.h"

namespace tessera::node {
namespace {

TEST_F(LocalStoreTest, TablesAreCreatedListedAndDropped) {
  ASSERT_TRUE(store_->create_table("users").is_ok());
  ASSERT_TRUE(store_->create_table("orders").is_ok());
  EXPECT_EQ(store_->create_table("users").code(), StatusCode::kTableExists);
  EXPECT_EQ(store_->create_table("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->create_table("bad name").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->create_table(std::string(129, 'a')).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->list_tables(), (std::vector<std::string>{"orders", "users"}));
  reopen();
  EXPECT_EQ(store_->list_tables(), (std::vector<std::string>{"orders", "users"}));
  ASSERT_TRUE(store_->drop_table("users").is_ok());
  EXPECT_EQ(store_->drop_table("users").code(), StatusCode::kNoSuchTable);
  EXPECT_EQ(store_->list_tables(), (std::vector<std::string>{"orders"}));
}

TEST_F(LocalStoreTest, DroppedTableLeavesNoDataAndItsNameCanBeReused) {
  ASSERT_TRUE(store_->create_table("t").is_ok());
  for (int i = 0; i < 2500; ++i) {
    ASSERT_TRUE(store_->put("t", "k" + std::to_string(i), "v", {}).is_ok());
  }
  ASSERT_TRUE(store_->drop_table("t").is_ok());
  ASSERT_TRUE(store_->create_table("t").is_ok());
  EXPECT_FALSE(value_of("t", "k1").has_value());
  auto page = store_->scan("t", "", "", 0, "");
  ASSERT_TRUE(page.is_ok());
  EXPECT_TRUE(page->items.empty());
}

TEST_F(LocalStoreTest, TableRecordsChangeWithTheirTableAndOutliveADrop) {
  ASSERT_TRUE(store_->create_table("t", "made").is_ok());
  ASSERT_TRUE(store_->create_table("plain").is_ok());
  ASSERT_TRUE(store_->put_table_record("never-made", "heard of").is_ok());
  EXPECT_EQ(store_->put_table_record("t", "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->put_table_record("bad name", "x").code(), StatusCode::kInvalidArgument);
  // A refused create leaves the record as it was.
  EXPECT_EQ(store_->create_table("t", "again").code(), StatusCode::kTableExists);
  using Records = std::map<std::string, Bytes>;
  EXPECT_EQ(*store_->table_records(), (Records{{"never-made", "heard of"}, {"t", "made"}}));
  ASSERT_TRUE(store_->drop_table("t", "dropped").is_ok());
  reopen();
  EXPECT_EQ(store_->list_tables(), (std::vector<std::string>{"plain"}));
  EXPECT_EQ(*store_->table_records(), (Records{{"never-made", "heard of"}, {"t", "dropped"}}));
  // Records are not data: a table's scan does not see them, nor they its keys.
  ASSERT_TRUE(store_->put("plain", "k", "v", {}).is_ok());
  EXPECT_EQ(store_->table_records()->size(), 2u);
}

TEST_F(LocalStoreTest, PutGetOverwriteAndDelete) {
  ASSERT_TRUE(store_->create_table("t").is_ok());
  EXPECT_FALSE(value_of("t", "a").has_value());
  auto v1 = store_->put("t", "a", "one", {});
  ASSERT_TRUE(v1.is_ok());
  EXPECT_EQ(value_of("t", "a"), "one");
  auto v2 = store_->put("t", "a", "two", {});
  ASSERT_TRUE(v2.is_ok());
  EXPECT_LT(*v1, *v2);
  EXPECT_EQ(value_of("t", "a"), "two");
  ASSERT_TRUE(store_->remove("t", "a", {}).is_ok());
  EXPECT_FALSE(value_of("t", "a").has_value());
  EXPECT_TRUE(store_->remove("t", "never-written", {}).is_ok());
  // The tombstone is kept, so its context is not empty: a later write can supersede it.
  auto got = store_->get("t", "a");
  ASSERT_TRUE(got.is_ok());
  EXPECT_FALSE(got->context.empty());
  ASSERT_TRUE(store_->put("t", "a", "three", got->context).is_ok());
  EXPECT_EQ(value_of("t", "a"), "three");
}

TEST_F(LocalStoreTest, ErrorsAreTypedAndNameTheProblem) {
  ASSERT_TRUE(store_->create_table("t").is_ok());
  EXPECT_EQ(store_->put("nope", "k", "v", {}).status().code(), StatusCode::kNoSuchTable);
  EXPECT_EQ(store_->get("nope", "k").status().code(), StatusCode::kNoSuchTable);
  Status big_key = store_->put("t", Bytes(limits_.key_bytes_max + 1, 'k'), "v", {}).status();
  EXPECT_EQ(big_key.code(), StatusCode::kTooLarge);
  EXPECT_NE(big_key.message().find("key_bytes_max"), std::string::npos);
  Status big_value = store_->put("t", "k", Bytes(limits_.value_bytes_max + 1, 'v'), {}).status();
  EXPECT_EQ(big_value.code(), StatusCode::kTooLarge);
  EXPECT_TRUE(store_->put("t", Bytes(limits_.key_bytes_max, 'k'), "v", {}).is_ok());
  EXPECT_EQ(store_->put("t", "k", "v", "garbage").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(value_of("t", "k").has_value());
}

TEST_F(LocalStoreTest, ScanPagesSkipTombstonesAndStayInTheirTable) {
  ASSERT_TRUE(store_->create_table("a").is_ok());
  ASSERT_TRUE(store_->create_table("b").is_ok());
  for (int i = 0; i < 100; ++i) {
    char key[8];
    std::snprintf(key, sizeof key, "k%03d", i);
    ASSERT_TRUE(store_->put("a", key, "v", {}).is_ok());
    ASSERT_TRUE(store_->put("b", key, "other", {}).is_ok());
    if (i % 3 == 0) {
      ASSERT_TRUE(store_->remove("a", key, {}).is_ok());
    }
  }
  std::vector<Bytes> keys;
  Bytes token;
  int pages = 0;
  do {
    auto page = store_->scan("a", "k010", "k090", 7, token);
    ASSERT_TRUE(page.is_ok()) << page.status().to_string();
    EXPECT_LE(page->items.size(), 7u);
    for (auto& item : page->items) {
      EXPECT_EQ(item.value, "v");
      keys.push_back(item.key);
    }
    token = page->next_page_token;
    ASSERT_LT(++pages, 100);
  } while (!token.empty());
  std::vector<Bytes> expected;
  for (int i = 10; i < 90; ++i) {
    if (i % 3 == 0) continue;
    char key[8];
    std::snprintf(key, sizeof key, "k%03d", i);
    expected.push_back(key);
  }
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(store_->scan("a", "k5", "k1", 0, "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->scan("a", "k1", "k5", 0, "z").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LocalStoreTest, BatchesApplyTogetherAndCheckLimitsFirst) {
  ASSERT_TRUE(store_->create_table("t").is_ok());
  ASSERT_TRUE(store_->put("t", "gone", "x", {}).is_ok());
  std::vector<Mutation> batch = {{"a", "1"}, {"b", "2"}, {"gone", std::nullopt}, {"a", "3"}};
  ASSERT_TRUE(store_->write("t", batch).is_ok());
  EXPECT_EQ(value_of("t", "a"), "3");
  EXPECT_EQ(value_of("t", "b"), "2");
  EXPECT_FALSE(value_of("t", "gone").has_value());
  std::vector<Mutation> too_big = {{"c", "1"}, {"d", Bytes(limits_.value_bytes_max + 1, 'x')}};
  EXPECT_EQ(store_->write("t", too_big).code(), StatusCode::kTooLarge);
  EXPECT_FALSE(value_of("t", "c").has_value());
  EXPECT_TRUE(store_->write("t", {}).is_ok());
}

TEST_F(LocalStoreTest, TombstonesAreCollectedAfterTheGracePeriodOnly) {
  ASSERT_TRUE(store_->create_table("t").is_ok());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(store_->put("t", "k" + std::to_string(i), "v", {}).is_ok());
  }
  for (int i = 0; i < 50; i += 2) {
    ASSERT_TRUE(store_->remove("t", "k" + std::to_string(i), {}).is_ok());
  }
  auto sweep_all = [&](uint64_t grace_ms) {
    size_t collected = 0;
    Bytes cursor;
    for (int pass = 0; pass < 100; ++pass) {
      auto sweep = store_->collect_tombstones(cursor, 7, grace_ms);
      EXPECT_TRUE(sweep.is_ok());
      collected += sweep->collected;
      cursor = sweep->next_cursor;
      if (cursor.empty()) break;
    }
    return collected;
  };
  EXPECT_EQ(sweep_all(1000), 0u);  // too young
  now_ms_ += 1000;
  EXPECT_EQ(sweep_all(1000), 25u);
  EXPECT_EQ(sweep_all(1000), 0u);
  EXPECT_EQ(engine_->stats()["keys"], 2 + 25);  // catalog (table, next id) and live keys
  EXPECT_EQ(value_of("t", "k1"), "v");
  EXPECT_FALSE(value_of("t", "k0").has_value());
}

TEST_F(LocalStoreTest, AContextFarAheadOfTheClockIsRefusedAndLeavesTheClockAlone) {
  ASSERT_TRUE(store_->create_table("t").is_ok());
  auto now_ns = [] {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  };
  auto context_at = [](uint64_t timestamp_ns) {
    Bytes version;
    put_fixed64_be(&version, timestamp_ns);
    put_fixed64_be(&version, 0);  // counter and node tag
    Bytes context;
    put_varint32(&context, 1);
    put_length_prefixed(&context, version);
    return context;
  };
  const uint64_t hour_ns = 3600ull * 1'000'000'000;
  Status refused = store_->put("t", "k", "v", context_at(now_ns() + hour_ns)).status();
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("ahead of this node's clock"), std::string::npos)
      << refused.to_string();
  EXPECT_FALSE(value_of("t", "k").has_value());
  auto version = store_->put("t", "k", "v", {});
  ASSERT_TRUE(version.is_ok());
  ByteView in = *version;
  uint64_t stamped_ns = 0;
  ASSERT_TRUE(get_fixed64_be(&in, &stamped_ns));
  EXPECT_LT(stamped_ns, now_ns() + hour_ns / 60);
}

TEST_F(LocalStoreTest, AnUnreadableRecordDoesNotStopTheTombstoneSweep) {
  ASSERT_TRUE(store_->create_table("t").is_ok());
  // The table's first id is 1; its keys are fixed32_be(1) + key.
  ASSERT_TRUE(engine_->put({}, Bytes("\0\0\0\1a", 5), "\xff not a record").is_ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store_->remove("t", "b" + std::to_string(i), {}).is_ok());
  }
  now_ms_ += 1000;
  size_t collected = 0, unreadable = 0;
  Bytes cursor;
  for (int pass = 0; pass < 100; ++pass) {
    auto sweep = store_->collect_tombstones(cursor, 3, 1000);
    ASSERT_TRUE(sweep.is_ok()) << sweep.status().to_string();
    collected += sweep->collected;
    unreadable += sweep->unreadable;
    cursor = sweep->next_cursor;
    if (cursor.empty()) break;
  }
  EXPECT_EQ(collected, 10u);
  EXPECT_EQ(unreadable, 1u);
  EXPECT_EQ(store_->get("t", "a").status().code(), StatusCode::kCorruption);
}

TEST_F(LocalStoreTest, ConcurrentWritersOfOneKeyKeepTheNewestVersion) {
  ASSERT_TRUE(store_->create_table("t").is_ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        ASSERT_TRUE(store_->put("t", "hot", std::to_string(t), {}).is_ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto got = store_->get("t", "hot");
  ASSERT_TRUE(got.is_ok());
  ASSERT_EQ(got->values.size(), 1u);
}

}  // namespace
}  // namespace tessera::node

namespace tessera::node {
namespace {

// The same store with the vector-clock plugin: concurrent writes become siblings.
class LocalStoreSiblings : public ::testing::Test {
 protected:
  // A store on the memory engine with vclock and `limits`, holding an empty table "t".
  LocalStore& open_store(StoreLimits limits = {}) {
    PluginLoader loader({std::filesystem::path(TESSERA_MEMORY_ENGINE).parent_path()});
    auto engine = loader.make_engine("memory", {"n1", {}}, {});
    auto conflict = loader.make_conflict("vclock", {"n1", {}}, {});
    EXPECT_TRUE(engine.is_ok() && conflict.is_ok());
    engine_ = std::move(engine).value();
    conflict_ = std::move(conflict).value();
    auto store = LocalStore::open(engine_.get(), conflict_.get(),
                                  {"n1", limits, false, [] { return uint64_t{1}; }});
    EXPECT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(store).value();
    EXPECT_TRUE(store_->create_table("t").is_ok());
    return *store_;
  }

  PluginPtr<Engine> engine_;
  PluginPtr<Conflict> conflict_;
  std::unique_ptr<LocalStore> store_;
};

TEST_F(LocalStoreSiblings, BlindWritesBecomeSiblingsAndAContextWriteResolvesThem) {
  LocalStore& s = open_store();
  ASSERT_TRUE(s.put("t", "k", "left", {}).is_ok());
  ASSERT_TRUE(s.put("t", "k", "right", {}).is_ok());
  auto got = s.get("t", "k");
  ASSERT_TRUE(got.is_ok());
  ASSERT_EQ(got->values.size(), 2u);
  ASSERT_TRUE(s.put("t", "k", "merged", got->context).is_ok());
  got = s.get("t", "k");
  ASSERT_TRUE(got.is_ok());
  ASSERT_EQ(got->values.size(), 1u);
  EXPECT_EQ(got->values[0].value, "merged");
  // A delete with the context removes every sibling it saw.
  ASSERT_TRUE(s.remove("t", "k", got->context).is_ok());
  got = s.get("t", "k");
  ASSERT_TRUE(got.is_ok());
  EXPECT_TRUE(got->values.empty());
}

TEST_F(LocalStoreSiblings, ReplicaMergesKeepWhatNoVersionSupersedesTombstonesToo) {
  LocalStore& s = open_store();
  // Two coordinators' concurrent writes arrive; both are kept.
  auto first = s.new_version({});
  auto second = s.new_version({});
  ASSERT_TRUE(first.is_ok() && second.is_ok());
  ASSERT_TRUE(s.merge_versions("t", "k", {{*first, false, "a"}}).is_ok());
  ASSERT_TRUE(s.merge_versions("t", "k", {{*second, false, "b"}, {*first, false, "a"}}).is_ok());
  auto held = s.read_versions("t", "k");
  ASSERT_TRUE(held.is_ok()) << held.status().to_string();
  EXPECT_EQ(held->size(), 2u) << "a duplicate of a held version is not a new sibling";
  // A delete that saw both supersedes both; its tombstone is what the replica then holds.
  auto got = s.get("t", "k");
  ASSERT_TRUE(got.is_ok());
  auto deleting = s.new_version(got->context);
  ASSERT_TRUE(deleting.is_ok());
  ASSERT_TRUE(s.merge_versions("t", "k", {s.new_tombstone(*deleting)}).is_ok());
  held = s.read_versions("t", "k");
  ASSERT_TRUE(held.is_ok());
  ASSERT_EQ(held->size(), 1u);
  EXPECT_TRUE(held->at(0).tombstone);
  got = s.get("t", "k");
  ASSERT_TRUE(got.is_ok());
  EXPECT_TRUE(got->values.empty());
  // A stale write arriving late (a slow replica's repair) changes nothing.
  ASSERT_TRUE(s.merge_versions("t", "k", {{*first, false, "a"}}).is_ok());
  EXPECT_EQ(s.read_versions("t", "k")->size(), 1u);
  // Bad input is refused by type and names the problem; nothing is stored.
  EXPECT_EQ(s.merge_versions("t", "k", {{"not a version", false, "x"}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(s.merge_versions("none", "k", {{*first, false, "a"}}).code(),
            StatusCode::kNoSuchTable);
  std::vector<VersionedValue> too_many(LocalStore::kVersionsMerged + 1, {*first, false, "a"});
  EXPECT_EQ(s.merge_versions("t", "k", too_many).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.read_versions("t", "absent")->size(), 0u);
}

TEST_F(LocalStoreSiblings, BlindWritesStopAtTheVersionsLimitAndAContextWriteStillResolves) {
  StoreLimits limits;
  limits.versions_bytes_max = 10 * 1024;
  LocalStore& s = open_store(limits);
  int stored = 0;
  Status refused;
  for (int i = 0; i < 20 && refused.is_ok(); ++i) {
    refused = s.put("t", "k", Bytes(1024, 'v'), {}).status();
    if (refused.is_ok()) ++stored;
  }
  EXPECT_EQ(refused.code(), StatusCode::kTooLarge);
  EXPECT_NE(refused.message().find("context"), std::string::npos) << refused.to_string();
  EXPECT_GE(stored, 8);
  EXPECT_LT(stored, 10);
  auto got = s.get("t", "k");
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(got->values.size(), static_cast<size_t>(stored));
  ASSERT_TRUE(s.put("t", "k", "merged", got->context).is_ok());
  got = s.get("t", "k");
  ASSERT_TRUE(got.is_ok());
  ASSERT_EQ(got->values.size(), 1u);
  EXPECT_EQ(got->values[0].value, "merged");
}

}  // namespace
}  // namespace tessera::node

namespace tessera::node {
namespace {

// Forwards to another engine and records, in order, each write (its sync flag and first key)
// and each sync() call: what a crash at any moment could lose.
class RecordingEngine : public Engine {
 public:
  struct Event {
    bool is_sync_call = false;  // sync(); otherwise a write
    bool sync = false;          // the write's WriteOptions::sync
    Bytes first_key;
  };

  explicit RecordingEngine(Engine* inner) : inner_(inner) {}

  Result<std::optional<Bytes>> get(const ReadOptions& options, ByteView key) override {
    return inner_->get(options, key);
  }
  Status write(const WriteOptions& options, const WriteBatch& batch) override {
    Event event{false, options.sync, {}};
    batch.for_each([&](const WriteBatch::Op& op) {
      if (event.first_key.empty()) event.first_key = Bytes(op.key);
    });
    events.push_back(std::move(event));
    return inner_->write(options, batch);
  }
  std::unique_ptr<Iterator> new_iterator(const IteratorOptions& options) override {
    return inner_->new_iterator(options);
  }
  std::unique_ptr<Snapshot> snapshot() override { return inner_->snapshot(); }
  Status sync() override {
    events.push_back({true, true, {}});
    return inner_->sync();
  }
  void sync_async(SyncCallback done) override {
    events.push_back({true, true, {}});
    inner_->sync_async(std::move(done));
  }
  Result<uint64_t> approximate_size(ByteView start, ByteView end) override {
    return inner_->approximate_size(start, end);
  }
  EngineStats stats() override { return inner_->stats(); }

  std::vector<Event> events;  // single-threaded tests only

 private:
  Engine* inner_;
};

class DurabilityTest : public ::testing::Test {
 protected:
  void open(bool sync_writes) {
    std::filesystem::path dir = std::filesystem::path(TESSERA_MEMORY_ENGINE).parent_path();
    PluginLoader loader({dir});
    auto engine = loader.make_engine("memory", {"n1", {}}, {});
    auto conflict = loader.make_conflict("lww", {"n1", {}}, {});
    ASSERT_TRUE(engine.is_ok() && conflict.is_ok());
    inner_ = std::move(engine).value();
    conflict_ = std::move(conflict).value();
    engine_ = std::make_unique<RecordingEngine>(inner_.get());
    auto store = LocalStore::open(engine_.get(), conflict_.get(),
                                  {"n1", {}, sync_writes, [] { return uint64_t{1}; }});
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(store).value();
  }

  std::vector<RecordingEngine::Event> take_events() { return std::exchange(engine_->events, {}); }

  // when_durable(): whether it called back (the memory engine's sync_async answers at once).
  bool durable_now() {
    bool durable = false;
    store_->when_durable([&](Status status) { durable = status.is_ok(); });
    return durable;
  }

  PluginPtr<Engine> inner_;
  PluginPtr<Conflict> conflict_;
  std::unique_ptr<RecordingEngine> engine_;
  std::unique_ptr<LocalStore> store_;
};

TEST_F(DurabilityTest, WithSyncWritesWhenDurableSyncsWhatWasWrittenOnce) {
  open(true);
  ASSERT_TRUE(store_->create_table("t").is_ok());
  std::vector<RecordingEngine::Event> events = take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].sync);  // a table change is synced before it returns
  EXPECT_TRUE(durable_now());
  EXPECT_TRUE(take_events().empty()) << "nothing was waiting for a sync";

  // Writes return applied, not synced; one sync_async then covers all of them.
  ASSERT_TRUE(store_->put("t", "a", "1", {}).is_ok());
  ASSERT_TRUE(store_->remove("t", "a", {}).is_ok());
  ASSERT_TRUE(store_->write("t", std::vector<Mutation>{{"b", "2"}, {"c", std::nullopt}}).is_ok());
  EXPECT_TRUE(durable_now());
  events = take_events();
  ASSERT_EQ(events.size(), 4u);
  for (size_t i = 0; i < 3; ++i) EXPECT_FALSE(events[i].sync || events[i].is_sync_call);
  EXPECT_TRUE(events[3].is_sync_call);

  // Once covered, a reader's when_durable answers without a sync.
  ASSERT_TRUE(store_->get("t", "b").is_ok());
  EXPECT_TRUE(durable_now());
  EXPECT_TRUE(take_events().empty());
}

TEST_F(DurabilityTest, WithoutSyncWritesTheCatalogIsStillSynced) {
  open(false);
  ASSERT_TRUE(store_->create_table("t").is_ok());
  std::vector<RecordingEngine::Event> events = take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].sync);
  ASSERT_TRUE(store_->put("t", "a", "1", {}).is_ok());
  EXPECT_TRUE(durable_now());
  events = take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_FALSE(events[0].sync || events[0].is_sync_call);
}

TEST_F(DurabilityTest, ADropForgetsItsMarkerOnlyOnceTheDeletedDataIsDurable) {
  open(false);
  ASSERT_TRUE(store_->create_table("t").is_ok());
  for (int i = 0; i < 2500; ++i) {
    ASSERT_TRUE(store_->put("t", "k" + std::to_string(i), "v", {}).is_ok());
  }
  take_events();
  ASSERT_TRUE(store_->drop_table("t").is_ok());
  std::vector<RecordingEngine::Event> events = take_events();
  // The marker ('d' + id in the catalog, table id 0) goes last, in a synced write.
  ASSERT_FALSE(events.empty());
  const Bytes marker_prefix("\0\0\0\0d", 5);
  ASSERT_EQ(events.back().first_key.substr(0, 5), marker_prefix);
  EXPECT_TRUE(events.back().sync);
  // Had a crash lost a deletion after the marker was gone, nothing would ever delete that data.
  size_t covered_until = 0;  // events before this index are durable
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    if (events[i].is_sync_call || events[i].sync) covered_until = i + 1;
  }
  EXPECT_EQ(covered_until, events.size() - 1)
      << "a deletion of the dropped table's data was not durable before its marker was removed";
}

}  // namespace
}  // namespace tessera::node
