// The dynamo profile's own config section, [quorum].
#include <gtest/gtest.h>

#include "tessera/config.h"
#include "tessera/dynamo/dynamo_profile.h"

namespace tessera::dynamo {
namespace {

Result<QuorumOptions> parse(const std::string& text) {
  auto file = ConfigFile::parse(text, "node.toml", std::filesystem::current_path());
  if (!file.is_ok()) return file.status();
  auto section = (*file)->root().section("quorum");
  if (!section.is_ok()) return section.status();
  return parse_quorum_options(*section);
}

TEST(QuorumOptions, DefaultsValuesAndErrorsNamingTheKey) {
  auto defaults = parse("");
  ASSERT_TRUE(defaults.is_ok()) << defaults.status().to_string();
  EXPECT_EQ(defaults->read_quorum, 2u);
  EXPECT_EQ(defaults->write_quorum, 2u);
  auto set = parse("[quorum]\nread_quorum = 1\nwrite_quorum = 3\ntick_ms = 5\n");
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  EXPECT_EQ(set->read_quorum, 1u);
  EXPECT_EQ(set->write_quorum, 3u);
  EXPECT_EQ(set->tick_ms, 5u);
  auto bad = parse("[quorum]\nwrite_quorum = 0\n");
  EXPECT_NE(bad.status().message().find("quorum.write_quorum"), std::string::npos)
      << bad.status().message();
  auto unknown = parse("[quorum]\nreplicas = 3\n");
  EXPECT_NE(unknown.status().message().find("quorum.replicas"), std::string::npos)
      << unknown.status().message();
}

}  // namespace
}  // namespace tessera::dynamo
