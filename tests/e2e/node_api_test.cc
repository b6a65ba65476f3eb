// The client API end to end: one real node on the memory engine, driven through tessera::Client.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "e2e_env.h"

namespace tessera::e2e {
namespace {

constexpr size_t kKeyBytesMax = 10 * 1024;
constexpr size_t kValueBytesMax = 1024 * 1024;

std::string numbered(const char* prefix, int i) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%s%05d", prefix, i);
  return buffer;
}

#define ASSERT_OK(expr)                                      \
  do {                                                       \
    const ::tessera::Status assert_ok_status_ = (expr);      \
    ASSERT_TRUE(assert_ok_status_.is_ok()) << assert_ok_status_.to_string(); \
  } while (false)

using NodeApiTest = SingleNodeTest;

TEST_F(NodeApiTest, CreateListDropTables) {
  Result<std::vector<std::string>> tables = client().list_tables();
  ASSERT_TRUE(tables.is_ok()) << tables.status().to_string();
  EXPECT_TRUE(tables->empty());

  ASSERT_OK(client().create_table("users"));
  ASSERT_OK(client().create_table("orders.v2"));
  EXPECT_EQ(client().create_table("users").code(), StatusCode::kTableExists);
  tables = client().list_tables();
  ASSERT_TRUE(tables.is_ok());
  std::vector<std::string> names = *tables;
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"orders.v2", "users"}));

  ASSERT_TRUE(client().put("users", "alice", "1").is_ok());
  ASSERT_OK(client().drop_table("users"));
  EXPECT_EQ(client().drop_table("users").code(), StatusCode::kNoSuchTable);
  tables = client().list_tables();
  ASSERT_TRUE(tables.is_ok());
  EXPECT_EQ(*tables, std::vector<std::string>{"orders.v2"});

  // A table made again under a dropped name starts empty.
  ASSERT_OK(client().create_table("users"));
  Result<GetReply> got = client().get("users", "alice");
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  EXPECT_FALSE(got->found);
}

TEST_F(NodeApiTest, InvalidTableNames) {
  for (const std::string& name :
       {std::string(), std::string("has space"), std::string("slash/"), std::string(129, 'a'),
        std::string("nul\0byte", 8)}) {
    Status status = client().create_table(name);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << "name \"" << name << "\"";
  }
  EXPECT_TRUE(client().create_table(std::string(128, 'a')).is_ok());
  // The NUL case must not have created a table named by the prefix before the NUL.
  Result<std::vector<std::string>> tables = client().list_tables();
  ASSERT_TRUE(tables.is_ok());
  EXPECT_EQ(tables->size(), 1u);
}

TEST_F(NodeApiTest, PutGetDelete) {
  ASSERT_OK(client().create_table("t"));
  Result<Bytes> version = client().put("t", "k", "v1");
  ASSERT_TRUE(version.is_ok()) << version.status().to_string();
  EXPECT_FALSE(version->empty());

  Result<GetReply> got = client().get("t", "k");
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  ASSERT_TRUE(got->found);
  ASSERT_EQ(got->values.size(), 1u);
  EXPECT_EQ(got->values[0].data, "v1");
  EXPECT_EQ(got->values[0].version, *version);

  Result<Bytes> second = client().put("t", "k", "v2");
  ASSERT_TRUE(second.is_ok());
  EXPECT_NE(*second, *version);
  got = client().get("t", "k");
  ASSERT_TRUE(got.is_ok());
  ASSERT_EQ(got->values.size(), 1u);
  EXPECT_EQ(got->values[0].data, "v2");

  ASSERT_OK(client().remove("t", "k"));
  got = client().get("t", "k");
  ASSERT_TRUE(got.is_ok());
  EXPECT_FALSE(got->found);
  EXPECT_TRUE(got->values.empty());
  ASSERT_OK(client().remove("t", "never-written"));  // not an error

  // Bytes, not strings: zero bytes, high bytes, an empty value.
  const std::string binary_key("\0k\xff", 3);
  const std::string binary_value("\0\n\t\xfe", 4);
  ASSERT_TRUE(client().put("t", binary_key, binary_value).is_ok());
  ASSERT_TRUE(client().put("t", "empty", "").is_ok());
  got = client().get("t", binary_key);
  ASSERT_TRUE(got.is_ok());
  ASSERT_TRUE(got->found);
  EXPECT_EQ(got->values[0].data, binary_value);
  got = client().get("t", "empty");
  ASSERT_TRUE(got.is_ok());
  ASSERT_TRUE(got->found);
  EXPECT_EQ(got->values[0].data, "");
}

TEST_F(NodeApiTest, ScanFollowsPageTokensOverThousandsOfKeys) {
  constexpr int kKeys = 3000;
  constexpr int kBatch = 500;
  ASSERT_OK(client().create_table("t"));
  for (int first = 0; first < kKeys; first += kBatch) {
    std::vector<BatchOperation> ops;
    for (int i = first; i < first + kBatch; ++i) {
      ops.push_back({numbered("key-", i), numbered("value-", i)});
    }
    ASSERT_OK(client().write("t", ops));
  }
  // Deleted keys must not show up, and must not break paging.
  for (int i = 0; i < kKeys; i += 7) ASSERT_OK(client().remove("t", numbered("key-", i)));

  std::vector<std::string> seen;
  Bytes token;
  constexpr int kPagesMax = kKeys;  // a page holds at least one key while keys remain
  int pages = 0;
  for (; pages < kPagesMax; ++pages) {
    Result<ScanPage> page = client().scan("t", "", "", 128, token);
    ASSERT_TRUE(page.is_ok()) << page.status().to_string();
    EXPECT_LE(page->items.size(), 128u);
    for (const ScanItem& item : page->items) {
      EXPECT_EQ(item.value, "value-" + item.key.substr(4));
      EXPECT_FALSE(item.version.empty());
      seen.push_back(item.key);
    }
    if (page->next_page_token.empty()) break;
    token = page->next_page_token;
  }
  EXPECT_LT(pages, kPagesMax);
  std::vector<std::string> expected;
  for (int i = 0; i < kKeys; ++i) {
    if (i % 7 != 0) expected.push_back(numbered("key-", i));
  }
  EXPECT_EQ(seen, expected);  // every live key once, in key order

  // A sub-range [start, end) with the node's own page size.
  Result<ScanPage> range = client().scan("t", numbered("key-", 100), numbered("key-", 110), 0);
  ASSERT_TRUE(range.is_ok()) << range.status().to_string();
  std::vector<std::string> range_keys;
  for (const ScanItem& item : range->items) range_keys.push_back(item.key);
  std::vector<std::string> range_expected;
  for (int i = 100; i < 110; ++i) {
    if (i % 7 != 0) range_expected.push_back(numbered("key-", i));
  }
  EXPECT_EQ(range_keys, range_expected);
  EXPECT_TRUE(range->next_page_token.empty());
}

TEST_F(NodeApiTest, BatchAppliesAllOrNothing) {
  ASSERT_OK(client().create_table("t"));
  ASSERT_TRUE(client().put("t", "gone", "x").is_ok());
  ASSERT_OK(client().write("t", {{"a", "1"}, {"b", "2"}, {"gone", std::nullopt}}));
  Result<ScanPage> page = client().scan("t", "", "", 0);
  ASSERT_TRUE(page.is_ok());
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].key, "a");
  EXPECT_EQ(page->items[1].key, "b");

  // One operation over the limit: nothing of the batch is applied.
  Status rejected =
      client().write("t", {{"c", "3"}, {"d", std::string(kValueBytesMax + 1, 'x')}});
  EXPECT_EQ(rejected.code(), StatusCode::kTooLarge) << rejected.to_string();
  Result<GetReply> got = client().get("t", "c");
  ASSERT_TRUE(got.is_ok());
  EXPECT_FALSE(got->found);

  ASSERT_OK(client().write("t", {}));  // an empty batch is a no-op
}

// A reader never sees half of a batch: every batch writes one generation number to all keys.
TEST_F(NodeApiTest, ConcurrentReadersSeeWholeBatches) {
  constexpr int kKeys = 10;
  constexpr int kGenerations = 200;
  constexpr int kReadsMax = 5000;
  ASSERT_OK(client().create_table("t"));
  auto batch_of = [](int generation) {
    std::vector<BatchOperation> ops;
    for (int k = 0; k < kKeys; ++k) ops.push_back({numbered("k", k), std::to_string(generation)});
    return ops;
  };
  ASSERT_OK(client().write("t", batch_of(0)));

  std::atomic<bool> done{false};
  Status writer_status;
  std::thread writer([&] {
    std::unique_ptr<Client> own = connect_client(address());
    for (int g = 1; g <= kGenerations && own != nullptr && writer_status.is_ok(); ++g) {
      writer_status = own->write("t", batch_of(g));
    }
    done = true;
  });
  int reads = 0;
  int torn = 0;
  std::string torn_example;
  for (; reads < kReadsMax && !done; ++reads) {
    Result<ScanPage> page = client().scan("t", "", "", 0);
    ASSERT_TRUE(page.is_ok()) << page.status().to_string();
    ASSERT_EQ(page->items.size(), static_cast<size_t>(kKeys));
    for (const ScanItem& item : page->items) {
      if (item.value != page->items[0].value) {
        ++torn;
        torn_example = item.key + "=" + item.value + " beside " + page->items[0].key + "=" +
                       page->items[0].value;
      }
    }
  }
  writer.join();
  ASSERT_TRUE(writer_status.is_ok()) << writer_status.to_string();
  EXPECT_EQ(torn, 0) << "a scan saw part of a batch, e.g. " << torn_example;
  EXPECT_GT(reads, 0);
}

TEST_F(NodeApiTest, TypedErrors) {
  ASSERT_OK(client().create_table("t"));
  EXPECT_EQ(client().put("nope", "k", "v").status().code(), StatusCode::kNoSuchTable);
  EXPECT_EQ(client().get("nope", "k").status().code(), StatusCode::kNoSuchTable);
  EXPECT_EQ(client().remove("nope", "k").code(), StatusCode::kNoSuchTable);
  EXPECT_EQ(client().scan("nope", "", "", 10).status().code(), StatusCode::kNoSuchTable);
  EXPECT_EQ(client().write("nope", {{"k", "v"}}).code(), StatusCode::kNoSuchTable);

  // Limits by default: keys up to 10 KiB, values up to 1 MiB, both inclusive.
  EXPECT_TRUE(client().put("t", std::string(kKeyBytesMax, 'k'), "v").is_ok());
  Result<Bytes> big_key = client().put("t", std::string(kKeyBytesMax + 1, 'k'), "v");
  EXPECT_EQ(big_key.status().code(), StatusCode::kTooLarge) << big_key.status().to_string();
  EXPECT_EQ(client().get("t", std::string(kKeyBytesMax + 1, 'k')).status().code(),
            StatusCode::kTooLarge);
  EXPECT_TRUE(client().put("t", "big", std::string(kValueBytesMax, 'v')).is_ok());
  Result<Bytes> big_value = client().put("t", "big", std::string(kValueBytesMax + 1, 'v'));
  EXPECT_EQ(big_value.status().code(), StatusCode::kTooLarge) << big_value.status().to_string();
  Result<GetReply> got = client().get("t", "big");
  ASSERT_TRUE(got.is_ok());
  ASSERT_TRUE(got->found);
  EXPECT_EQ(got->values[0].data.size(), kValueBytesMax);

  EXPECT_EQ(client().create_table("no spaces").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client().scan("t", "b", "a", 10).status().code(), StatusCode::kInvalidArgument);
}

// The limits come from the config's [limits] section.
class ConfiguredLimitsTest : public SingleNodeTest {
  std::string config_template() const override {
    return std::string(test::kMemoryNodeConfig) +
           "\n[limits]\nkey_bytes_max = 16\nvalue_bytes_max = 100\n";
  }
};

TEST_F(ConfiguredLimitsTest, EnforcesConfiguredLimits) {
  ASSERT_OK(client().create_table("t"));
  EXPECT_TRUE(client().put("t", std::string(16, 'k'), std::string(100, 'v')).is_ok());
  EXPECT_EQ(client().put("t", std::string(17, 'k'), "v").status().code(), StatusCode::kTooLarge);
  EXPECT_EQ(client().put("t", "k", std::string(101, 'v')).status().code(),
            StatusCode::kTooLarge);
}

TEST_F(NodeApiTest, ReportsItsNodeId) {
  Result<std::string> id = client().node_id();
  ASSERT_TRUE(id.is_ok()) << id.status().to_string();
  EXPECT_EQ(*id, cluster_->node_id(0));
}

}  // namespace
}  // namespace tessera::e2e
