// Adversarial end-to-end tests: a real tessera-node process gets what a careless or hostile
// client can send (limit-sized and oversized keys, values and batches, bogus page tokens and
// causal contexts, drops racing writes, many clients, disconnects mid-request, 1 ms deadlines,
// garbage on the socket), and afterwards must still run, answer, and hold the data it held.
//
// Every loop is bounded in count and in time; every socket is on 127.0.0.1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include <capnp/any.h>
#include <capnp/ez-rpc.h>
#include <kj/async-io.h>

#include "e2e_env.h"
#include "tessera/coding.h"
#include "tessera/rpc/tessera.capnp.h"

namespace tessera::e2e {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kKeyBytesMax = 10 * 1024;
constexpr size_t kValueBytesMax = 1024 * 1024;
constexpr size_t kBatchOpsMax = 10'000;
constexpr size_t kBatchBytesMax = 16 * 1024 * 1024;
constexpr int kCanaryKeys = 200;
const char* const kCanaryTable = "canary";

std::string numbered(const char* prefix, int i) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%s%05d", prefix, i);
  return buffer;
}

std::string canary_value(int i) { return "canary-value-" + std::to_string(i * 7919); }

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The codes a request may get when the node sheds load or the deadline passes: not failures of
// the node, but never a crash, a hang or a wrong answer.
bool is_load_shedding(StatusCode code) {
  return code == StatusCode::kBusy || code == StatusCode::kTimeout;
}

// A plain TCP connection to `address` ("127.0.0.1:<port>"); -1 when it cannot be made.
int connect_raw(const std::string& address) {
  size_t colon = address.rfind(':');
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// A causal context (stored_value.h: varint32 count, then length-prefixed versions).
Bytes context_of(const std::vector<Bytes>& versions) {
  Bytes out;
  put_varint32(&out, static_cast<uint32_t>(versions.size()));
  for (const Bytes& version : versions) put_length_prefixed(&out, version);
  return out;
}

// A last-write-wins sequencer (plugins/conflict/lww/src/sequencer.h).
Bytes sequencer(uint64_t timestamp_ns, uint32_t counter, uint32_t node_tag) {
  Bytes out;
  put_fixed64_be(&out, timestamp_ns);
  put_fixed32_be(&out, counter);
  put_fixed32_be(&out, node_tag);
  return out;
}

uint64_t sequencer_timestamp_ns(ByteView version) {
  uint64_t timestamp = 0;
  EXPECT_TRUE(get_fixed64_be(&version, &timestamp)) << "version of " << version.size() << " bytes";
  return timestamp;
}

uint64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One node on the memory engine with last-write-wins. SetUp stores a canary table; every test
// ends by checking that the node still runs, answers a fresh client, and holds the canaries.
class AdversarialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<test::TestCluster>(cluster_options(config_template()));
    before_start();
    Status started = cluster_->start(1);
    after_start();
    ASSERT_TRUE(started.is_ok()) << started.to_string();
    client_ = connect_client(address());
    ASSERT_NE(client_, nullptr);
    ASSERT_TRUE(client_->create_table(kCanaryTable).is_ok());
    std::vector<Mutation> batch;
    for (int i = 0; i < kCanaryKeys; ++i) {
      batch.push_back({numbered("c", i), canary_value(i)});
    }
    Status wrote = client_->write(kCanaryTable, batch);
    ASSERT_TRUE(wrote.is_ok()) << wrote.to_string();
  }

  void TearDown() override {
    if (!HasFatalFailure()) expect_node_healthy();
  }

  virtual std::string config_template() const { return test::kMemoryNodeConfig; }
  virtual void before_start() {}
  virtual void after_start() {}

  // The node runs, a fresh client connects and reads every canary back, and a scan of the
  // canary table sees exactly them.
  void expect_node_healthy() {
    ASSERT_TRUE(cluster_->running(0)) << "the node died: " << cluster_->describe_logs();
    std::unique_ptr<Client> fresh;
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    for (int attempt = 0; attempt < 100 && fresh == nullptr && Clock::now() < deadline;
         ++attempt) {
      Result<std::unique_ptr<Client>> connected = Client::connect(address(), 2000);
      if (connected.is_ok()) {
        fresh = std::move(connected).value();
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    ASSERT_NE(fresh, nullptr) << "the node stopped answering: " << cluster_->describe_logs();
    for (int i = 0; i < kCanaryKeys; i += 13) {
      Result<GetReply> got = fresh->get(kCanaryTable, numbered("c", i));
      ASSERT_TRUE(got.is_ok()) << got.status().to_string();
      ASSERT_TRUE(got->found) << numbered("c", i);
      ASSERT_EQ(got->values.size(), 1u);
      EXPECT_EQ(got->values[0].data, canary_value(i));
    }
    std::map<Bytes, Bytes> seen;
    Bytes token;
    for (int page = 0; page < 100; ++page) {
      Result<ScanPage> scanned = fresh->scan(kCanaryTable, "", "", 37, token);
      ASSERT_TRUE(scanned.is_ok()) << scanned.status().to_string();
      for (const ScanItem& item : scanned->items) seen[item.key] = item.value;
      token = scanned->next_page_token;
      if (token.empty()) break;
    }
    ASSERT_TRUE(token.empty()) << "the canary scan did not end";
    ASSERT_EQ(seen.size(), static_cast<size_t>(kCanaryKeys));
    for (int i = 0; i < kCanaryKeys; ++i) EXPECT_EQ(seen[numbered("c", i)], canary_value(i));
  }

  // Runs `body(thread_index, client)` on `threads` threads, each with its own client, and
  // joins them. The body is called once; it bounds its own loop.
  void on_threads(int threads, const std::function<void(int, Client&)>& body) {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        Result<std::unique_ptr<Client>> connected = Client::connect(address());
        if (!connected.is_ok()) {
          ADD_FAILURE() << connected.status().to_string();
          return;
        }
        body(t, **connected);
      });
    }
    for (std::thread& worker : workers) worker.join();
  }

  Client& client() { return *client_; }
  const std::string& address() const { return cluster_->address(0); }

  std::unique_ptr<test::TestCluster> cluster_;
  std::unique_ptr<Client> client_;  // declared after cluster_: closed before the node stops
};

TEST_F(AdversarialTest, EmptyLimitSizedAndOversizedKeysAndValues) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  // Empty keys and values are ordinary data.
  ASSERT_TRUE(client().put("t", "", "").is_ok());
  Result<GetReply> got = client().get("t", "");
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  EXPECT_TRUE(got->found);
  EXPECT_EQ(got->values.at(0).data, "");

  const Bytes key_max(kKeyBytesMax, 'k');
  const Bytes value_max(kValueBytesMax, 'v');
  ASSERT_TRUE(client().put("t", key_max, value_max).is_ok());
  got = client().get("t", key_max);
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  ASSERT_TRUE(got->found);
  EXPECT_EQ(got->values.at(0).data, value_max);

  const Bytes key_over(kKeyBytesMax + 1, 'k');
  for (Status status : {client().put("t", key_over, "v").status(),
                        client().get("t", key_over).status(), client().remove("t", key_over),
                        client().write("t", {{key_over, std::nullopt}})}) {
    EXPECT_EQ(status.code(), StatusCode::kTooLarge) << status.to_string();
    EXPECT_TRUE(contains(status.message(), "key_bytes_max")) << status.to_string();
    EXPECT_TRUE(contains(status.message(), std::to_string(kKeyBytesMax + 1)));
  }
  const Bytes value_over(kValueBytesMax + 1, 'v');
  for (Status status : {client().put("t", "k", value_over).status(),
                        client().write("t", {{"k", value_over}})}) {
    EXPECT_EQ(status.code(), StatusCode::kTooLarge) << status.to_string();
    EXPECT_TRUE(contains(status.message(), "value_bytes_max")) << status.to_string();
  }
  // A key far over the limit, and a value far over it (still inside one RPC message).
  Status huge_key = client().put("t", Bytes(8 << 20, 'k'), "v").status();
  EXPECT_EQ(huge_key.code(), StatusCode::kTooLarge) << huge_key.to_string();
  Status huge_value = client().put("t", "k", Bytes(32 << 20, 'v')).status();
  EXPECT_EQ(huge_value.code(), StatusCode::kTooLarge) << huge_value.to_string();
  got = client().get("t", "k");
  ASSERT_TRUE(got.is_ok());
  EXPECT_FALSE(got->found) << "a refused write left data behind";
}

TEST_F(AdversarialTest, OversizedBatchesAreRefusedWholeAndNameTheirLimit) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  std::vector<Mutation> too_many;
  for (size_t i = 0; i <= kBatchOpsMax; ++i) too_many.push_back({numbered("k", int(i)), "v"});
  Status many = client().write("t", too_many);
  EXPECT_EQ(many.code(), StatusCode::kTooLarge) << many.to_string();
  EXPECT_TRUE(contains(many.message(), "batch_ops_max")) << many.to_string();

  // Seventeen values of 1 MiB: each within value_bytes_max, together over batch_bytes_max.
  std::vector<Mutation> too_heavy;
  for (size_t bytes = 0; bytes <= kBatchBytesMax; bytes += kValueBytesMax) {
    too_heavy.push_back({numbered("h", int(too_heavy.size())), Bytes(kValueBytesMax, 'x')});
  }
  Status heavy = client().write("t", too_heavy);
  EXPECT_EQ(heavy.code(), StatusCode::kTooLarge) << heavy.to_string();
  EXPECT_TRUE(contains(heavy.message(), "batch_bytes_max")) << heavy.to_string();

  // One bad operation at the end refuses the whole batch.
  std::vector<Mutation> last_bad = {{"a", "1"}, {"b", "2"}, {Bytes(kKeyBytesMax + 1, 'k'), "3"}};
  EXPECT_EQ(client().write("t", last_bad).code(), StatusCode::kTooLarge);
  Result<ScanPage> page = client().scan("t", "", "", 0);
  ASSERT_TRUE(page.is_ok()) << page.status().to_string();
  EXPECT_TRUE(page->items.empty()) << "a refused batch left " << page->items.size() << " keys";

  // The limit itself is fine, with every key written twice (the later one wins).
  std::vector<Mutation> at_limit;
  for (size_t i = 0; i < kBatchOpsMax; ++i) {
    at_limit.push_back({numbered("k", int(i % (kBatchOpsMax / 2))), std::to_string(i)});
  }
  ASSERT_TRUE(client().write("t", at_limit).is_ok());
  Result<GetReply> got = client().get("t", numbered("k", 0));
  ASSERT_TRUE(got.is_ok() && got->found);
  EXPECT_EQ(got->values.at(0).data, std::to_string(kBatchOpsMax / 2));
}

TEST_F(AdversarialTest, BogusPageTokensAndRangesAreInvalidArguments) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(client().put("t", numbered("k", i), "v").is_ok());
  struct Case {
    Bytes start, end, token;
  };
  for (const Case& c : {Case{"k00010", "k00020", "a"}, Case{"k00010", "k00020", "k00020"},
                        Case{"k00010", "k00020", Bytes(3, '\xff')}, Case{"z", "a", ""}}) {
    Result<ScanPage> page = client().scan("t", c.start, c.end, 0, c.token);
    EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument) << page.status().to_string();
    EXPECT_FALSE(page.status().message().empty());
  }
  // A token inside the range that no page returned is just a place to resume from.
  Result<ScanPage> page = client().scan("t", "k00010", "k00020", 0, Bytes("k00015\0\xff", 8));
  ASSERT_TRUE(page.is_ok()) << page.status().to_string();
  EXPECT_EQ(page->items.size(), 4u);
  // Limits of zero and of 2^32 - 1 are both capped to the node's page size.
  for (uint32_t limit : {0u, UINT32_MAX}) {
    page = client().scan("t", "", "", limit);
    ASSERT_TRUE(page.is_ok()) << page.status().to_string();
    EXPECT_EQ(page->items.size(), 50u);
  }
  // A scan of a table that does not exist names it.
  page = client().scan("nope", "", "", 0);
  EXPECT_EQ(page.status().code(), StatusCode::kNoSuchTable);
  EXPECT_TRUE(contains(page.status().message(), "nope"));
}

TEST_F(AdversarialTest, MalformedCausalContextsAreInvalidArguments) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  ASSERT_TRUE(client().put("t", "k", "before").is_ok());
  Bytes count_without_versions;
  put_varint32(&count_without_versions, UINT32_MAX);
  for (const Bytes& context :
       {Bytes("garbage"), count_without_versions, Bytes("\xff\xff\xff\xff\xff\xff", 6),
        context_of({"short"}), context_of({Bytes(16, 'x')}) + "trailing"}) {
    RequestOptions options;
    options.context = context;
    Status put = client().put("t", "k", "after", options).status();
    EXPECT_EQ(put.code(), StatusCode::kInvalidArgument) << put.to_string();
    Status removed = client().remove("t", "k", options);
    EXPECT_EQ(removed.code(), StatusCode::kInvalidArgument) << removed.to_string();
  }
  Result<GetReply> got = client().get("t", "k");
  ASSERT_TRUE(got.is_ok() && got->found);
  EXPECT_EQ(got->values.at(0).data, "before");
}

TEST_F(AdversarialTest, ContextsFromTheFarFutureDoNotDragTheNodeClock) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  ASSERT_TRUE(client().put("t", "k", "before").is_ok());
  const uint64_t year_ns = 365ull * 24 * 3600 * 1'000'000'000;
  for (const Bytes& version :
       {sequencer(wall_clock_ns() + year_ns, 0, 0), sequencer(UINT64_MAX, UINT32_MAX, 0)}) {
    RequestOptions options;
    options.context = context_of({version});
    Status put = client().put("t", "k", "after", options).status();
    EXPECT_EQ(put.code(), StatusCode::kInvalidArgument) << put.to_string();
    EXPECT_TRUE(contains(put.message(), "ahead")) << put.to_string();
    Status removed = client().remove("t", "k", options);
    EXPECT_EQ(removed.code(), StatusCode::kInvalidArgument) << removed.to_string();
  }
  Result<GetReply> got = client().get("t", "k");
  ASSERT_TRUE(got.is_ok() && got->found);
  EXPECT_EQ(got->values.at(0).data, "before");
  // The node's clock stayed where it was: the next write, to any key, is stamped about now.
  Result<Bytes> version = client().put("t", "other", "v");
  ASSERT_TRUE(version.is_ok()) << version.status().to_string();
  EXPECT_LT(sequencer_timestamp_ns(*version), wall_clock_ns() + 60'000'000'000ull);
  // A context a little ahead (another node's clock, or this node's before a small step back)
  // still works, and the write supersedes it.
  RequestOptions near;
  near.context = context_of({sequencer(wall_clock_ns() + 5'000'000'000ull, 0, 0)});
  ASSERT_TRUE(client().put("t", "k", "after", near).is_ok());
  got = client().get("t", "k");
  ASSERT_TRUE(got.is_ok() && got->found);
  EXPECT_EQ(got->values.at(0).data, "after");
}

TEST_F(AdversarialTest, ABatchOperationOfAnUnknownKindIsRefusedNotTakenForADelete) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  ASSERT_TRUE(client().put("t", "k", "keep").is_ok());
  // What a client built against a later schema, with a third kind of operation, would send.
  capnp::EzRpcClient connection(address());
  auto request = connection.getMain<rpc::Tessera>().writeRequest();
  request.setTable("t");
  auto ops = request.initOps(2);
  const Bytes key = "k";
  ops[0].setKey(kj::arrayPtr(reinterpret_cast<const kj::byte*>(key.data()), key.size()));
  ops[0].setRemove();
  capnp::AnyStruct::Builder(ops[0]).getDataSection()[0] = 7;  // the union's discriminant
  ops[1].setKey(kj::arrayPtr(reinterpret_cast<const kj::byte*>("n"), 1));
  ops[1].setPut(kj::arrayPtr(reinterpret_cast<const kj::byte*>("v"), 1));
  auto response = request.send().wait(connection.getWaitScope());
  EXPECT_EQ(response.getError().getCode(), rpc::ErrorCode::INVALID_ARGUMENT);
  const std::string message = response.getError().getMessage().cStr();
  EXPECT_TRUE(contains(message, "operation 0")) << message;
  Result<GetReply> got = client().get("t", "k");
  ASSERT_TRUE(got.is_ok() && got->found) << "the unknown operation deleted the key";
  EXPECT_EQ(got->values.at(0).data, "keep");
  got = client().get("t", "n");
  ASSERT_TRUE(got.is_ok());
  EXPECT_FALSE(got->found) << "a refused batch applied in part";
}

TEST_F(AdversarialTest, AHugeListOfEmptyOperationsIsRefusedBeforeItIsCopied) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  // 8 million operations of zero words each: a message of a few bytes that would make the node
  // allocate hundreds of megabytes if it copied the operations before counting them.
  constexpr uint32_t kOps = 8'000'000;
  capnp::EzRpcClient connection(address());
  auto request = connection.getMain<rpc::Tessera>().writeRequest();
  request.setTable("t");
  constexpr int kOpsPointer = 1;  // write @8 (table @0, ops @1, options @2)
  capnp::toAny(static_cast<rpc::Tessera::WriteParams::Builder&>(request)).getPointerSection()[kOpsPointer].initAsListOfAnyStruct(
      0, 0, kOps);
  auto response = request.send().wait(connection.getWaitScope());
  EXPECT_EQ(response.getError().getCode(), rpc::ErrorCode::TOO_LARGE);
  const std::string message = response.getError().getMessage().cStr();
  EXPECT_TRUE(contains(message, "batch_ops_max")) << message;
  EXPECT_TRUE(client().put("t", "k", "v").is_ok()) << "the node stopped serving";
  Result<size_t> peak = cluster_->peak_rss_bytes(0);
  ASSERT_TRUE(peak.is_ok()) << peak.status().to_string();
  EXPECT_LT(*peak, size_t{200} << 20) << "the node copied the operations before counting them";
}

TEST_F(AdversarialTest, TheLongestDeadlineIsNotCutShortByTheClient) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  std::atomic<bool> connected{false}, paused{false}, done{false};
  Status put;
  std::thread writer([&] {
    std::unique_ptr<Client> patient_client = connect_client(address());
    connected = true;
    for (int i = 0; i < 1000 && !paused; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (patient_client == nullptr) return;
    RequestOptions patient;
    patient.timeout_ms = UINT32_MAX - 1000;  // about 50 days
    put = patient_client->put("t", "k", "v", patient).status();
    done = true;
  });
  for (int i = 0; i < 1000 && !connected; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Status pause = cluster_->pause_node(0);
  paused = true;
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_TRUE(pause.is_ok()) << pause.to_string();
  EXPECT_FALSE(done) << "the client gave up early: " << put.to_string();
  Status resume = cluster_->resume_node(0);
  writer.join();  // the resumed node answers at once
  ASSERT_TRUE(resume.is_ok()) << resume.to_string();
  EXPECT_TRUE(put.is_ok()) << put.to_string();
}

TEST_F(AdversarialTest, DroppingATableWhileWritesAndScansRun) {
  constexpr int kRounds = 8;
  constexpr int kThreads = 4;
  std::atomic<bool> stop{false};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      Result<std::unique_ptr<Client>> connected = Client::connect(address());
      if (!connected.is_ok()) {
        ++unexpected;
        return;
      }
      Client& c = **connected;
      const auto deadline = Clock::now() + std::chrono::seconds(30);
      for (int i = 0; i < 100'000 && !stop && Clock::now() < deadline; ++i) {
        Status status;
        switch (i % 3) {
          case 0: status = c.put("hot", numbered("k", (i * 31 + t) % 3000), "v").status(); break;
          case 1: {
            std::vector<Mutation> batch;
            for (int j = 0; j < 20; ++j) batch.push_back({numbered("b", (i + j) % 3000), "w"});
            status = c.write("hot", batch);
            break;
          }
          default: status = c.scan("hot", "", "", 100).status(); break;
        }
        if (!status.is_ok() && status.code() != StatusCode::kNoSuchTable &&
            !is_load_shedding(status.code())) {
          ADD_FAILURE() << status.to_string();
          ++unexpected;
        }
      }
    });
  }
  for (int round = 0; round < kRounds; ++round) {
    Status created = client().create_table("hot");
    EXPECT_TRUE(created.is_ok()) << created.to_string();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Status dropped = client().drop_table("hot");
    EXPECT_TRUE(dropped.is_ok()) << dropped.to_string();
  }
  stop = true;
  for (std::thread& worker : workers) worker.join();
  EXPECT_EQ(unexpected.load(), 0);
  // A table made again under the dropped name starts empty.
  ASSERT_TRUE(client().create_table("hot").is_ok());
  Result<ScanPage> page = client().scan("hot", "", "", 0);
  ASSERT_TRUE(page.is_ok()) << page.status().to_string();
  EXPECT_TRUE(page->items.empty()) << page->items.size() << " keys survived the drop";
}

TEST_F(AdversarialTest, ManyConcurrentClientsWithOneMillisecondDeadlines) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  std::atomic<int> ok{0}, shed{0}, wrong{0};
  on_threads(16, [&](int t, Client& c) {
    RequestOptions rushed;
    rushed.timeout_ms = 1;
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    for (int i = 0; i < 300 && Clock::now() < deadline; ++i) {
      const RequestOptions options = i % 2 == 0 ? rushed : RequestOptions{};
      const Bytes key = numbered("k", t * 1000 + i % 50);
      Status status = i % 4 < 2 ? c.put("t", key, std::to_string(i), options).status()
                                : c.get("t", key, options).status();
      if (status.is_ok()) {
        ++ok;
      } else if (is_load_shedding(status.code())) {
        ++shed;
      } else {
        ++wrong;
        ADD_FAILURE() << status.to_string();
      }
    }
  });
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(ok.load(), 0);
}

TEST_F(AdversarialTest, ClientsThatVanishMidRequest) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  // Requests in flight on a connection that closes before the answers come.
  for (int round = 0; round < 20; ++round) {
    capnp::EzRpcClient rpc(address());
    auto service = rpc.getMain<rpc::Tessera>();
    std::vector<kj::Promise<void>> pending;
    for (int i = 0; i < 50; ++i) {
      auto put = service.putRequest();
      put.setTable("t");
      const Bytes key = numbered("k", i);
      put.setKey(kj::arrayPtr(reinterpret_cast<const kj::byte*>(key.data()), key.size()));
      put.setValue(kj::heapArray<kj::byte>(64 * 1024).asPtr());
      pending.push_back(put.send().ignoreResult());
      auto scan = service.scanRequest();
      scan.setTable(kCanaryTable);
      pending.push_back(scan.send().ignoreResult());
    }
    // Let the requests reach the node, then drop them and the connection unanswered.
    rpc.getIoProvider().getTimer().afterDelay(2 * kj::MILLISECONDS).wait(rpc.getWaitScope());
  }
  // Half a message, then a hang-up; a frame that claims 2^32 - 1 segments; plain garbage.
  const uint32_t half_frame[2] = {0, 1u << 20};
  const uint32_t many_segments[2] = {0xfffffffe, 0};
  const char garbage[] = "GET / HTTP/1.1\r\nHost: tessera\r\n\r\n";
  for (int round = 0; round < 10; ++round) {
    for (auto [data, size] : {std::pair<const void*, size_t>{half_frame, sizeof(half_frame)},
                              {many_segments, sizeof(many_segments)},
                              {garbage, sizeof(garbage)}}) {
      int fd = connect_raw(address());
      ASSERT_GE(fd, 0);
      send_all(fd, data, size);
      ::close(fd);
    }
  }
  // Every request above was for table t or the canaries; the node still serves both.
  Result<ScanPage> page = client().scan("t", "", "", 0);
  EXPECT_TRUE(page.is_ok()) << page.status().to_string();
}


// A node whose file descriptors run out: more clients connect than it may open sockets for.
// (A node raises its soft limit to the hard one at start, so the limit is lowered after.)
class FewDescriptorsTest : public AdversarialTest {
 protected:
  static constexpr rlim_t kNodeDescriptorsMax = 64;

  void after_start() override {
    Status limited = cluster_->limit_descriptors(0, kNodeDescriptorsMax);
    ASSERT_TRUE(limited.is_ok()) << limited.to_string();
  }
};

TEST_F(FewDescriptorsTest, MoreConnectionsThanDescriptorsDoNotStopTheNode) {
  std::vector<int> sockets;
  for (rlim_t i = 0; i < 2 * kNodeDescriptorsMax; ++i) {
    int fd = connect_raw(address());
    if (fd >= 0) sockets.push_back(fd);
  }
  EXPECT_EQ(sockets.size(), 2 * kNodeDescriptorsMax);
  // Give the node time to accept until it runs out, and to fail accepting the rest.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(cluster_->running(0)) << cluster_->describe_logs();
  EXPECT_TRUE(contains(cluster_->stderr_text(0), "cannot accept a client"))
      << "the node never ran out: " << cluster_->describe_logs();
  for (int fd : sockets) ::close(fd);
}


// One worker thread, so that requests queue up behind it.
class OneWorkerTest : public AdversarialTest {
 protected:
  std::string config_template() const override {
    return std::string("[node]\nworker_threads = 1\n\n") + test::kMemoryNodeConfig;
  }
};

TEST_F(OneWorkerTest, SigtermWithRequestsQueuedShutsDownCleanly) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 16; ++t) {
    writers.emplace_back([&, t] {
      Result<std::unique_ptr<Client>> connected = Client::connect(address());
      if (!connected.is_ok()) return;
      const Bytes value(256 * 1024, static_cast<char>('a' + t));
      const auto deadline = Clock::now() + std::chrono::seconds(20);
      for (int i = 0; i < 100'000 && !stop && Clock::now() < deadline; ++i) {
        if (!(*connected)->put("t", numbered("k", t * 100 + i % 100), value).is_ok()) break;
        ++answered;
      }
    });
  }
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (answered < 200 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Result<test::ExitStatus> ended = cluster_->terminate_node(0);
  stop = true;
  for (std::thread& writer : writers) writer.join();
  ASSERT_TRUE(ended.is_ok()) << ended.status().to_string();
  EXPECT_TRUE(ended->success()) << ended->to_string() << "\n" << cluster_->describe_logs();
  // The same data directory serves again (the memory engine keeps nothing across a restart).
  ASSERT_TRUE(cluster_->start_node(0).is_ok());
  client_ = connect_client(address());
  ASSERT_NE(client_, nullptr);
  ASSERT_TRUE(client().create_table(kCanaryTable).is_ok());
  std::vector<Mutation> batch;
  for (int i = 0; i < kCanaryKeys; ++i) batch.push_back({numbered("c", i), canary_value(i)});
  ASSERT_TRUE(client().write(kCanaryTable, batch).is_ok());
}


// The vector-clock profile keeps every blind write as a sibling.
class SiblingsTest : public AdversarialTest {
 protected:
  std::string config_template() const override {
    return "[engine]\nplugin = \"memory\"\n\n[conflict]\nplugin = \"vclock\"\n";
  }
};

TEST_F(SiblingsTest, BlindWritesCannotGrowAKeyPastWhatAGetCanAnswer) {
  ASSERT_TRUE(client().create_table("t").is_ok());
  // Seventy 1 MiB siblings would make a get answer larger than one RPC message.
  int refused = 0;
  for (int i = 0; i < 70; ++i) {
    Status put = client().put("t", "k", Bytes(kValueBytesMax, static_cast<char>('a' + i % 26)))
                     .status();
    if (put.code() == StatusCode::kTooLarge) {
      EXPECT_TRUE(contains(put.message(), "context")) << put.to_string();
      ++refused;
    } else {
      ASSERT_TRUE(put.is_ok()) << put.to_string();
    }
  }
  EXPECT_GT(refused, 0);
  // The key still answers, and writing back with its context resolves the siblings.
  Result<GetReply> got = client().get("t", "k");
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  EXPECT_GT(got->values.size(), 1u);
  RequestOptions resolve;
  resolve.context = got->context;
  ASSERT_TRUE(client().put("t", "k", "merged", resolve).is_ok());
  got = client().get("t", "k");
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  ASSERT_EQ(got->values.size(), 1u);
  EXPECT_EQ(got->values[0].data, "merged");
}

// The command line is input too: a log level the node does not know is refused, not read as
// "off" (which would have silenced the node).
TEST(AdversarialCommandLine, AnUnknownLogLevelIsRefusedNamingIt) {
  test::TestCluster cluster(cluster_options());
  cluster.add_node();
  const std::filesystem::path config = cluster.root() / "node.toml";
  std::ofstream(config) << cluster.render_config(0, test::kMemoryNodeConfig);
  Result<test::CommandResult> run = cluster.run_node(
      {"--config", config.string(), "--log-level", "loud"}, std::chrono::seconds(10));
  ASSERT_TRUE(run.is_ok()) << run.status().to_string();
  EXPECT_TRUE(run->status.exited && run->status.code == 2) << run->status.to_string();
  EXPECT_TRUE(contains(run->err, "--log-level")) << run->err;
  EXPECT_TRUE(contains(run->err, "loud")) << run->err;
}


TEST(AdversarialCommandLine, AnUnusableEngineDirectoryIsRefusedWithTheReason) {
  test::TestCluster cluster(cluster_options());
  cluster.add_node();
  const std::filesystem::path config = cluster.root() / "node.toml";
  std::ofstream(config) << cluster.render_config(0, test::kMemoryNodeConfig);
  // A file where the node wants its engine's directory.
  std::filesystem::create_directories(cluster.data_dir(0));
  std::ofstream(cluster.data_dir(0) / "engine") << "not a directory";
  Result<test::CommandResult> run =
      cluster.run_node({"--config", config.string()}, std::chrono::seconds(10));
  ASSERT_TRUE(run.is_ok()) << run.status().to_string();
  EXPECT_FALSE(run->status.success()) << run->status.to_string();
  EXPECT_TRUE(contains(run->err, (cluster.data_dir(0) / "engine").string())) << run->err;
  EXPECT_TRUE(contains(run->err, "Not a directory")) << run->err;
}

}  // namespace
}  // namespace tessera::e2e
