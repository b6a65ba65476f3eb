// A LocalStore on the memory engine with the lww conflict plugin, for the store's tests and
// for the tests of what profiles keep in it (tests/dynamo).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>

#include "tessera/node/local_store.h"
#include "tessera/plugin_loader.h"

namespace tessera::node {

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::path dir = std::filesystem::path(TESSERA_MEMORY_ENGINE).parent_path();
    PluginLoader loader({dir});
    auto engine = loader.make_engine(TESSERA_MEMORY_ENGINE, {"n1", {}}, {});
    ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
    engine_ = std::move(engine).value();
    auto conflict = loader.make_conflict(TESSERA_LWW_CONFLICT, {"n1", {}}, {});
    ASSERT_TRUE(conflict.is_ok()) << conflict.status().to_string();
    conflict_ = std::move(conflict).value();
    reopen();
  }

  void reopen() {
    store_.reset();
    auto store = LocalStore::open(engine_.get(), conflict_.get(),
                                  {"n1", limits_, false, [this] { return now_ms_; }});
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(store).value();
  }

  std::optional<Bytes> value_of(std::string_view table, ByteView key) {
    auto got = store_->get(table, key);
    EXPECT_TRUE(got.is_ok()) << got.status().to_string();
    if (!got.is_ok() || got->values.empty()) return std::nullopt;
    EXPECT_EQ(got->values.size(), 1u);
    return got->values[0].value;
  }

  StoreLimits limits_;
  uint64_t now_ms_ = 1'000'000;
  PluginPtr<Engine> engine_;
  PluginPtr<Conflict> conflict_;
  std::unique_ptr<LocalStore> store_;
};

}  // namespace tessera::node
