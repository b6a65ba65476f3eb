// The engine conformance suite: what every engine plugin must pass, unchanged.
//
// The suite tests one plugin file per run, named on the command line (see conformance_main.cc).
// Every test gets a fresh engine on a fresh temporary data directory; `reopen()` destroys the
// engine and opens a new one on the same directory, which only durable engines (run with
// --durable) are asked to survive.
//
// Helpers fail the running test on a non-OK Status and keep going with an empty result, so one
// broken operation reports once and the test stops at its next ASSERT.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tessera/config.h"
#include "tessera/engine.h"
#include "tessera/plugin_loader.h"

namespace tessera::conformance {

struct ConformanceOptions {
  std::filesystem::path plugin;         // the engine plugin file under test
  std::filesystem::path plugin_config;  // TOML file whose root is the engine's config section
  bool durable = false;                 // the engine promises that synced data survives reopen
};

// The options of this run. Set once by main() before any test runs.
const ConformanceOptions& conformance_options();
void set_conformance_options(ConformanceOptions options);

// Makes an engine of the plugin under test on `data_dir`, with the run's config file (loaded
// into *config on first use; the engine's config section borrows from it).
Result<PluginPtr<Engine>> open_engine(const std::filesystem::path& data_dir,
                                      std::unique_ptr<ConfigFile>* config);

// Makes and drops one engine on a scratch directory: OK when the plugin and its config work.
Status check_engine_opens();

// The reference model every engine is compared with: std::string compares as unsigned char,
// which is the engines' byte-wise order.
using Model = std::map<Bytes, Bytes>;
using KeyValues = std::vector<std::pair<Bytes, Bytes>>;

// One forward scan: [start, upper_bound), at most `limit` entries; the limit is the caller's,
// as a server applies it to a page.
struct ScanSpec {
  std::optional<Bytes> start = std::nullopt;  // nullopt: seek_to_first()
  std::optional<Bytes> upper_bound = std::nullopt;
  size_t limit = SIZE_MAX;
  const Snapshot* snapshot = nullptr;
};

// What `spec` must return from an engine whose contents are `model`.
KeyValues expected_scan(const Model& model, const ScanSpec& spec);

// Short printable form of a key or value for failure messages: escapes non-printable bytes and
// cuts long ones, so that a 1 MiB value does not flood the log.
std::string printable(ByteView bytes, size_t max_bytes = 48);
std::string printable(const KeyValues& entries);

// A directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Destroys the engine and opens a new one on the same data directory.
  // REQUIRES: no snapshot or iterator of the current engine is alive.
  void reopen();

  Engine& engine() { return *engine_; }
  bool durable() const { return conformance_options().durable; }

  void put(ByteView key, ByteView value);
  void del(ByteView key);
  void write(const WriteBatch& batch, bool sync = false);
  std::optional<Bytes> get(ByteView key, const Snapshot* snapshot = nullptr);
  KeyValues scan(const ScanSpec& spec);

 private:
  Status open();

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ConfigFile> config_;
  PluginPtr<Engine> engine_;
};

// Collects what `it` yields from its current position: at most `limit` entries. Fails the test
// if the iterator reports an error or yields keys out of order.
KeyValues drain(Iterator& it, size_t limit = SIZE_MAX);

}  // namespace tessera::conformance
