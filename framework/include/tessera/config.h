// ConfigSection: read-only, typed access to one table of a TOML config file.
//
// Every error names the file, the line and the full dotted key ("single.toml:12:3: engine.
// options.memtable_bytes: expected an integer"), so that a user can fix the file without
// guessing. Unknown keys are errors: each reader of a section lists the keys it knows and calls
// check_known_keys().
//
// A ConfigSection borrows from the ConfigFile it came from: the file must outlive it.
// Thread-safety: read-only after construction; safe to share.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/status.h"

namespace tessera {

class ConfigFile;

class ConfigSection {
 public:
  // An empty section: every key is absent, so every getter returns its default.
  ConfigSection() = default;

  // "engine.options"; empty for the root.
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  bool empty() const { return keys().empty(); }

  std::vector<std::string> keys() const;
  bool has(std::string_view key) const;

  // Each getter returns the value of `key`, or `fallback` when the key is absent, or
  // InvalidArgument when it is present with the wrong type or outside [min, max].
  Result<std::string> get_string(std::string_view key, std::string fallback) const;
  Result<int64_t> get_int(std::string_view key, int64_t fallback, int64_t min = INT64_MIN,
                          int64_t max = INT64_MAX) const;
  Result<bool> get_bool(std::string_view key, bool fallback) const;
  Result<double> get_double(std::string_view key, double fallback) const;
  Result<std::vector<std::string>> get_string_list(std::string_view key) const;
  // A path value; a relative path (the fallback's too) is taken relative to the config file's
  // folder.
  Result<std::filesystem::path> get_path(std::string_view key,
                                         std::filesystem::path fallback) const;
  // An array of paths, each resolved like get_path(); empty when absent.
  Result<std::vector<std::filesystem::path>> get_path_list(std::string_view key) const;

  // The sub-table at `key` (empty when absent; InvalidArgument when `key` is not a table).
  Result<ConfigSection> section(std::string_view key) const;

  // InvalidArgument naming the first key of this section that is not in `known`.
  Status check_known_keys(std::span<const std::string_view> known) const;

  // "file:line:column: dotted.key" for messages about `key` (or about the section).
  std::string where(std::string_view key = {}) const;

 private:
  friend class ConfigFile;
  ConfigSection(const void* table, std::string file, std::string path, std::filesystem::path dir)
      : table_(table), file_(std::move(file)), path_(std::move(path)), dir_(std::move(dir)) {}

  Status type_error(std::string_view key, std::string_view expected) const;
  // `text` as a path, relative ones taken from the config file's folder.
  std::filesystem::path resolve(std::string_view text) const;
  std::string dotted(std::string_view key) const;

  const void* table_ = nullptr;  // const toml::table*, owned by the ConfigFile
  std::string file_;
  std::string path_;
  std::filesystem::path dir_;
};

// A parsed TOML file. Owns the document that its sections borrow.
class ConfigFile {
 public:
  // InvalidArgument with file, line and column when the file does not parse, or when it is a
  // directory; NotFound when it does not exist; IOError, with the reason, when it cannot be read.
  static Result<std::unique_ptr<ConfigFile>> load(const std::filesystem::path& file);
  // Parses `text` as if it were the file `name` (for tests and embedded defaults).
  static Result<std::unique_ptr<ConfigFile>> parse(std::string_view text, std::string name,
                                                   std::filesystem::path dir = ".");
  ~ConfigFile();

  ConfigSection root() const;

 private:
  struct Document;
  explicit ConfigFile(std::unique_ptr<Document> document);
  std::unique_ptr<Document> document_;
};

}  // namespace tessera
