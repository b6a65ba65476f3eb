#include "tessera/node/node_config.h"

#include <gtest/gtest.h>

namespace tessera::node {
namespace {

Result<NodeConfig> parse(std::string_view text, std::unique_ptr<ConfigFile>* keep) {
  auto file = ConfigFile::parse(text, "node.toml", "/etc/tessera");
  if (!file.is_ok()) return file.status();
  *keep = std::move(file).value();
  return parse_node_config((*keep)->root());
}

TEST(NodeConfig, DefaultsAndRelativePaths) {
  std::unique_ptr<ConfigFile> keep;
  auto config = parse(
      "[node]\nid = \"a\"\ndata_dir = \"d\"\n[plugins]\ndirs = [\"p\", \"/abs\"]\n"
      "[engine]\nplugin = \"memory\"\n",
      &keep);
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();
  EXPECT_EQ(config->node_id, "a");
  EXPECT_EQ(config->data_dir, "/etc/tessera/d");
  EXPECT_EQ(config->plugin_dirs,
            (std::vector<std::filesystem::path>{"/etc/tessera/p", "/abs"}));
  EXPECT_EQ(config->listen_port, 7400);
  EXPECT_EQ(config->engine.plugin, "memory");
  EXPECT_EQ(config->conflict.plugin, "lww");
  EXPECT_EQ(config->limits.key_bytes_max, 10u * 1024);
}

TEST(NodeConfig, DefaultDataDirAndPluginPathsAreFromTheConfigFolder) {
  std::unique_ptr<ConfigFile> keep;
  auto config = parse(
      "[engine]\nplugin = \"../lib/tessera_engine_x.so\"\n[conflict]\nplugin = \"lww\"\n", &keep);
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();
  EXPECT_EQ(config->data_dir, "/etc/tessera/data");
  EXPECT_EQ(config->engine.plugin, "/etc/lib/tessera_engine_x.so");
  EXPECT_EQ(config->conflict.plugin, "lww") << "a short name stays a name";
}

TEST(NodeConfig, ErrorsNameFileLineAndKey) {
  std::unique_ptr<ConfigFile> keep;
  auto unknown = parse("[node]\nid = \"a\"\nlisten_port = 3\n", &keep);
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_NE(unknown.status().message().find("node.toml:3"), std::string::npos)
      << unknown.status().message();
  EXPECT_NE(unknown.status().message().find("node.listen_port"), std::string::npos);

  auto wrong_type = parse("[limits]\nkey_bytes_max = \"big\"\n", &keep);
  ASSERT_FALSE(wrong_type.is_ok());
  EXPECT_NE(wrong_type.status().message().find("limits.key_bytes_max"), std::string::npos);

  auto bad_listen = parse("[node]\nlisten = \"nowhere\"\n", &keep);
  EXPECT_EQ(bad_listen.status().code(), StatusCode::kInvalidArgument);

  auto half = parse("[node]\nprofile = \"dynamo\"\n[placement]\nplugin = \"ring\"\n", &keep);
  EXPECT_EQ(half.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(half.status().message().find("[membership]"), std::string::npos)
      << half.status().message();
  auto unnamed = parse("[placement]\nplugin = \"ring\"\n[membership]\nplugin = \"gossip\"\n",
                       &keep);
  EXPECT_EQ(unnamed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unnamed.status().message().find("profile = \"dynamo\""), std::string::npos)
      << unnamed.status().message();
  auto unknown_profile = parse("[node]\nprofile = \"raft\"\n", &keep);
  EXPECT_NE(unknown_profile.status().message().find("\"raft\" is not a profile"),
            std::string::npos)
      << unknown_profile.status().message();
  auto stray = parse("[quorum]\nread_quorum = 1\n", &keep);
  EXPECT_EQ(stray.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(stray.status().message().find("dynamo profile's section"), std::string::npos)
      << stray.status().message();
  auto ap = parse(
      "[node]\nprofile = \"dynamo\"\n"
      "[placement]\nplugin = \"ring\"\n[membership]\nplugin = \"gossip\"\n"
      "[quorum]\nread_quorum = 1\nwrite_quorum = 3\n"
      "[security]\ncluster_secret_file = \"secret\"\n",
      &keep);
  ASSERT_TRUE(ap.is_ok()) << ap.status().to_string();
  EXPECT_EQ(ap->profile, "dynamo");
  EXPECT_EQ(ap->cluster_secret_file, std::filesystem::path("/etc/tessera/secret"));
  EXPECT_EQ(ap->placement->plugin, "ring");
  EXPECT_EQ(ap->membership->plugin, "gossip");
  EXPECT_TRUE(ap->profile_section.has("write_quorum"));

  auto bad_level = parse("[node]\nlog_level = \"loud\"\n", &keep);
  EXPECT_EQ(bad_level.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_level.status().message().find("node.toml:2"), std::string::npos)
      << bad_level.status().message();
  EXPECT_NE(bad_level.status().message().find("\"loud\""), std::string::npos);
}

// A distributed profile cannot run unauthenticated: it names the key it lacks.
TEST(NodeConfig, DistributedProfilesNeedAClusterSecret) {
  std::unique_ptr<ConfigFile> keep;
  for (const char* profile : {"dynamo", "leader"}) {
    auto open = parse(std::string("[node]\nprofile = \"") + profile +
                          "\"\n[placement]\nplugin = \"ring\"\n[membership]\nplugin = \"gossip\"\n",
                      &keep);
    EXPECT_EQ(open.status().code(), StatusCode::kInvalidArgument) << profile;
    EXPECT_NE(open.status().message().find("[security] cluster_secret_file"), std::string::npos)
        << open.status().message();
  }
  auto single = parse("[security]\ncluster_secret_file = \"s\"\n", &keep);
  EXPECT_TRUE(single.is_ok()) << single.status().to_string();
  auto unknown = parse("[security]\nsecret = \"inline\"\n", &keep);
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
}

TEST(NodeConfig, LogLevelsAreCheckedByName) {
  for (std::string_view level : {"trace", "debug", "info", "warn", "error", "off"}) {
    EXPECT_TRUE(check_log_level(level, "--log-level").is_ok()) << level;
  }
  Status bad = check_log_level("critical", "--log-level");
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("--log-level"), std::string::npos) << bad.message();
  EXPECT_NE(bad.message().find("critical"), std::string::npos) << bad.message();
}


TEST(NodeConfig, LimitsStopWhereOneRpcMessageEnds) {
  std::unique_ptr<ConfigFile> keep;
  // A 100 MiB value fits no put request: the node would drop the connection, not say TooLarge.
  auto value = parse("[limits]\nvalue_bytes_max = 104857600\n", &keep);
  EXPECT_EQ(value.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(value.status().message().find("limits.value_bytes_max"), std::string::npos)
      << value.status().message();
  for (std::string_view text :
       {"[limits]\nbatch_bytes_max = 1073741824\n", "[limits]\nscan_bytes_max = 1073741824\n",
        "[limits]\nbatch_ops_max = 1000000\n", "[limits]\nscan_items_max = 1000000\n"}) {
    EXPECT_EQ(parse(text, &keep).status().code(), StatusCode::kInvalidArgument) << text;
  }
  auto at_bounds = parse(
      "[limits]\nkey_bytes_max = 1048576\nvalue_bytes_max = 33554432\n"
      "batch_bytes_max = 33554432\nbatch_ops_max = 100000\nscan_items_max = 100000\n"
      "scan_bytes_max = 16777216\n",
      &keep);
  EXPECT_TRUE(at_bounds.is_ok()) << at_bounds.status().to_string();
}

}  // namespace
}  // namespace tessera::node
