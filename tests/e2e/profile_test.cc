// The shipped profiles, exactly as scripts/run uses them: a node on configs/single.toml keeps
// its data across a clean restart and across SIGKILL. Only the node's id, address and data
// directory are replaced, so that tests never touch the repository's data/ folder or port 7400.
#include <fstream>
#include <regex>
#include <sstream>

#include "e2e_env.h"

namespace tessera::e2e {
namespace {

std::string shipped_profile(const std::string& name) {
  std::ifstream in(std::string(TESSERA_CONFIG_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << "cannot read " << TESSERA_CONFIG_DIR << "/" << name;
  std::stringstream text;
  text << in.rdbuf();
  // The harness writes these three keys itself when the template leaves them out.
  static const std::regex kNodePlacement(R"(^(id|listen|data_dir) *=.*\n)",
                                         std::regex::multiline);
  return std::regex_replace(text.str(), kNodePlacement, "");
}

std::string value_at(Client& client, const std::string& key) {
  Result<GetReply> got = client.get("demo", key);
  EXPECT_TRUE(got.is_ok()) << got.status().to_string();
  if (!got.is_ok() || got->values.empty()) return "<none>";
  return got->values[0].data;
}

TEST(ShippedProfiles, SingleNodeKeepsDataAcrossRestartAndSigkill) {
  if (!std::filesystem::exists(kPluginDir / "tessera_engine_lsm.so")) {
    GTEST_SKIP() << "the lsm engine plugin is not built";
  }
  test::TestCluster cluster(cluster_options(shipped_profile("single.toml")));
  Status started = cluster.start(1);
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  {
    std::unique_ptr<Client> client = connect_client(cluster.address(0));
    ASSERT_NE(client, nullptr);
    ASSERT_TRUE(client->create_table("demo").is_ok());
    ASSERT_TRUE(client->put("demo", "clean", "restart").is_ok());
  }
  Result<test::ExitStatus> stopped = cluster.terminate_node(0);
  ASSERT_TRUE(stopped.is_ok()) << stopped.status().to_string();
  ASSERT_TRUE(cluster.start_node(0).is_ok());
  {
    std::unique_ptr<Client> client = connect_client(cluster.address(0));
    ASSERT_NE(client, nullptr);
    EXPECT_EQ(value_at(*client, "clean"), "restart");
    ASSERT_TRUE(client->put("demo", "hard", "kill").is_ok());
  }
  cluster.kill_node(0);
  ASSERT_TRUE(cluster.start_node(0).is_ok());
  std::unique_ptr<Client> client = connect_client(cluster.address(0));
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(value_at(*client, "clean"), "restart");
  EXPECT_EQ(value_at(*client, "hard"), "kill");
}

}  // namespace
}  // namespace tessera::e2e
