#include "engine_fixture.h"

#include <stdlib.h>

#include <cstdio>

namespace tessera::conformance {
namespace fs = std::filesystem;

namespace {

ConformanceOptions& mutable_options() {
  static ConformanceOptions options;
  return options;
}

}  // namespace

const ConformanceOptions& conformance_options() { return mutable_options(); }

void set_conformance_options(ConformanceOptions options) { mutable_options() = std::move(options); }

KeyValues expected_scan(const Model& model, const ScanSpec& spec) {
  KeyValues out;
  auto it = spec.start ? model.lower_bound(*spec.start) : model.begin();
  for (; it != model.end() && out.size() < spec.limit; ++it) {
    if (spec.upper_bound && it->first >= *spec.upper_bound) break;
    out.emplace_back(it->first, it->second);
  }
  return out;
}

std::string printable(ByteView bytes, size_t max_bytes) {
  std::string out = "\"";
  for (size_t i = 0; i < bytes.size() && i < max_bytes; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
      out.push_back(static_cast<char>(c));
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    }
  }
  out += "\"";
  if (bytes.size() > max_bytes) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

std::string printable(const KeyValues& entries) {
  constexpr size_t kShownMax = 16;
  std::string out = "{";
  for (size_t i = 0; i < entries.size() && i < kShownMax; ++i) {
    out += (i == 0 ? "" : ", ") + printable(entries[i].first) + ": " +
           printable(entries[i].second, 16);
  }
  if (entries.size() > kShownMax) out += ", ... " + std::to_string(entries.size()) + " entries";
  return out + "}";
}

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "tessera-engine-XXXXXX").string();
  TESSERA_ASSERT(mkdtemp(pattern.data()) != nullptr, "cannot make a temporary directory");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

Result<PluginPtr<Engine>> open_engine(const fs::path& data_dir,
                                      std::unique_ptr<ConfigFile>* config) {
  const ConformanceOptions& options = conformance_options();
  ConfigSection section;
  if (!options.plugin_config.empty()) {
    if (*config == nullptr) {
      Result<std::unique_ptr<ConfigFile>> file = ConfigFile::load(options.plugin_config);
      if (!file.is_ok()) return file.status();
      *config = std::move(file).value();
    }
    section = (*config)->root();
  }
  PluginLoader loader({options.plugin.parent_path()});
  PluginContext context{.node_id = "conformance", .data_dir = data_dir};
  return loader.make_engine(options.plugin.string(), context, section);
}

Status check_engine_opens() {
  TempDir dir;
  std::unique_ptr<ConfigFile> config;
  Result<PluginPtr<Engine>> engine = open_engine(dir.path(), &config);
  return engine.is_ok() ? Status::ok() : engine.status();
}

Status EngineTest::open() {
  Result<PluginPtr<Engine>> engine = open_engine(dir_->path(), &config_);
  if (!engine.is_ok()) return engine.status();
  engine_ = std::move(engine).value();
  return Status::ok();
}

void EngineTest::SetUp() {
  dir_ = std::make_unique<TempDir>();
  Status status = open();
  ASSERT_TRUE(status.is_ok()) << status.to_string();
}

void EngineTest::TearDown() {
  engine_.reset();  // before the directory goes
  dir_.reset();
}

void EngineTest::reopen() {
  engine_.reset();
  Status status = open();
  ASSERT_TRUE(status.is_ok()) << "reopen: " << status.to_string();
}

void EngineTest::put(ByteView key, ByteView value) {
  Status status = engine_->put(WriteOptions{}, key, value);
  EXPECT_TRUE(status.is_ok()) << "put " << printable(key) << ": " << status.to_string();
}

void EngineTest::del(ByteView key) {
  Status status = engine_->del(WriteOptions{}, key);
  EXPECT_TRUE(status.is_ok()) << "delete " << printable(key) << ": " << status.to_string();
}

void EngineTest::write(const WriteBatch& batch, bool sync) {
  Status status = engine_->write(WriteOptions{.sync = sync}, batch);
  EXPECT_TRUE(status.is_ok()) << "write of " << batch.count() << " ops: " << status.to_string();
}

std::optional<Bytes> EngineTest::get(ByteView key, const Snapshot* snapshot) {
  Result<std::optional<Bytes>> value = engine_->get(ReadOptions{.snapshot = snapshot}, key);
  EXPECT_TRUE(value.is_ok()) << "get " << printable(key) << ": " << value.status().to_string();
  return value.is_ok() ? std::move(value).value() : std::nullopt;
}

KeyValues EngineTest::scan(const ScanSpec& spec) {
  std::unique_ptr<Iterator> it = engine_->new_iterator(
      IteratorOptions{.snapshot = spec.snapshot, .upper_bound = spec.upper_bound});
  EXPECT_NE(it, nullptr);
  if (it == nullptr) return {};
  if (spec.start) {
    it->seek(*spec.start);
  } else {
    it->seek_to_first();
  }
  return drain(*it, spec.limit);
}

KeyValues drain(Iterator& it, size_t limit) {
  KeyValues out;
  while (out.size() < limit && it.valid()) {
    if (!out.empty() && !(out.back().first < it.key())) {
      ADD_FAILURE() << "iterator went from " << printable(out.back().first) << " to "
                    << printable(it.key()) << ": keys must strictly increase";
      return out;
    }
    out.emplace_back(Bytes(it.key()), Bytes(it.value()));
    it.next();
  }
  EXPECT_TRUE(it.status().is_ok()) << "iterator: " << it.status().to_string();
  return out;
}

}  // namespace tessera::conformance
