#include "tessera/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {
namespace {
namespace fs = std::filesystem;

// Line numbers below matter: messages must point at them.
constexpr std::string_view kText = R"(name = "node-1"
port = 7400
verbose = true
ratio = 0.25
whole = 3
peers = ["a:1", "b:2"]
data_dir = "data"
abs_dir = "/var/lib/tessera"
up_dir = "../shared/plugins"

[engine]
kind = "lsm"
block_bytes = "4k"

[engine.options]
memtable_bytes = 1048576
)";

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<ConfigFile>> parsed = ConfigFile::parse(kText, "node.toml", "/etc/ts");
    ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
    file_ = std::move(parsed).value();
  }
  ConfigSection root() const { return file_->root(); }
  ConfigSection engine() const { return *root().section("engine"); }

  std::unique_ptr<ConfigFile> file_;
};

TEST_F(ConfigTest, TypedGetters) {
  EXPECT_EQ(*root().get_string("name", ""), "node-1");
  EXPECT_EQ(*root().get_int("port", 0), 7400);
  EXPECT_EQ(*root().get_bool("verbose", false), true);
  EXPECT_DOUBLE_EQ(*root().get_double("ratio", 0), 0.25);
  EXPECT_DOUBLE_EQ(*root().get_double("whole", 0), 3.0) << "an integer is a number too";
  EXPECT_EQ(*root().get_string_list("peers"), (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ(*engine().get_string("kind", ""), "lsm");
}

TEST_F(ConfigTest, AbsentKeysGiveTheDefault) {
  EXPECT_EQ(*root().get_string("missing", "fallback"), "fallback");
  EXPECT_EQ(*root().get_int("missing", -5), -5);
  EXPECT_EQ(*root().get_int("missing", 99, 0, 10), 99) << "the range applies to given values";
  EXPECT_EQ(*root().get_bool("missing", true), true);
  EXPECT_DOUBLE_EQ(*root().get_double("missing", 1.5), 1.5);
  EXPECT_TRUE(root().get_string_list("missing")->empty());
  EXPECT_EQ(*root().get_path("missing", "/default"), fs::path("/default"));
}

TEST_F(ConfigTest, EmptySectionHasNothing) {
  ConfigSection empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_TRUE(empty.keys().empty());
  EXPECT_FALSE(empty.has("anything"));
  EXPECT_EQ(*empty.get_int("x", 3), 3);
  const std::string_view known[] = {"x"};
  EXPECT_TRUE(empty.check_known_keys(known).is_ok());
}

TEST_F(ConfigTest, KeysAndHas) {
  EXPECT_TRUE(root().has("port"));
  EXPECT_FALSE(root().has("nope"));
  std::vector<std::string> keys = engine().keys();
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"block_bytes", "kind", "options"}));
}

TEST_F(ConfigTest, WrongTypeNamesFileLineAndDottedKey) {
  Status status = engine().get_int("block_bytes", 0).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "node.toml:13:15: engine.block_bytes: expected an integer");

  EXPECT_EQ(root().get_string("port", "").status().message(),
            "node.toml:2:8: port: expected a string");
  EXPECT_EQ(root().get_bool("name", false).status().message(),
            "node.toml:1:8: name: expected true or false");
  EXPECT_EQ(root().get_double("name", 0).status().message(),
            "node.toml:1:8: name: expected a number");
  EXPECT_EQ(root().get_string_list("name").status().message(),
            "node.toml:1:8: name: expected an array of strings");
  Status section = root().section("port").status();
  EXPECT_EQ(section.message(), "node.toml:2:8: port: expected a table");
}

TEST_F(ConfigTest, NestedSectionsKeepTheirDottedPath) {
  Result<ConfigSection> options = engine().section("options");
  ASSERT_TRUE(options.is_ok());
  EXPECT_EQ(options->path(), "engine.options");
  EXPECT_EQ(options->file(), "node.toml");
  EXPECT_EQ(*options->get_int("memtable_bytes", 0), 1048576);
  EXPECT_EQ(options->get_bool("memtable_bytes", false).status().message(),
            "node.toml:16:18: engine.options.memtable_bytes: expected true or false");
  EXPECT_EQ(options->where("memtable_bytes"), "node.toml:16:18: engine.options.memtable_bytes");

  Result<ConfigSection> absent = engine().section("cache");
  ASSERT_TRUE(absent.is_ok()) << "an absent section is empty, not an error";
  EXPECT_TRUE(absent->empty());
  EXPECT_EQ(absent->path(), "engine.cache");
  EXPECT_EQ(*absent->get_int("bytes", 8), 8);
}

TEST_F(ConfigTest, RangeCheck) {
  EXPECT_EQ(*root().get_int("port", 0, 1, 65535), 7400);
  Status status = root().get_int("port", 0, 1, 1024).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "node.toml:2:8: port: 7400 is outside [1, 1024]");
  EXPECT_EQ(root().get_int("port", 0, 8000).status().message().substr(0, 36),
            "node.toml:2:8: port: 7400 is outside");
  EXPECT_TRUE(root().get_int("port", 0, 7400, 7400).is_ok()) << "bounds are inclusive";
}

TEST_F(ConfigTest, UnknownKeyIsAnError) {
  const std::string_view known[] = {"kind", "options"};
  Status status = engine().check_known_keys(known);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "node.toml:13:15: engine.block_bytes: unknown key (known here: kind, options)");
  const std::string_view all[] = {"kind", "options", "block_bytes"};
  EXPECT_TRUE(engine().check_known_keys(all).is_ok());
  EXPECT_NE(engine().check_known_keys({}).message().find("(known here: none)"), std::string::npos);
}

TEST_F(ConfigTest, RelativePathsResolveAgainstTheConfigFolder) {
  EXPECT_EQ(*root().get_path("data_dir", ""), fs::path("/etc/ts/data"));
  EXPECT_EQ(*root().get_path("abs_dir", ""), fs::path("/var/lib/tessera"));
  EXPECT_EQ(*root().get_path("up_dir", ""), fs::path("/etc/shared/plugins"));
  EXPECT_EQ(*engine().get_path("kind", ""), fs::path("/etc/ts/lsm")) << "sections share the folder";
  EXPECT_EQ(root().get_path("port", "").status().message(),
            "node.toml:2:8: port: expected a string");
}

TEST_F(ConfigTest, EmptyPathIsAnError) {
  auto parsed = ConfigFile::parse("dir = \"\"\n", "p.toml");
  ASSERT_TRUE(parsed.is_ok());
  Status status = (*parsed)->root().get_path("dir", "x").status();
  EXPECT_EQ(status.message(), "p.toml:1:7: dir: expected a non-empty path");
}

TEST(ConfigParse, ParseErrorNamesFileAndLine) {
  Result<std::unique_ptr<ConfigFile>> parsed = ConfigFile::parse("a = 1\nb = = 2\n", "broken.toml");
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message().rfind("broken.toml:2:", 0), 0u) << parsed.status().message();
}

TEST(ConfigParse, DuplicateKeyIsAParseError) {
  Result<std::unique_ptr<ConfigFile>> parsed = ConfigFile::parse("a = 1\na = 2\n", "dup.toml");
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.status().message().rfind("dup.toml:2:", 0), 0u) << parsed.status().message();
}

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tessera-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = fs::canonical(pattern);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(std::string_view name, std::string_view text) {
    fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }
  fs::path dir_;
};

TEST_F(ConfigFileTest, LoadResolvesPathsAgainstTheFilesFolder) {
  fs::path file = write("single.toml", "data_dir = \"data\"\n");
  Result<std::unique_ptr<ConfigFile>> loaded = ConfigFile::load(file);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ(*(*loaded)->root().get_path("data_dir", ""), dir_ / "data");
  EXPECT_EQ((*loaded)->root().file(), file.string());
}

TEST_F(ConfigFileTest, LoadErrorsNameTheFile) {
  fs::path file = write("bad.toml", "ok = 1\n\n[section\n");
  Result<std::unique_ptr<ConfigFile>> loaded = ConfigFile::load(file);
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_EQ(loaded.status().message().rfind(file.string() + ":3:", 0), 0u)
      << loaded.status().message();

  Result<std::unique_ptr<ConfigFile>> missing = ConfigFile::load(dir_ / "missing.toml");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("missing.toml"), std::string::npos);
}

TEST_F(ConfigFileTest, ADirectoryIsNotAnEmptyConfig) {
  // Reading a directory yields no bytes, which would parse as a config of defaults only.
  fs::create_directory(dir_ / "configs");
  Result<std::unique_ptr<ConfigFile>> loaded = ConfigFile::load(dir_ / "configs");
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(loaded.status().message().find((dir_ / "configs").string()), std::string::npos)
      << loaded.status().message();
  EXPECT_NE(loaded.status().message().find("directory"), std::string::npos)
      << loaded.status().message();
}

}  // namespace
}  // namespace tessera
