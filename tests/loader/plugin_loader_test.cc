// PluginLoader: every refusal names the file and the reason, and a loaded plugin's objects keep
// its library mapped. The broken plugins live in tests/loader/plugins/ and build into their own
// folder (kBrokenPluginDir), never beside the real plugins (kPluginDir).
#include "tessera/plugin_loader.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tessera/engine.h"

namespace tessera {
namespace {
namespace fs = std::filesystem;

const fs::path kPluginDir = TESSERA_PLUGIN_DIR;
const fs::path kBrokenPluginDir = TESSERA_BROKEN_PLUGIN_DIR;

fs::path broken(std::string_view kind, std::string_view name) {
  return kBrokenPluginDir / ("tessera_" + std::string(kind) + "_" + std::string(name) + ".so");
}

// True while the dynamic loader has `file` mapped in this process.
bool is_mapped(const fs::path& file) {
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  dlclose(handle);
  return true;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "tessera-loader-XXXXXX").string();
    TESSERA_ASSERT(mkdtemp(pattern.data()) != nullptr);
    path_ = fs::canonical(pattern);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::unique_ptr<ConfigFile> parse_config(std::string_view text) {
  Result<std::unique_ptr<ConfigFile>> file = ConfigFile::parse(text, "loader_test.toml");
  TESSERA_ASSERT(file.is_ok());
  return std::move(file).value();
}

class PluginLoaderTest : public ::testing::Test {
 protected:
  // Refusals all come back as InvalidArgument naming the file; returns the message.
  std::string refusal(const Status& status, const fs::path& file) {
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
    EXPECT_NE(status.message().find(file.string()), std::string::npos)
        << "the message does not name " << file << ": " << status.message();
    return status.message();
  }
  Result<PluginPtr<Engine>> make_engine(const fs::path& file, const ConfigSection& config = {}) {
    return loader_.make_engine(file.string(), context_, config);
  }

  PluginLoader loader_{{kPluginDir, kBrokenPluginDir}};
  TempDir data_dir_;
  PluginContext context_{.node_id = "loader-test", .data_dir = data_dir_.path()};
};

TEST_F(PluginLoaderTest, RefusesWrongAbiVersion) {
  fs::path file = broken("engine", "bad_abi");
  std::string message = refusal(make_engine(file).status(), file);
  EXPECT_NE(message.find("ABI version " + std::to_string(kPluginAbiVersion + 1)), std::string::npos)
      << message;
  EXPECT_NE(message.find("speaks version " + std::to_string(kPluginAbiVersion)), std::string::npos)
      << message;
}

TEST_F(PluginLoaderTest, RefusesWrongKindForTheSlot) {
  fs::path file = broken("placement", "wrong_kind");
  std::string message = refusal(make_engine(file).status(), file);
  EXPECT_NE(message.find("is a placement plugin"), std::string::npos) << message;
  EXPECT_NE(message.find("this slot takes engine plugins"), std::string::npos) << message;
  EXPECT_TRUE(loader_.load(file.string(), PluginKind::kPlacement).is_ok())
      << "the same file is fine in a placement slot";
}

TEST_F(PluginLoaderTest, RefusesLibraryWithoutDescriptor) {
  fs::path file = broken("engine", "no_descriptor");
  std::string message = refusal(make_engine(file).status(), file);
  EXPECT_NE(message.find("exports no tessera_plugin_descriptor"), std::string::npos) << message;
}

TEST_F(PluginLoaderTest, RefusesIncompleteDescriptor) {
  fs::path file = broken("engine", "no_name");
  std::string message = refusal(make_engine(file).status(), file);
  EXPECT_NE(message.find("incomplete descriptor"), std::string::npos) << message;
}

TEST_F(PluginLoaderTest, RefusesUnknownConfigKey) {
  fs::path file = broken("engine", "config_keys");
  auto config = parse_config("greeting = \"hi\"\ncolour = \"blue\"\n");
  std::string message = refusal(make_engine(file, config->root()).status(), file);
  EXPECT_NE(message.find("loader_test.toml:2:"), std::string::npos) << message;
  EXPECT_NE(message.find("colour: unknown key"), std::string::npos) << message;
  EXPECT_NE(message.find("greeting, repeat"), std::string::npos)
      << "the message lists the keys the plugin knows: " << message;
}

TEST_F(PluginLoaderTest, UnknownKeyInPluginWithoutKeys) {
  fs::path file = kPluginDir / "tessera_engine_memory.so";
  auto config = parse_config("block_bytes = 4096\n");
  std::string message = refusal(make_engine(file, config->root()).status(), file);
  EXPECT_NE(message.find("block_bytes: unknown key (known here: none)"), std::string::npos)
      << message;
}

TEST_F(PluginLoaderTest, FactoryErrorComesBackWithTheFileNamed) {
  fs::path file = broken("engine", "factory_error");
  Status status = make_engine(file).status();
  EXPECT_EQ(status.code(), StatusCode::kIOError) << "the factory's code is kept";
  EXPECT_NE(status.message().find(file.string()), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("cannot open " + data_dir_.path().string() + "/LOCK"),
            std::string::npos)
      << status.message();
}

TEST_F(PluginLoaderTest, RefusesKindWithoutFactory) {
  fs::path file = broken("engine", "no_factory");
  std::string message = refusal(make_engine(file).status(), file);
  EXPECT_NE(message.find("has no factory"), std::string::npos) << message;
}

TEST_F(PluginLoaderTest, RefusesLibraryWithUnresolvedSymbol) {
  fs::path file = broken("engine", "missing_symbol");
  std::string message = refusal(make_engine(file).status(), file);
  EXPECT_NE(message.find("cannot be loaded"), std::string::npos) << message;
  EXPECT_NE(message.find("tessera_symbol_that_nobody_defines"), std::string::npos)
      << "the dynamic loader's reason is passed on: " << message;
}

TEST_F(PluginLoaderTest, RefusesFileThatIsNotALibrary) {
  TempDir dir;
  fs::path file = dir.path() / "tessera_engine_text.so";
  std::ofstream(file) << "not an ELF file\n";
  PluginLoader loader({dir.path()});
  std::string message = refusal(loader.load("text", PluginKind::kEngine).status(), file);
  EXPECT_NE(message.find("cannot be loaded"), std::string::npos) << message;
}

TEST_F(PluginLoaderTest, ShortNameNotFound) {
  Status status = loader_.load("nonexistent", PluginKind::kEngine).status();
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.to_string();
  EXPECT_NE(status.message().find("tessera_engine_nonexistent.so not found"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find(fs::canonical(kPluginDir).string()), std::string::npos)
      << "the message lists where it looked: " << status.message();
}

TEST_F(PluginLoaderTest, PathNotFound) {
  fs::path file = kPluginDir / "tessera_engine_nonexistent.so";
  Status status = loader_.load(file.string(), PluginKind::kEngine).status();
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.to_string();
  EXPECT_NE(status.message().find(file.string()), std::string::npos) << status.message();
}

TEST_F(PluginLoaderTest, NoPluginDirectories) {
  PluginLoader loader({"/nonexistent/tessera/plugins"});
  EXPECT_TRUE(loader.plugin_dirs().empty()) << "directories that do not exist are dropped";
  Status status = loader.load("memory", PluginKind::kEngine).status();
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_NE(status.message().find("none that exist"), std::string::npos) << status.message();
}

TEST_F(PluginLoaderTest, EmptyNameIsInvalid) {
  EXPECT_EQ(loader_.load("", PluginKind::kEngine).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PluginLoaderTest, RefusesFileOutsideThePluginDirectories) {
  TempDir outside;
  fs::path copy = outside.path() / "tessera_engine_memory.so";
  fs::copy_file(kPluginDir / "tessera_engine_memory.so", copy);
  std::string message = refusal(loader_.load(copy.string(), PluginKind::kEngine).status(), copy);
  EXPECT_NE(message.find("outside the plugin directories"), std::string::npos) << message;
  EXPECT_FALSE(is_mapped(copy)) << "a refused file must not have been loaded";
}

TEST_F(PluginLoaderTest, RefusesEscapesByDotDotAndSymlink) {
  TempDir root;
  fs::create_directory(root.path() / "plugins");
  fs::create_directory(root.path() / "elsewhere");
  fs::path outside = root.path() / "elsewhere" / "tessera_engine_memory.so";
  fs::copy_file(kPluginDir / "tessera_engine_memory.so", outside);
  fs::create_symlink(outside, root.path() / "plugins" / "tessera_engine_link.so");
  PluginLoader loader({root.path() / "plugins"});

  fs::path dotdot = root.path() / "plugins" / ".." / "elsewhere" / "tessera_engine_memory.so";
  refusal(loader.load(dotdot.string(), PluginKind::kEngine).status(), outside);
  fs::path link = root.path() / "plugins" / "tessera_engine_link.so";
  refusal(loader.load(link.string(), PluginKind::kEngine).status(), outside);
  // A directory whose name only starts like the plugin directory is outside too.
  fs::create_directory(root.path() / "plugins-old");
  fs::copy_file(outside, root.path() / "plugins-old" / "tessera_engine_memory.so");
  fs::path sibling = root.path() / "plugins-old" / "tessera_engine_memory.so";
  refusal(loader.load(sibling.string(), PluginKind::kEngine).status(), sibling);
}

TEST_F(PluginLoaderTest, LoadsMemoryEngineByNameAndByPath) {
  Result<LoadedPlugin> loaded = loader_.load("memory", PluginKind::kEngine);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded->file, fs::canonical(kPluginDir) / "tessera_engine_memory.so");
  EXPECT_STREQ(loaded->descriptor->name, "memory");
  EXPECT_EQ(loaded->descriptor->kind, PluginKind::kEngine);
  EXPECT_EQ(loaded->descriptor->abi_version, kPluginAbiVersion);

  Result<PluginPtr<Engine>> engine = make_engine(kPluginDir / "tessera_engine_memory.so");
  ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
  ASSERT_TRUE((*engine)->put(WriteOptions{}, "k", "v").is_ok());
  Result<std::optional<Bytes>> value = (*engine)->get(ReadOptions{}, "k");
  ASSERT_TRUE(value.is_ok());
  EXPECT_EQ(*value, "v");
}

TEST_F(PluginLoaderTest, ShortNameSearchesDirectoriesInOrder) {
  // The broken-plugin folder holds no memory engine, so the name resolves to the real one even
  // when that folder comes first; a name only the second folder has is found there.
  PluginLoader loader({kBrokenPluginDir, kPluginDir});
  Result<LoadedPlugin> memory = loader.load("memory", PluginKind::kEngine);
  ASSERT_TRUE(memory.is_ok()) << memory.status().to_string();
  EXPECT_EQ(memory->file.parent_path(), fs::canonical(kPluginDir));
  Status abi = loader.load("bad_abi", PluginKind::kEngine).status();
  EXPECT_NE(abi.message().find(fs::canonical(kBrokenPluginDir).string()), std::string::npos)
      << abi.message();
}

TEST_F(PluginLoaderTest, ConfigKeysReachTheFactory) {
  fs::path file = broken("engine", "config_keys");
  auto config = parse_config("[engine]\ngreeting = \"hi\"\nrepeat = 2\n");
  Result<ConfigSection> section = config->root().section("engine");
  ASSERT_TRUE(section.is_ok());
  Result<PluginPtr<Engine>> engine = make_engine(file, *section);
  ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
  EXPECT_EQ(*(*engine)->get(ReadOptions{}, "any"), "hihi");

  Result<PluginPtr<Engine>> defaults = make_engine(file);
  ASSERT_TRUE(defaults.is_ok()) << defaults.status().to_string();
  EXPECT_EQ(*(*defaults)->get(ReadOptions{}, "any"), "hello");
}

TEST_F(PluginLoaderTest, FactoryRejectsABadValueNamingTheKey) {
  fs::path file = broken("engine", "config_keys");
  auto config = parse_config("[engine]\nrepeat = 7\n");
  Status status = make_engine(file, *config->root().section("engine")).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(file.string()), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("loader_test.toml:2:10: engine.repeat: 7 is outside [1, 3]"),
            std::string::npos)
      << status.message();
}

TEST_F(PluginLoaderTest, ObjectKeepsItsLibraryLoaded) {
  fs::path file = fs::canonical(broken("engine", "config_keys"));
  ASSERT_FALSE(is_mapped(file)) << "no other test may hold this library";
  PluginPtr<Engine> engine;
  {
    PluginLoader loader({kBrokenPluginDir});
    Result<PluginPtr<Engine>> made = loader.make_engine("config_keys", context_, {});
    ASSERT_TRUE(made.is_ok()) << made.status().to_string();
    engine = std::move(made).value();
  }
  // The loader and its LoadedPlugin are gone; the engine alone holds the library.
  EXPECT_TRUE(is_mapped(file));
  EXPECT_EQ(*engine->get(ReadOptions{}, "k"), "hello") << "the engine's code is still there";
  engine.reset();
  EXPECT_FALSE(is_mapped(file)) << "the library goes with its last object";
}

TEST(PluginKindName, NamesEveryKind) {
  EXPECT_EQ(plugin_kind_name(PluginKind::kEngine), "engine");
  EXPECT_EQ(plugin_kind_name(PluginKind::kPlacement), "placement");
  EXPECT_EQ(plugin_kind_name(PluginKind::kConflict), "conflict");
  EXPECT_EQ(plugin_kind_name(PluginKind::kMembership), "membership");
}

}  // namespace
}  // namespace tessera
