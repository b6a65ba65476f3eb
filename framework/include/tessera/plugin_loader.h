// PluginLoader: finds, loads and checks plugin libraries, and makes objects from them.
//
// A plugin is named in a config either by its short name ("lsm"), resolved to the file
// `tessera_<kind>_<name>.so` in the first plugin directory that has it, or by a path, which must
// lie inside one of the plugin directories. Every refusal is a Status whose message names the
// file and the reason: not found, outside the plugin directories, not loadable, no descriptor,
// wrong ABI version, wrong kind for the slot, no factory, unknown config key.
//
// Objects come back as PluginPtr<T>: a unique_ptr whose deleter keeps the library loaded until
// the object is gone, so code from an unloaded library never runs.
//
// Thread-safety: a PluginLoader is immutable after construction; loads may run concurrently.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/config.h"
#include "tessera/plugin.h"
#include "tessera/status.h"

namespace tessera {

// Deletes the object, then lets go of the library that holds its code. The library goes with the
// object, not with the PluginPtr: a PluginPtr that was reset() pins nothing.
template <typename T>
struct PluginDeleter {
  std::shared_ptr<void> library;
  void operator()(T* object) {
    delete object;
    library.reset();
  }
};

template <typename T>
using PluginPtr = std::unique_ptr<T, PluginDeleter<T>>;

// A loaded, checked plugin library.
struct LoadedPlugin {
  std::shared_ptr<void> library;  // keeps the library mapped
  const PluginDescriptor* descriptor = nullptr;
  std::filesystem::path file;
};

// True when a config names the plugin by a path (it has a '/' or ends in ".so") rather than by
// its short name. A config resolves such a path against its own folder before loading.
bool is_plugin_path(std::string_view name_or_path);

class PluginLoader {
 public:
  // Directories are canonicalized; ones that do not exist are ignored.
  explicit PluginLoader(std::vector<std::filesystem::path> plugin_dirs);

  const std::vector<std::filesystem::path>& plugin_dirs() const { return dirs_; }

  // Resolves `name_or_path` for `kind`, loads it and checks ABI version and kind.
  Result<LoadedPlugin> load(std::string_view name_or_path, PluginKind kind) const;

  // Loads the plugin, checks `config` for keys the plugin does not declare, and calls its
  // factory. Errors from the factory come back with the file named in front.
  Result<PluginPtr<Engine>> make_engine(std::string_view plugin, const PluginContext& context,
                                        const ConfigSection& config) const;
  Result<PluginPtr<Placement>> make_placement(std::string_view plugin,
                                              const PluginContext& context,
                                              const ConfigSection& config) const;
  Result<PluginPtr<Conflict>> make_conflict(std::string_view plugin,
                                            const PluginContext& context,
                                            const ConfigSection& config) const;
  Result<PluginPtr<Membership>> make_membership(std::string_view plugin,
                                                const PluginContext& context,
                                                const ConfigSection& config) const;

 private:
  Result<std::filesystem::path> resolve(std::string_view name_or_path, PluginKind kind) const;

  template <typename T, typename Factory>
  Result<PluginPtr<T>> make(std::string_view plugin, PluginKind kind,
                            Factory PluginDescriptor::*factory, const PluginContext& context,
                            const ConfigSection& config) const;

  std::vector<std::filesystem::path> dirs_;
};

}  // namespace tessera
