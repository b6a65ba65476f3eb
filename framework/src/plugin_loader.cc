#include "tessera/plugin_loader.h"

#include <dlfcn.h>

#include <boost/dll/shared_library.hpp>

#include "tessera/conflict.h"
#include "tessera/engine.h"
#include "tessera/membership.h"
#include "tessera/placement.h"

namespace tessera {
namespace fs = std::filesystem;

std::string_view plugin_kind_name(PluginKind kind) {
  switch (kind) {
    case PluginKind::kEngine: return "engine";
    case PluginKind::kPlacement: return "placement";
    case PluginKind::kConflict: return "conflict";
    case PluginKind::kMembership: return "membership";
  }
  return "unknown";
}

namespace {

bool is_inside(const fs::path& file, const fs::path& dir) {
  auto [dir_end, file_it] = std::mismatch(dir.begin(), dir.end(), file.begin(), file.end());
  return dir_end == dir.end();
}

// Why the dynamic loader refuses `file` ("undefined symbol: ...", "invalid ELF header"). Boost.DLL
// clears dlerror() and reports only "bad file descriptor", so ask the loader once more.
std::string load_failure_reason(const fs::path& file) {
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle != nullptr) {
    dlclose(handle);
    return "it loads on a second try";
  }
  const char* reason = dlerror();
  return reason != nullptr ? reason : "no reason given";
}

}  // namespace

PluginLoader::PluginLoader(std::vector<fs::path> plugin_dirs) {
  for (const fs::path& dir : plugin_dirs) {
    std::error_code error;
    fs::path canonical = fs::canonical(dir, error);
    if (!error && fs::is_directory(canonical)) dirs_.push_back(canonical);
  }
}

bool is_plugin_path(std::string_view name_or_path) {
  return name_or_path.find('/') != std::string_view::npos ||
         fs::path(name_or_path).extension() == ".so";
}

Result<fs::path> PluginLoader::resolve(std::string_view name_or_path, PluginKind kind) const {
  std::string text(name_or_path);
  if (text.empty()) return Status::invalid_argument("empty plugin name");
  std::string dirs_list;
  for (const fs::path& dir : dirs_) dirs_list += (dirs_list.empty() ? "" : ", ") + dir.string();
  if (dirs_list.empty()) dirs_list = "none that exist";

  if (!is_plugin_path(text)) {
    std::string file_name =
        "tessera_" + std::string(plugin_kind_name(kind)) + "_" + text + ".so";
    for (const fs::path& dir : dirs_) {
      if (fs::exists(dir / file_name)) return dir / file_name;
    }
    return Status::not_found("plugin file " + file_name + " not found in the plugin directories (" +
                             dirs_list + ")");
  }
  std::error_code error;
  fs::path canonical = fs::canonical(text, error);
  if (error) return Status::not_found("plugin file " + text + " not found");
  for (const fs::path& dir : dirs_) {
    if (is_inside(canonical, dir)) return canonical;
  }
  return Status::invalid_argument("plugin file " + canonical.string() +
                                  " is outside the plugin directories (" + dirs_list + ")");
}

Result<LoadedPlugin> PluginLoader::load(std::string_view name_or_path, PluginKind kind) const {
  TESSERA_ASSIGN_OR_RETURN(fs::path file, resolve(name_or_path, kind));
  const std::string name = "plugin file " + file.string();
  auto library = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code error;
  library->load(file.string(), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local,
                error);
  if (error) {
    return Status::invalid_argument(name + " cannot be loaded: " + load_failure_reason(file));
  }
  if (!library->has(kPluginDescriptorSymbol)) {
    return Status::invalid_argument(name + " exports no " + kPluginDescriptorSymbol +
                                    " (is it a Tessera plugin?)");
  }
  const auto& descriptor = library->get_alias<const PluginDescriptor>(kPluginDescriptorSymbol);
  if (descriptor.abi_version != kPluginAbiVersion) {
    return Status::invalid_argument(name + " was built for plugin ABI version " +
                                    std::to_string(descriptor.abi_version) +
                                    ", this host speaks version " +
                                    std::to_string(kPluginAbiVersion));
  }
  // The messages below and every caller print these fields; a null one would crash the host.
  if (descriptor.name == nullptr || descriptor.version == nullptr ||
      (descriptor.config_key_count > 0 && descriptor.config_keys == nullptr)) {
    return Status::invalid_argument(
        name + " has an incomplete descriptor (no name, version or config keys)");
  }
  if (descriptor.kind != kind) {
    return Status::invalid_argument(
        name + " is a " + std::string(plugin_kind_name(descriptor.kind)) + " plugin (" +
        descriptor.name + "); this slot takes " + std::string(plugin_kind_name(kind)) + " plugins");
  }
  return LoadedPlugin{std::move(library), &descriptor, std::move(file)};
}

template <typename T, typename Factory>
Result<PluginPtr<T>> PluginLoader::make(std::string_view plugin, PluginKind kind,
                                        Factory PluginDescriptor::*factory,
                                        const PluginContext& context,
                                        const ConfigSection& config) const {
  TESSERA_ASSIGN_OR_RETURN(LoadedPlugin loaded, load(plugin, kind));
  const PluginDescriptor& descriptor = *loaded.descriptor;
  const std::string name = "plugin file " + loaded.file.string();
  Factory make_object = descriptor.*factory;
  if (make_object == nullptr) {
    return Status::invalid_argument(name + " declares kind " +
                                    std::string(plugin_kind_name(kind)) + " but has no factory");
  }
  std::vector<std::string_view> known;
  for (size_t i = 0; i < descriptor.config_key_count; ++i) {
    known.push_back(descriptor.config_keys[i].name);
  }
  Status keys = config.check_known_keys(known);
  if (!keys.is_ok()) return keys.with_context(name);
  Result<std::unique_ptr<T>> made = make_object(context, config);
  // The plugin loaded; what failed is the plugin's own start (its data, its config values).
  if (!made.is_ok()) {
    return made.status().with_context(std::string(plugin_kind_name(kind)) + " plugin \"" +
                                      descriptor.name + "\" (" + loaded.file.string() +
                                      ") could not start");
  }
  TESSERA_ASSERT(made.value() != nullptr, "a plugin factory returned OK and no object");
  return PluginPtr<T>(std::move(made).value().release(), PluginDeleter<T>{loaded.library});
}

Result<PluginPtr<Engine>> PluginLoader::make_engine(std::string_view plugin,
                                                    const PluginContext& context,
                                                    const ConfigSection& config) const {
  return make<Engine>(plugin, PluginKind::kEngine, &PluginDescriptor::make_engine, context,
                      config);
}

Result<PluginPtr<Placement>> PluginLoader::make_placement(std::string_view plugin,
                                                          const PluginContext& context,
                                                          const ConfigSection& config) const {
  return make<Placement>(plugin, PluginKind::kPlacement, &PluginDescriptor::make_placement,
                         context, config);
}

Result<PluginPtr<Conflict>> PluginLoader::make_conflict(std::string_view plugin,
                                                        const PluginContext& context,
                                                        const ConfigSection& config) const {
  return make<Conflict>(plugin, PluginKind::kConflict, &PluginDescriptor::make_conflict, context,
                        config);
}

Result<PluginPtr<Membership>> PluginLoader::make_membership(std::string_view plugin,
                                                            const PluginContext& context,
                                                            const ConfigSection& config) const {
  return make<Membership>(plugin, PluginKind::kMembership, &PluginDescriptor::make_membership,
                          context, config);
}

}  // namespace tessera
