// The node as a process: clean shutdown, refusals to start, a paused node, and recovery after
// SIGKILL on a durable engine.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <algorithm>
#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "e2e_env.h"

namespace tessera::e2e {
namespace {

using std::chrono_literals::operator""ms;
namespace fs = std::filesystem;

constexpr std::chrono::milliseconds kRefusalTimeout{10'000};

std::string numbered(const char* prefix, int i) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%s%05d", prefix, i);
  return buffer;
}

TEST(NodeProcess, SigtermShutsDownCleanlyWithExitCodeZero) {
  test::TestCluster cluster(cluster_options());
  ASSERT_TRUE(cluster.start(1).is_ok());
  {
    std::unique_ptr<Client> client = connect_client(cluster.address(0));
    ASSERT_NE(client, nullptr);
    ASSERT_TRUE(client->create_table("t").is_ok());
    ASSERT_TRUE(client->put("t", "k", "v").is_ok());
  }
  Result<test::ExitStatus> exit = cluster.terminate_node(0);
  ASSERT_TRUE(exit.is_ok()) << exit.status().to_string();
  EXPECT_TRUE(exit->success()) << exit->to_string() << "\n" << cluster.stderr_text(0);
}

TEST(NodeProcess, SigtermWithAnOpenClientConnection) {
  test::TestCluster cluster(cluster_options());
  ASSERT_TRUE(cluster.start(1).is_ok());
  std::unique_ptr<Client> client = connect_client(cluster.address(0));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->create_table("t").is_ok());
  Result<test::ExitStatus> exit = cluster.terminate_node(0);
  ASSERT_TRUE(exit.is_ok()) << exit.status().to_string();
  EXPECT_TRUE(exit->success()) << exit->to_string();
  // The connection is gone: a typed Unavailable, not a crash or a hang.
  EXPECT_EQ(client->list_tables().status().code(), StatusCode::kUnavailable);
}

TEST(NodeProcess, SigintShutsDownCleanly) {
  test::TestCluster cluster(cluster_options());
  ASSERT_TRUE(cluster.start(1).is_ok());
  ASSERT_TRUE(cluster.signal_node(0, SIGINT).is_ok());
  Result<test::ExitStatus> exit = cluster.wait_node_exit(0, 10'000ms);
  ASSERT_TRUE(exit.is_ok()) << exit.status().to_string();
  EXPECT_TRUE(exit->success()) << exit->to_string();
}

TEST(NodeProcess, RefusesADataDirectoryLockedByAnotherNode) {
  test::TestCluster cluster(cluster_options());
  ASSERT_TRUE(cluster.start(1).is_ok());
  // Same config, hence same data directory; another port so that only the lock can stop it.
  Result<test::CommandResult> second = cluster.run_node(
      {"--config", cluster.config_path(0).string(), "--listen", "127.0.0.1:0"}, kRefusalTimeout);
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_FALSE(second->status.success()) << second->status.to_string();
  EXPECT_TRUE(second->status.exited) << second->status.to_string();
  EXPECT_EQ(second->status.code, 3) << "exit code 3 is a locked data directory";
  EXPECT_NE(second->err.find("lock"), std::string::npos) << second->err;
  EXPECT_NE(second->err.find(cluster.data_dir(0).string()), std::string::npos) << second->err;
  EXPECT_EQ(second->out.find("listening"), std::string::npos) << second->out;
  EXPECT_TRUE(cluster.running(0));

  // Once the first node is gone (even by SIGKILL), the directory is free again.
  cluster.kill_node(0);
  ASSERT_TRUE(cluster.start_node(0).is_ok());
}

struct BadConfig {
  std::string name;
  std::string text;
  int line;
  std::string key;
};

TEST(NodeProcess, BadConfigNamesFileLineAndKey) {
  Result<fs::path> dir = test::make_temp_dir("tessera-badconfig-");
  ASSERT_TRUE(dir.is_ok());
  const std::vector<BadConfig> cases = {
      {"unknown_key.toml",
       "[node]\nid = \"n1\"\nlisten = \"127.0.0.1:0\"\n\n[engine]\nplugin = \"memory\"\n"
       "bogus = 1\n",
       7, "bogus"},
      {"wrong_type.toml", "[node]\nid = \"n1\"\nlisten = 7400\n[engine]\nplugin = \"memory\"\n", 3,
       "node.listen"},
      {"bad_limit.toml",
       "[node]\nlisten = \"127.0.0.1:0\"\n[limits]\nkey_bytes_max = -1\n[engine]\nplugin = "
       "\"memory\"\n",
       4, "limits.key_bytes_max"},
  };
  for (const BadConfig& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path file = *dir / c.name;
    std::ofstream(file) << c.text;
    Result<test::CommandResult> run = test::run_command(
        {kNodeBinary.string(), "--config", file.string(), "--data-dir", (*dir / "data").string()},
        "", kRefusalTimeout);
    ASSERT_TRUE(run.is_ok()) << run.status().to_string();
    EXPECT_TRUE(run->status.exited && run->status.code == 2) << run->status.to_string();
    EXPECT_NE(run->err.find(c.name + ":" + std::to_string(c.line)), std::string::npos) << run->err;
    EXPECT_NE(run->err.find(c.key), std::string::npos) << run->err;
    // One clear line.
    EXPECT_EQ(std::count(run->err.begin(), run->err.end(), '\n'), 1) << run->err;
  }
  // A missing file is refused too, naming it.
  Result<test::CommandResult> missing = test::run_command(
      {kNodeBinary.string(), "--config", (*dir / "absent.toml").string()}, "", kRefusalTimeout);
  ASSERT_TRUE(missing.is_ok());
  EXPECT_FALSE(missing->status.success());
  EXPECT_NE(missing->err.find("absent.toml"), std::string::npos) << missing->err;
  // So is a bad command line, with the same exit code as a bad config.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{kNodeBinary.string()},
        std::vector<std::string>{kNodeBinary.string(), "--config", "x.toml", "--bogus"}}) {
    Result<test::CommandResult> bad = test::run_command(args, "", kRefusalTimeout);
    ASSERT_TRUE(bad.is_ok());
    EXPECT_TRUE(bad->status.exited && bad->status.code == 2) << bad->status.to_string();
  }
  fs::remove_all(*dir);
}

TEST(NodeProcess, PausedNodeTimesOutAndRecoversOnResume) {
  test::TestCluster cluster(cluster_options());
  ASSERT_TRUE(cluster.start(1).is_ok());
  std::unique_ptr<Client> client = connect_client(cluster.address(0));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->create_table("t").is_ok());

  ASSERT_TRUE(cluster.pause_node(0).is_ok());
  RequestOptions options;
  options.timeout_ms = 200;
  const auto start = std::chrono::steady_clock::now();
  Result<Bytes> put = client->put("t", "k", "v", options);
  EXPECT_EQ(put.status().code(), StatusCode::kTimeout) << put.status().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));

  ASSERT_TRUE(cluster.resume_node(0).is_ok());
  // The timed-out put may or may not apply, and may apply after requests sent later (the node
  // still holds it), so the check uses another key; the connection works again either way.
  ASSERT_TRUE(client->put("t", "other", "v2").is_ok());
  Result<GetReply> got = client->get("t", "other");
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  ASSERT_TRUE(got->found);
  EXPECT_EQ(got->values[0].data, "v2");
}

TEST(NodeProcess, ClientReportsAnUnreachableNodeNamingTheAddress) {
  Result<uint16_t> port = test::reserve_loopback_port();
  ASSERT_TRUE(port.is_ok());
  const std::string address = "127.0.0.1:" + std::to_string(*port);
  Result<std::unique_ptr<Client>> client = Client::connect(address, 2000);
  ASSERT_FALSE(client.is_ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(client.status().message().find(address), std::string::npos)
      << client.status().message();
}

// Durability: every write the node acknowledged survives SIGKILL on the lsm engine.
// Past connections_max a new client is closed at once, and the clients connected keep being
// served; once one leaves, a new one gets in.
TEST(NodeProcess, ConnectionsPastTheLimitAreClosedAndTheOthersServed) {
  test::TestCluster cluster(
      cluster_options(std::string("[node]\nconnections_max = 2\n\n") + test::kMemoryNodeConfig));
  ASSERT_TRUE(cluster.start(1).is_ok());
  std::unique_ptr<Client> first = connect_client(cluster.address(0));
  std::unique_ptr<Client> second = connect_client(cluster.address(0));
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->create_table("t").is_ok());
  Result<std::unique_ptr<Client>> third = Client::connect(cluster.address(0));
  Status refused = third.is_ok() ? (*third)->put("t", "k", "v").status() : third.status();
  EXPECT_FALSE(refused.is_ok()) << "a third connection was served";
  EXPECT_TRUE(second->put("t", "k", "v").is_ok()) << "a connected client lost its service";
  first.reset();
  bool admitted = false;
  for (int attempt = 0; attempt < 50 && !admitted; ++attempt) {
    Result<std::unique_ptr<Client>> again = Client::connect(cluster.address(0));
    admitted = again.is_ok() && (*again)->put("t", "k2", "v").is_ok();
    if (!admitted) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(admitted) << "no client got in after one left";
  EXPECT_NE(cluster.describe_logs().find("connections_max"), std::string::npos);
}

// The limit per client address holds even while the node has room, and an idle connection is
// closed after idle_timeout_ms while a busy one is not.
TEST(NodeProcess, ConnectionsPerAddressAndIdleConnectionsAreBounded) {
  test::TestCluster cluster(cluster_options(
      std::string("[node]\nconnections_per_address_max = 1\nidle_timeout_ms = 300\n\n") +
      test::kMemoryNodeConfig));
  ASSERT_TRUE(cluster.start(1).is_ok());
  std::unique_ptr<Client> busy = connect_client(cluster.address(0));
  ASSERT_NE(busy, nullptr);
  ASSERT_TRUE(busy->create_table("t").is_ok());
  Result<std::unique_ptr<Client>> second = Client::connect(cluster.address(0));
  Status refused = second.is_ok() ? (*second)->put("t", "k", "v").status() : second.status();
  EXPECT_FALSE(refused.is_ok()) << "a second connection from 127.0.0.1 was served";
  // Kept busy for longer than the idle timeout: still served.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(busy->put("t", "k", "v" + std::to_string(i)).is_ok()) << i;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Silent for longer than it: closed, which also makes room for a new one.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_FALSE(busy->put("t", "k", "late").is_ok()) << "an idle connection stayed open";
  Result<std::unique_ptr<Client>> after = Client::connect(cluster.address(0));
  ASSERT_TRUE(after.is_ok()) << after.status().to_string();
  EXPECT_TRUE((*after)->put("t", "k", "again").is_ok());
  EXPECT_NE(cluster.describe_logs().find("connections_per_address_max"), std::string::npos);
}

// Memory that thousands of connections took is given back once they close, not kept at its
// peak (the node trims its allocator when the open connections fall to half their peak).
TEST(NodeProcess, MemoryOfClosedConnectionsIsGivenBack) {
  struct rlimit limit {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  constexpr size_t kConnections = 3000;
  if (limit.rlim_cur < kConnections + 100) GTEST_SKIP() << "too few descriptors for the test";
  test::TestCluster cluster(cluster_options(
      std::string("[node]\nconnections_per_address_max = 10000\n\n") + test::kMemoryNodeConfig));
  ASSERT_TRUE(cluster.start(1).is_ok());
  std::unique_ptr<Client> client = connect_client(cluster.address(0));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->create_table("t").is_ok());
  const size_t before = *cluster.rss_bytes(0);
  const uint16_t port = static_cast<uint16_t>(
      std::stoi(cluster.address(0).substr(cluster.address(0).rfind(':') + 1)));
  std::vector<int> sockets;
  for (size_t i = 0; i < kConnections; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0) << i;
    sockets.push_back(fd);
  }
  // Served: a request on the client's own connection comes after the node took them all.
  ASSERT_TRUE(client->put("t", "k", "v").is_ok());
  size_t peak = 0;
  for (int i = 0; i < 50 && peak < before + (size_t{8} << 20); ++i) {
    peak = std::max(peak, *cluster.rss_bytes(0));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (int fd : sockets) ::close(fd);
  ASSERT_TRUE(client->put("t", "k", "v2").is_ok());
  size_t after = peak;
  for (int i = 0; i < 100 && after > before + (peak - before) / 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    after = *cluster.rss_bytes(0);
  }
  std::printf("RSS: %zu KiB before, %zu KiB with %zu connections, %zu KiB after they closed\n",
              before >> 10, peak >> 10, kConnections, after >> 10);
  ASSERT_GT(peak, before) << "the connections took no memory";
  EXPECT_LE(after, before + (peak - before) / 4) << "the node kept the memory of closed connections";
}

// A full disk: an 8 MiB tmpfs as the node's data directory (root only; skipped elsewhere), with
// a 2 MiB file to free later. The node refuses writes with an error that says the disk is
// full, logs it once, goes on serving reads, restarts after kill -9 on the full disk and
// serves reads, and takes writes again once the file is removed.
TEST(NodeProcess, OnAFullDiskTheNodeServesReadsRestartsAndResumesWritesWhenSpaceReturns) {
  if (!fs::exists(kPluginDir / "tessera_engine_lsm.so")) GTEST_SKIP() << "no lsm plugin";
  test::TestCluster cluster(cluster_options(
      "[node]\nsync_writes = true\n\n[engine]\nplugin = \"lsm\"\n\n[conflict]\nplugin = \"lww\"\n"));
  cluster.add_node();
  const fs::path data = cluster.data_dir(0);
  fs::create_directories(data);
  if (::mount("tmpfs", data.c_str(), "tmpfs", 0, "size=8m") != 0) {
    GTEST_SKIP() << "cannot mount a small tmpfs here: " << std::strerror(errno);
  }
  struct Unmount {
    test::TestCluster& cluster;
    fs::path path;
    ~Unmount() {
      cluster.kill_node(0);
      ::umount(path.c_str());
    }
  } unmount{cluster, data};
  { std::ofstream(data / "filler") << std::string(2 << 20, 'f'); }
  ASSERT_TRUE(cluster.start_node(0).is_ok());
  std::unique_ptr<Client> client = connect_client(cluster.address(0));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->create_table("t").is_ok());
  const std::string value(256 << 10, 'v');
  Status refused;
  int stored = 0;
  for (; stored < 64; ++stored) {
    refused = client->put("t", "k" + std::to_string(stored), value).status();
    if (!refused.is_ok()) break;
  }
  ASSERT_FALSE(refused.is_ok()) << "the disk never filled";
  ASSERT_GT(stored, 4);
  EXPECT_EQ(refused.code(), StatusCode::kIOError);
  EXPECT_NE(refused.message().find("is full"), std::string::npos) << refused.to_string();
  EXPECT_FALSE(client->put("t", "again", value).is_ok());
  auto read = [&](const std::string& key) {
    Result<GetReply> got = client->get("t", key);
    return got.is_ok() && got->found && got->values[0].data == value;
  };
  EXPECT_TRUE(read("k0")) << "reads stopped with the disk full";
  EXPECT_TRUE(read("k" + std::to_string(stored - 1)));
  const std::string logs = cluster.describe_logs();
  size_t warnings = 0;
  for (size_t at = logs.find("the disk is full"); at != std::string::npos;
       at = logs.find("the disk is full", at + 1)) {
    ++warnings;
  }
  EXPECT_EQ(warnings, 1u) << "the warning is logged once";

  // kill -9, a restart, and every acknowledged write read back.
  auto kill_restart_and_read = [&] {
    client.reset();
    cluster.kill_node(0);
    ASSERT_TRUE(cluster.start_node(0).is_ok()) << cluster.describe_logs();
    client = connect_client(cluster.address(0));
    ASSERT_NE(client, nullptr);
    for (int i = 0; i < stored; ++i) EXPECT_TRUE(read("k" + std::to_string(i))) << i;
  };
  // With the disk still full.
  ASSERT_NO_FATAL_FAILURE(kill_restart_and_read());
  // The open gave back the zero-filled tail of its log, and no more: writes fill it, then are
  // refused again.
  for (refused = Status::ok(); stored < 128 && refused.is_ok(); ++stored) {
    refused = client->put("t", "k" + std::to_string(stored), value).status();
  }
  --stored;  // the refused one
  EXPECT_NE(refused.message().find("is full"), std::string::npos) << refused.to_string();

  // Space returns: writes go on (the first try a second after the last).
  fs::remove(data / "filler");
  bool resumed = false;
  for (int attempt = 0; attempt < 50 && !resumed; ++attempt) {
    resumed = client->put("t", "after", "small").is_ok();
    if (!resumed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(resumed) << "writes did not resume once space returned";
  Result<GetReply> after = client->get("t", "after");
  ASSERT_TRUE(after.is_ok() && after->found);
  // Again, with the logs of both opens still live.
  ASSERT_NO_FATAL_FAILURE(kill_restart_and_read());
  after = client->get("t", "after");
  ASSERT_TRUE(after.is_ok() && after->found) << "a write taken after the full disk was lost";
  client.reset();
}

TEST(NodeProcess, LsmKeepsAcknowledgedWritesAcrossSigkill) {
  if (!fs::exists(kPluginDir / "tessera_engine_lsm.so")) {
    GTEST_SKIP() << "the lsm engine plugin is not built (" << kPluginDir.string() << ")";
  }
  // A small memtable (64 KiB) under ~1 MiB per round: the data lives in many flushed and
  // compacted tables as well as in the log when the node is killed.
  const std::string config =
      "[node]\nsync_writes = true\n\n[engine]\nplugin = \"lsm\"\n\n[engine.config]\n"
      "memtable_bytes_max = 65536\n\n[conflict]\nplugin = \"lww\"\n";
  test::TestCluster cluster(cluster_options(config));
  ASSERT_TRUE(cluster.start(1).is_ok());

  constexpr int kRounds = 3;
  constexpr int kPutsPerRound = 400;
  constexpr int kBatchesPerRound = 20;
  constexpr int kBatchSize = 25;
  std::map<std::string, std::string> acknowledged;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::unique_ptr<Client> client = connect_client(cluster.address(0));
    ASSERT_NE(client, nullptr);
    if (round == 0) {
      Status created = client->create_table("t");
      ASSERT_TRUE(created.is_ok()) << created.to_string();
    }
    const std::string value_prefix = "r" + std::to_string(round) + "-";
    for (int i = 0; i < kPutsPerRound; ++i) {
      // Overwrites earlier rounds' keys and adds new ones.
      const std::string key = numbered("put-", i * (round + 1));
      const std::string value = value_prefix + std::string(2000, 'a' + (i % 26));
      Result<Bytes> put = client->put("t", key, value);
      ASSERT_TRUE(put.is_ok()) << put.status().to_string();
      acknowledged[key] = value;
    }
    for (int b = 0; b < kBatchesPerRound; ++b) {
      std::vector<BatchOperation> ops;
      for (int j = 0; j < kBatchSize; ++j) {
        const std::string key = numbered("batch-", b * kBatchSize + j);
        ops.push_back({key, value_prefix + key});
      }
      Status written = client->write("t", ops);
      ASSERT_TRUE(written.is_ok()) << written.to_string();
      for (const BatchOperation& op : ops) acknowledged[op.key] = *op.value;
    }
    for (int i = 0; i < kPutsPerRound; i += 10) {
      const std::string key = numbered("put-", i);
      Status removed = client->remove("t", key);
      ASSERT_TRUE(removed.is_ok()) << removed.to_string();
      acknowledged.erase(key);
    }

    client.reset();
    cluster.kill_node(0);
    Status restarted = cluster.start_node(0);
    ASSERT_TRUE(restarted.is_ok()) << restarted.to_string();

    client = connect_client(cluster.address(0));
    ASSERT_NE(client, nullptr);
    std::map<std::string, std::string> found;
    Bytes token;
    for (int page = 0; page < 100'000; ++page) {
      Result<ScanPage> result = client->scan("t", "", "", 500, token);
      ASSERT_TRUE(result.is_ok()) << result.status().to_string();
      for (const ScanItem& item : result->items) found[item.key] = item.value;
      if (result->next_page_token.empty()) break;
      token = result->next_page_token;
    }
    ASSERT_EQ(found.size(), acknowledged.size());
    EXPECT_TRUE(found == acknowledged) << "the data after restart differs from what was acked";
    for (int i = 5; i < kPutsPerRound; i += 97) {  // point reads agree with the scan
      const std::string key = numbered("put-", i);
      Result<GetReply> got = client->get("t", key);
      ASSERT_TRUE(got.is_ok()) << got.status().to_string();
      EXPECT_EQ(got->found, acknowledged.count(key) == 1) << key;
    }
  }
}

// Durability is awaited, not slept in: 64 clients writing at once share the log's fsyncs
// whatever the node's thread count (worker_threads = 2), and every write acknowledged that way
// survives kill -9.
TEST(NodeProcess, SixtyFourConcurrentWritersShareFsyncsAndSurviveSigkill) {
  if (!fs::exists(kPluginDir / "tessera_engine_lsm.so")) {
    GTEST_SKIP() << "the lsm engine plugin is not built (" << kPluginDir.string() << ")";
  }
  const std::string config =
      "[node]\nsync_writes = true\nworker_threads = 2\n\n[engine]\nplugin = \"lsm\"\n\n"
      "[conflict]\nplugin = \"lww\"\n";
  test::TestCluster cluster(cluster_options(config));
  ASSERT_TRUE(cluster.start(1).is_ok());
  std::unique_ptr<Client> admin = connect_client(cluster.address(0));
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin->create_table("t").is_ok());
  auto wal_syncs = [&]() -> double {
    Result<NodeStatus> status = admin->status();
    EXPECT_TRUE(status.is_ok()) << status.status().to_string();
    if (!status.is_ok()) return -1;
    for (const auto& [name, value] : status->engine_stats) {
      if (name == "wal_syncs") return value;
    }
    ADD_FAILURE() << "the lsm engine reports no wal_syncs";
    return -1;
  };
  const double syncs_before = wal_syncs();

  constexpr int kWriters = 64;
  constexpr int kPutsPerWriter = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::unique_ptr<Client> client = connect_client(cluster.address(0));
      if (client == nullptr) {
        ++failures;
        return;
      }
      for (int i = 0; i < kPutsPerWriter; ++i) {
        const std::string key = numbered("w", w * kPutsPerWriter + i);
        if (!client->put("t", key, key).is_ok()) ++failures;
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  ASSERT_EQ(failures.load(), 0);
  const double writes = kWriters * kPutsPerWriter;
  const double syncs = wal_syncs() - syncs_before;
  RecordProperty("puts_per_fsync", std::to_string(writes / std::max(syncs, 1.0)));
  std::printf("%g puts acknowledged with %g fsyncs of the log (%.1f puts per fsync)\n", writes,
              syncs, writes / std::max(syncs, 1.0));
  EXPECT_GT(syncs, 0);
  EXPECT_LE(syncs * 4, writes) << "64 concurrent writers should share fsyncs";

  admin.reset();
  cluster.kill_node(0);
  ASSERT_TRUE(cluster.start_node(0).is_ok());
  std::unique_ptr<Client> client = connect_client(cluster.address(0));
  ASSERT_NE(client, nullptr);
  for (int k = 0; k < kWriters * kPutsPerWriter; ++k) {
    Result<GetReply> got = client->get("t", numbered("w", k));
    ASSERT_TRUE(got.is_ok()) << got.status().to_string();
    ASSERT_TRUE(got->found) << numbered("w", k) << " was acknowledged and lost";
  }
}

// rpc_threads = 3: connections are spread over three event loops, each with its own request
// path; every client is served, a table created through one loop is seen by all, and SIGTERM
// with connections open on every loop still exits cleanly.
TEST(NodeProcess, ClientsSpreadOverSeveralEventLoopsAreAllServed) {
  test::TestCluster cluster(cluster_options(
      "[node]\nrpc_threads = 3\n\n[engine]\nplugin = \"memory\"\n\n[conflict]\n"
      "plugin = \"lww\"\n"));
  ASSERT_TRUE(cluster.start(1).is_ok());
  std::unique_ptr<Client> admin = connect_client(cluster.address(0));
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin->create_table("t").is_ok());
  // Each thread its own two connections (a client belongs to the thread that made it), which
  // the round robin puts on different loops: a write through one is read through the other.
  constexpr int kThreads = 9;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<Client> writer = connect_client(cluster.address(0));
      std::unique_ptr<Client> reader = connect_client(cluster.address(0));
      if (writer == nullptr || reader == nullptr) {
        ++failures;
        return;
      }
      for (int i = 0; i < 200; ++i) {
        const std::string key = numbered("c", t * 1000 + i);
        if (!writer->put("t", key, key).is_ok()) ++failures;
        Result<GetReply> got = reader->get("t", key);
        if (!got.is_ok() || !got->found || got->values.at(0).data != key) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  Result<test::ExitStatus> exit = cluster.terminate_node(0);
  ASSERT_TRUE(exit.is_ok()) << exit.status().to_string();
  EXPECT_TRUE(exit->success()) << exit->to_string() << "\n" << cluster.stderr_text(0);
  EXPECT_EQ(admin->list_tables().status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace tessera::e2e
