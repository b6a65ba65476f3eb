// An engine plugin that declares config keys. Its factory validates them, and its engine answers
// every get with the configured greeting, so a test can see what the factory was given.
#include "tessera/engine.h"
#include "tessera/plugin.h"

namespace {

class GreetingEngine : public tessera::Engine {
 public:
  explicit GreetingEngine(std::string greeting) : greeting_(std::move(greeting)) {}

  tessera::Result<std::optional<tessera::Bytes>> get(const tessera::ReadOptions&,
                                                     tessera::ByteView) override {
    return std::optional<tessera::Bytes>(greeting_);
  }
  tessera::Status write(const tessera::WriteOptions&, const tessera::WriteBatch&) override {
    return tessera::Status::not_supported("read-only");
  }
  std::unique_ptr<tessera::Iterator> new_iterator(const tessera::IteratorOptions&) override {
    return nullptr;
  }
  std::unique_ptr<tessera::Snapshot> snapshot() override { return nullptr; }
  tessera::Status sync() override { return tessera::Status::ok(); }
  void sync_async(tessera::SyncCallback done) override { done(tessera::Status::ok()); }
  tessera::Result<uint64_t> approximate_size(tessera::ByteView, tessera::ByteView) override {
    return uint64_t{0};
  }
  tessera::EngineStats stats() override { return {}; }

 private:
  std::string greeting_;
};

tessera::Result<std::unique_ptr<tessera::Engine>> make_engine(
    const tessera::PluginContext&, const tessera::ConfigSection& config) noexcept {
  TESSERA_ASSIGN_OR_RETURN(std::string greeting, config.get_string("greeting", "hello"));
  TESSERA_ASSIGN_OR_RETURN(int64_t repeat, config.get_int("repeat", 1, 1, 3));
  std::string text;
  for (int64_t i = 0; i < repeat; ++i) text += greeting;
  return std::unique_ptr<tessera::Engine>(std::make_unique<GreetingEngine>(text));
}

const tessera::ConfigKeySpec config_keys[] = {
    {"greeting", "what every get returns"},
    {"repeat", "how many times, 1 to 3"},
};

const tessera::PluginDescriptor descriptor{
    .abi_version = tessera::kPluginAbiVersion,
    .kind = tessera::PluginKind::kEngine,
    .name = "config_keys",
    .version = "0.0.1",
    .description = "declares the keys greeting and repeat",
    .config_keys = config_keys,
    .config_key_count = std::size(config_keys),
    .make_engine = make_engine,
};

}  // namespace

TESSERA_EXPORT_PLUGIN(descriptor)
