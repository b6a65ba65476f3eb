// Tests of the harness itself that need no tessera-node: config rendering, and start failures
// driven by a shell script standing in for the node.
#include "test_cluster.h"

#include <signal.h>

#include <fstream>

#include <gtest/gtest.h>

namespace tessera::test {
namespace {

using std::chrono_literals::operator""ms;
namespace fs = std::filesystem;

// A stand-in node: prints the ready line for the id and listen address in its config, then
// sleeps; `mode` lets a test make it fail instead.
fs::path write_fake_node(const fs::path& dir, const std::string& mode) {
  const fs::path script = dir / "fake-node.sh";
  std::ofstream out(script);
  out << "#!/bin/sh\n"
         "config=$2\n"
         "id=$(sed -n 's/^id = \"\\(.*\\)\"$/\\1/p' \"$config\")\n"
         "listen=$(sed -n 's/^listen = \"\\(.*\\)\"$/\\1/p' \"$config\")\n";
  if (mode == "fail") out << "echo \"$config:3:1: engine.bogus: unknown key\" >&2\nexit 1\n";
  if (mode == "silent") out << "exec sleep 30\n";
  out << "echo \"tessera-node $id listening on $listen\"\n"
         "trap 'exit 0' TERM\n"
         "while :; do sleep 0.05; done\n";
  out.close();
  fs::permissions(script, fs::perms::owner_all);
  return script;
}

TestCluster::Options options_for(const fs::path& binary,
                                 std::chrono::milliseconds start_timeout = 10'000ms) {
  TestCluster::Options options;
  options.node_binary = binary;
  options.start_timeout = start_timeout;
  return options;
}

TEST(TestCluster, RendersNodeKeysIntoTheTemplate) {
  TestCluster cluster(options_for("/bin/false"));
  cluster.add_node();
  cluster.add_node();
  const std::string plain = cluster.render_config(0, kMemoryNodeConfig);
  EXPECT_NE(plain.find("[node]\nid = \"n1\"\nlisten = \"" + cluster.address(0) + "\""),
            std::string::npos)
      << plain;
  EXPECT_NE(plain.find("plugin = \"memory\""), std::string::npos);

  const std::string with_section =
      cluster.render_config(1, "[node]\nlog_level = \"debug\"\n[peers]\nfirst = \"{{addr:0}}\"\n");
  EXPECT_NE(with_section.find("[node]\nid = \"n2\"\n"), std::string::npos) << with_section;
  EXPECT_NE(with_section.find("first = \"" + cluster.address(0) + "\""), std::string::npos);

  const std::string explicit_keys =
      cluster.render_config(0, "[node]\nid = \"{{id}}\"\nlisten = \"{{listen}}\"\n");
  EXPECT_EQ(explicit_keys, "[node]\nid = \"n1\"\nlisten = \"" + cluster.address(0) + "\"\n");

  // A distributed profile gets the cluster's secret; the file is the owner's alone.
  const std::string ap = cluster.render_config(0, "[node]\nprofile = \"dynamo\"\n");
  EXPECT_NE(ap.find("[security]\ncluster_secret_file = \"" +
                    cluster.cluster_secret_file().string() + "\""),
            std::string::npos)
      << ap;
  EXPECT_EQ(fs::status(cluster.cluster_secret_file()).permissions() & fs::perms::group_all,
            fs::perms::none);
  EXPECT_EQ(plain.find("cluster_secret_file"), std::string::npos) << plain;
}

TEST(TestCluster, StartsSignalsRestartsAndCleansUp) {
  fs::path root;
  {
    Result<fs::path> scripts = make_temp_dir("tessera-fake-");
    ASSERT_TRUE(scripts.is_ok());
    TestCluster cluster(options_for(write_fake_node(*scripts, "ok")));
    ASSERT_TRUE(cluster.start(2).is_ok()) << cluster.describe_logs();
    root = cluster.root();
    EXPECT_TRUE(cluster.running(0));
    EXPECT_TRUE(cluster.running(1));
    const std::string address = cluster.address(1);

    ASSERT_TRUE(cluster.pause_node(1).is_ok());
    Result<ExitStatus> terminated = cluster.terminate_node(1);  // paused: needs SIGCONT too
    ASSERT_TRUE(terminated.is_ok()) << terminated.status().to_string();
    EXPECT_TRUE(terminated->success()) << terminated->to_string();

    ASSERT_TRUE(cluster.restart_node(1).is_ok());
    EXPECT_EQ(cluster.address(1), address);
    std::optional<ExitStatus> killed = cluster.kill_node(0);
    ASSERT_TRUE(killed.has_value());
    EXPECT_EQ(killed->signal, SIGKILL);
    EXPECT_FALSE(cluster.running(0));
    EXPECT_NE(cluster.stderr_text(1).find("start 2 of n2"), std::string::npos);
    fs::remove_all(*scripts);
  }
  EXPECT_FALSE(fs::exists(root));
}

TEST(TestCluster, ReportsANodeThatExitsBeforeItIsReady) {
  Result<fs::path> scripts = make_temp_dir("tessera-fake-");
  ASSERT_TRUE(scripts.is_ok());
  TestCluster cluster(options_for(write_fake_node(*scripts, "fail")));
  cluster.add_node();
  Status status = cluster.start_node(0);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("exit code 1"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("engine.bogus"), std::string::npos) << status.message();
  fs::remove_all(*scripts);
}

TEST(TestCluster, BoundsTheWaitForASilentNode) {
  Result<fs::path> scripts = make_temp_dir("tessera-fake-");
  ASSERT_TRUE(scripts.is_ok());
  TestCluster cluster(options_for(write_fake_node(*scripts, "silent"), 300ms));
  cluster.add_node();
  const auto start = std::chrono::steady_clock::now();
  Status status = cluster.start_node(0);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("no ready line"), std::string::npos) << status.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(cluster.running(0));
  fs::remove_all(*scripts);
}

}  // namespace
}  // namespace tessera::test
