// [leader]: the static peers and what is checked about them.
#include "leader_config.h"

#include <gtest/gtest.h>

namespace tessera::leader {
namespace {

Result<LeaderConfig> parse(const std::string& text, const NodeId& self = "n2",
                           const std::string& listen = "127.0.0.1:7502") {
  auto file = ConfigFile::parse(text, "node.toml");
  if (!file.is_ok()) return file.status();
  auto section = (*file)->root().section("leader");
  if (!section.is_ok()) return section.status();
  return parse_leader_config(*section, self, listen);
}

constexpr const char* kPeers =
    "[leader]\npeers = [\"n1=127.0.0.1:7501\", \"n2=127.0.0.1:7502\", \"n3=127.0.0.1:7503\"]\n";

TEST(LeaderConfig, PeersSelfAndDefaults) {
  auto config = parse(kPeers);
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();
  EXPECT_EQ(config->peers.size(), 3u);
  EXPECT_EQ(config->self, 1u);
  EXPECT_EQ(config->replicas, 3u);
  EXPECT_EQ(config->metadata_voters().size(), 3u);
  EXPECT_EQ(config->peers[2].address, "127.0.0.1:7503");
}

TEST(LeaderConfig, ErrorsNameWhatIsWrong) {
  auto message = [](const Result<LeaderConfig>& r) {
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    return r.status().message();
  };
  EXPECT_NE(message(parse("[leader]\n")).find("lists no nodes"), std::string::npos);
  EXPECT_NE(message(parse("[leader]\npeers = [\"n1\"]\n")).find("is not id=host:port"),
            std::string::npos);
  EXPECT_NE(message(parse("[leader]\npeers = [\"n2=a:1\", \"n2=a:2\"]\n")).find("listed twice"),
            std::string::npos);
  EXPECT_NE(message(parse(kPeers, "n9")).find("does not list this node (n9)"), std::string::npos);
  EXPECT_NE(message(parse(kPeers, "n2", "127.0.0.1:9999")).find("listens at 127.0.0.1:9999"),
            std::string::npos);
  EXPECT_NE(message(parse(std::string(kPeers) + "replicas = 5\n")).find("more than the 3 peers"),
            std::string::npos);
  EXPECT_NE(message(parse(std::string(kPeers) + "voters = 3\n")).find("leader.voters"),
            std::string::npos);
  EXPECT_NE(message(parse("[leader]\npeers = [\"a=h:1\", \"b=h:2\", \"c=h:3\", \"d=h:4\", "
                          "\"e=h:5\", \"n2=127.0.0.1:7502\"]\n"))
                .find("at most 5"),
            std::string::npos);
}

}  // namespace
}  // namespace tessera::leader
