// DurableGate: the waiters of one loop turn share one engine sync; a failed sync fails them all;
// with nothing awaiting a sync, wait() answers at once.
#include "tessera/node/durable_gate.h"

#include <gtest/gtest.h>

#include <kj/async-io.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "tessera/plugin_loader.h"

namespace tessera::node {
namespace {

// The memory engine, whose sync_async callbacks wait until the test releases them.
class HeldSyncEngine final : public Engine {
 public:
  explicit HeldSyncEngine(Engine* inner) : inner_(inner) {}
  Result<std::optional<Bytes>> get(const ReadOptions& o, ByteView key) override {
    return inner_->get(o, key);
  }
  Status write(const WriteOptions& o, const WriteBatch& batch) override {
    return inner_->write(o, batch);
  }
  std::unique_ptr<Iterator> new_iterator(const IteratorOptions& o) override {
    return inner_->new_iterator(o);
  }
  std::unique_ptr<Snapshot> snapshot() override { return inner_->snapshot(); }
  Status sync() override { return Status::ok(); }
  void sync_async(SyncCallback done) override { held.push_back(std::move(done)); }
  Result<uint64_t> approximate_size(ByteView s, ByteView e) override {
    return inner_->approximate_size(s, e);
  }
  EngineStats stats() override { return {}; }

  void release(const Status& status) {
    for (SyncCallback& done : std::exchange(held, {})) done(status);
  }
  std::vector<SyncCallback> held;

 private:
  Engine* inner_;
};

class DurableGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::path dir = std::filesystem::path(TESSERA_MEMORY_ENGINE).parent_path();
    PluginLoader loader({dir});
    auto engine = loader.make_engine(TESSERA_MEMORY_ENGINE, {"n1", {}}, {});
    auto conflict = loader.make_conflict(TESSERA_LWW_CONFLICT, {"n1", {}}, {});
    ASSERT_TRUE(engine.is_ok() && conflict.is_ok());
    inner_ = std::move(engine).value();
    conflict_ = std::move(conflict).value();
    engine_ = std::make_unique<HeldSyncEngine>(inner_.get());
    auto store = LocalStore::open(engine_.get(), conflict_.get(),
                                  {"n1", {}, true, [] { return uint64_t{1}; }});
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(store).value();
    ASSERT_TRUE(store_->create_table("t").is_ok());
  }

  // Held by pointer: its destructor may throw, which a test fixture's must not declare.
  std::unique_ptr<kj::AsyncIoContext> io_ =
      std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  WorkerPool pool_{1, 3};
  PluginPtr<Engine> inner_;
  PluginPtr<Conflict> conflict_;
  std::unique_ptr<HeldSyncEngine> engine_;
  std::unique_ptr<LocalStore> store_;
};

TEST_F(DurableGateTest, OneTurnsWaitersShareOneSync) {
  DurableGate gate(store_.get(), &pool_);
  EXPECT_TRUE(gate.wait().wait(io_->waitScope).is_ok()) << "nothing awaited a sync";
  EXPECT_EQ(gate.batches(), 0u);

  ASSERT_TRUE(store_->put("t", "a", "1", {}).is_ok());
  ASSERT_TRUE(store_->put("t", "b", "2", {}).is_ok());
  kj::Promise<Status> first = gate.wait();
  kj::Promise<Status> second = gate.wait();
  io_->waitScope.poll();  // the turn ends: the batch asks the store once
  EXPECT_EQ(engine_->held.size(), 1u);
  EXPECT_FALSE(first.poll(io_->waitScope)) << "answered before the sync";
  engine_->release(Status::ok());
  EXPECT_TRUE(first.wait(io_->waitScope).is_ok());
  EXPECT_TRUE(second.wait(io_->waitScope).is_ok());
  EXPECT_EQ(gate.batches(), 1u);
  EXPECT_EQ(gate.waiters(), 2u);
  EXPECT_TRUE(gate.wait().wait(io_->waitScope).is_ok()) << "covered: no second sync";
  EXPECT_EQ(gate.batches(), 1u);
}

TEST_F(DurableGateTest, AFailedSyncFailsTheTurnsWaitersAndBusyPastTheBound) {
  DurableGate gate(store_.get(), &pool_);
  ASSERT_TRUE(store_->put("t", "a", "1", {}).is_ok());
  std::vector<kj::Promise<Status>> waits;
  for (int i = 0; i < 4; ++i) waits.push_back(gate.wait());
  io_->waitScope.poll();
  engine_->release(Status::io_error("fdatasync: disk gone"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(waits[i].wait(io_->waitScope).code(), StatusCode::kIOError);
  }
  // The pool's bound is 3 requests in flight: the fourth was refused.
  EXPECT_EQ(waits[3].wait(io_->waitScope).code(), StatusCode::kBusy);
  EXPECT_EQ(pool_.in_flight(), 0u);
}

}  // namespace
}  // namespace tessera::node
