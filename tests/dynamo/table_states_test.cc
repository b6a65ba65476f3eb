// TableStates: tables as cluster state, converged by exchanging states between nodes' stores.
#include "tessera/dynamo/table_states.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tessera/plugin_loader.h"

namespace tessera::dynamo {
namespace {

// One node's store and states, on its own memory engine; `now_ms` is its clock.
struct TestNode {
  NodeId id;
  uint64_t now_ms = 1'000;
  PluginPtr<Engine> engine;
  PluginPtr<Conflict> conflict;
  std::unique_ptr<node::LocalStore> store;
  std::unique_ptr<TableStates> states;

  void reopen() {
    states.reset();
    store.reset();
    auto opened = node::LocalStore::open(engine.get(), conflict.get(),
                                         {id, {}, false, [this] { return now_ms; }});
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    store = std::move(opened).value();
    auto made = TableStates::open(store.get(), id, [this] { return now_ms; });
    ASSERT_TRUE(made.is_ok()) << made.status().to_string();
    states = std::move(made).value();
  }

  bool has(const std::string& table) const { return store->has_table(table); }
  bool holds(const std::string& table, const std::string& key) const {
    auto got = store->get(table, key);
    return got.is_ok() && !got->values.empty();
  }
};

class TableStatesTest : public ::testing::Test {
 protected:
  std::unique_ptr<TestNode> make_node(NodeId id) {
    std::filesystem::path dir = std::filesystem::path(TESSERA_MEMORY_ENGINE).parent_path();
    PluginLoader loader({dir});
    auto node = std::make_unique<TestNode>();
    node->id = id;
    auto engine = loader.make_engine(TESSERA_MEMORY_ENGINE, {id, {}}, {});
    auto conflict = loader.make_conflict(TESSERA_LWW_CONFLICT, {id, {}}, {});
    EXPECT_TRUE(engine.is_ok() && conflict.is_ok());
    node->engine = std::move(engine).value();
    node->conflict = std::move(conflict).value();
    node->reopen();
    return node;
  }

  // What Replica.exchangeTables does between `from` and `to`: `to` takes `from`'s states and
  // `from` takes what `to` answers.
  static void exchange(TestNode& from, TestNode& to) {
    ASSERT_TRUE(to.states->merge(from.states->states()).is_ok());
    ASSERT_TRUE(from.states->merge(to.states->states()).is_ok());
  }
};

TEST_F(TableStatesTest, ChangesAreStampedAfterEverythingKnownAndSurviveARestart) {
  auto a = make_node("a");
  ASSERT_TRUE(a->states->create("t").is_ok());
  EXPECT_EQ(a->states->create("t").code(), StatusCode::kTableExists);
  EXPECT_EQ(a->states->drop("missing").code(), StatusCode::kNoSuchTable);
  EXPECT_EQ(a->states->create("bad name").code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(a->states->state_of("bad name").has_value());
  const TableState made = *a->states->state_of("t");
  EXPECT_TRUE(made.live);
  EXPECT_EQ(made.stamp, (TableStamp{1'000, "a"}));
  a->now_ms = 500;  // the clock went back: the drop is still stamped after the create
  ASSERT_TRUE(a->states->drop("t").is_ok());
  EXPECT_EQ(a->states->state_of("t")->stamp, (TableStamp{1'001, "a"}));
  ASSERT_TRUE(a->states->create("t").is_ok());
  const TableState again = *a->states->state_of("t");
  EXPECT_EQ(again.stamp, (TableStamp{1'002, "a"}));
  EXPECT_EQ(again.after_drop, (TableStamp{1'001, "a"}));
  a->reopen();
  EXPECT_EQ(*a->states->state_of("t"), again);
  EXPECT_TRUE(a->has("t"));
}

TEST_F(TableStatesTest, AnExchangeCarriesCreatesAndDropsBothWays) {
  auto a = make_node("a");
  auto b = make_node("b");
  ASSERT_TRUE(a->states->create("t").is_ok());
  exchange(*b, *a);  // b asks a
  EXPECT_TRUE(b->has("t"));
  ASSERT_TRUE(b->store->put("t", "k", "v", {}).is_ok());
  b->now_ms = 2'000;
  ASSERT_TRUE(b->states->drop("t").is_ok());
  ASSERT_TRUE(a->store->put("t", "k", "v", {}).is_ok());
  exchange(*b, *a);  // b tells a
  EXPECT_FALSE(a->has("t"));
  EXPECT_EQ(a->states->states(), b->states->states());
  auto taken = a->states->merge(b->states->states());
  ASSERT_TRUE(taken.is_ok());
  EXPECT_EQ(*taken, 0u) << "states already known are not taken again";
}

TEST_F(TableStatesTest, ACopyFromBeforeADropIsMadeAnewNotKept) {
  auto a = make_node("a");
  auto c = make_node("c");
  ASSERT_TRUE(a->states->create("t").is_ok());
  exchange(*c, *a);
  ASSERT_TRUE(c->store->put("t", "old", "v", {}).is_ok());
  // c is away while the table is dropped and made again.
  a->now_ms = 2'000;
  ASSERT_TRUE(a->states->drop("t").is_ok());
  a->now_ms = 3'000;
  ASSERT_TRUE(a->states->create("t").is_ok());
  ASSERT_TRUE(a->store->put("t", "new", "v", {}).is_ok());
  exchange(*c, *a);
  EXPECT_TRUE(c->has("t"));
  EXPECT_FALSE(c->holds("t", "old")) << "the dropped table's data came back";
  EXPECT_EQ(c->states->state_of("t"), a->states->state_of("t"));
}

TEST_F(TableStatesTest, CreatesThatDidNotKnowOfEachOtherMakeOneTableAndKeepBothCopies) {
  auto a = make_node("a");
  auto b = make_node("b");
  ASSERT_TRUE(a->states->create("t").is_ok());
  b->now_ms = 1'500;
  ASSERT_TRUE(b->states->create("t").is_ok());
  ASSERT_TRUE(a->store->put("t", "from-a", "v", {}).is_ok());
  ASSERT_TRUE(b->store->put("t", "from-b", "v", {}).is_ok());
  exchange(*a, *b);
  EXPECT_EQ(a->states->state_of("t")->stamp, (TableStamp{1'500, "b"}));
  EXPECT_EQ(a->states->states(), b->states->states());
  EXPECT_TRUE(a->holds("t", "from-a"));
  EXPECT_TRUE(b->holds("t", "from-b"));
}

TEST_F(TableStatesTest, ACreateStampedBeforeADropItNeverHeardOfLosesToIt) {
  auto a = make_node("a");
  auto b = make_node("b");
  ASSERT_TRUE(a->states->create("t").is_ok());
  exchange(*b, *a);
  a->now_ms = 9'000;
  ASSERT_TRUE(a->states->drop("t").is_ok());
  // b's clock is behind, and b has not heard of the drop: its own drop and create are older.
  b->now_ms = 2'000;
  ASSERT_TRUE(b->states->drop("t").is_ok());
  ASSERT_TRUE(b->states->create("t").is_ok());
  exchange(*b, *a);
  EXPECT_FALSE(b->has("t"));
  EXPECT_FALSE(a->has("t"));
  EXPECT_EQ(a->states->states(), b->states->states());
}

TEST_F(TableStatesTest, TablesWithoutARecordAreAdoptedAtStampZero) {
  auto a = make_node("a");
  ASSERT_TRUE(a->store->create_table("old").is_ok());  // as a node before states existed
  a->reopen();
  EXPECT_EQ(a->states->state_of("old"), (TableState{"old", true, {0, "a"}, {}}));
  auto b = make_node("b");
  ASSERT_TRUE(b->store->create_table("old").is_ok());
  ASSERT_TRUE(b->store->put("old", "k", "v", {}).is_ok());
  b->reopen();
  exchange(*a, *b);
  EXPECT_TRUE(b->holds("old", "k")) << "two adopted copies are one table";
}

TEST_F(TableStatesTest, AnUnreadableRecordIsCorruptionNamingTheTable) {
  auto a = make_node("a");
  ASSERT_TRUE(a->store->put_table_record("t", "garbage").is_ok());
  a->states.reset();
  auto made = TableStates::open(a->store.get(), "a", [] { return uint64_t{0}; });
  ASSERT_EQ(made.status().code(), StatusCode::kCorruption);
  EXPECT_NE(made.status().message().find("\"t\""), std::string::npos)
      << made.status().to_string();
}

TEST_F(TableStatesTest, StatesRoundTripThroughTheirBytes) {
  TableState state{"t", true, {12345, "node-1"}, {99, "n2"}};
  auto back = decode_table_state("t", encode_table_state(state));
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, state);
  Bytes cut = encode_table_state(state);
  cut.pop_back();
  EXPECT_EQ(decode_table_state("t", cut).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace tessera::dynamo
