#include "tessera/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tessera {
namespace {

const toml::table* as_table(const void* p) { return static_cast<const toml::table*>(p); }

std::string position(const toml::source_region& source) {
  return std::to_string(source.begin.line) + ":" + std::to_string(source.begin.column);
}

}  // namespace

struct ConfigFile::Document {
  toml::table table;
  std::string name;
  std::filesystem::path dir;
};

ConfigFile::ConfigFile(std::unique_ptr<Document> document) : document_(std::move(document)) {}
ConfigFile::~ConfigFile() = default;

Result<std::unique_ptr<ConfigFile>> ConfigFile::load(const std::filesystem::path& file) {
  std::error_code error;
  // A directory opens and reads as no bytes, which would parse as a config of defaults only.
  if (std::filesystem::is_directory(file, error)) {
    return Status::invalid_argument("config file " + file.string() + " is a directory");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    const int reason = errno;  // of the failed open
    if (!std::filesystem::exists(file, error)) {
      return Status::not_found("config file " + file.string() + " does not exist");
    }
    return Status::io_error("config file " + file.string() + " cannot be read: " +
                            std::strerror(reason));
  }
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::io_error("config file " + file.string() + " cannot be read");
  auto dir = std::filesystem::absolute(file).parent_path();
  return parse(text.str(), file.string(), dir);
}

Result<std::unique_ptr<ConfigFile>> ConfigFile::parse(std::string_view text, std::string name,
                                                      std::filesystem::path dir) {
  // toml++ is built with exceptions here; the parse error stops at this function.
  auto document = std::make_unique<Document>();
  try {
    document->table = toml::parse(text, name);
  } catch (const toml::parse_error& error) {
    return Status::invalid_argument(name + ":" + position(error.source()) + ": " +
                                    std::string(error.description()));
  }
  document->name = std::move(name);
  document->dir = std::move(dir);
  return std::unique_ptr<ConfigFile>(new ConfigFile(std::move(document)));
}

ConfigSection ConfigFile::root() const {
  return ConfigSection(&document_->table, document_->name, "", document_->dir);
}

std::vector<std::string> ConfigSection::keys() const {
  std::vector<std::string> out;
  if (table_ == nullptr) return out;
  for (const auto& [key, node] : *as_table(table_)) out.emplace_back(key.str());
  return out;
}

bool ConfigSection::has(std::string_view key) const {
  return table_ != nullptr && as_table(table_)->contains(key);
}

std::string ConfigSection::dotted(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  if (key.empty()) return path_;
  return path_ + "." + std::string(key);
}

std::string ConfigSection::where(std::string_view key) const {
  std::string at = file_;
  if (table_ != nullptr) {
    const toml::node* node = key.empty() ? as_table(table_) : as_table(table_)->get(key);
    if (node != nullptr && node->source().begin.line != 0) at += ":" + position(node->source());
  }
  return at + ": " + dotted(key);
}

Status ConfigSection::type_error(std::string_view key, std::string_view expected) const {
  return Status::invalid_argument(where(key) + ": expected " + std::string(expected));
}

Result<std::string> ConfigSection::get_string(std::string_view key, std::string fallback) const {
  if (!has(key)) return fallback;
  auto value = as_table(table_)->get(key)->value<std::string>();
  if (!value) return type_error(key, "a string");
  return *value;
}

Result<int64_t> ConfigSection::get_int(std::string_view key, int64_t fallback, int64_t min,
                                       int64_t max) const {
  if (!has(key)) return fallback;
  const toml::node* node = as_table(table_)->get(key);
  if (!node->is_integer()) return type_error(key, "an integer");
  int64_t value = node->as_integer()->get();
  if (value < min || value > max) {
    return Status::invalid_argument(where(key) + ": " + std::to_string(value) +
                                    " is outside [" + std::to_string(min) + ", " +
                                    std::to_string(max) + "]");
  }
  return value;
}

Result<bool> ConfigSection::get_bool(std::string_view key, bool fallback) const {
  if (!has(key)) return fallback;
  const toml::node* node = as_table(table_)->get(key);
  if (!node->is_boolean()) return type_error(key, "true or false");
  return node->as_boolean()->get();
}

Result<double> ConfigSection::get_double(std::string_view key, double fallback) const {
  if (!has(key)) return fallback;
  auto value = as_table(table_)->get(key)->value<double>();  // integers convert too
  if (!value) return type_error(key, "a number");
  return *value;
}

Result<std::vector<std::string>> ConfigSection::get_string_list(std::string_view key) const {
  std::vector<std::string> out;
  if (!has(key)) return out;
  const toml::array* array = as_table(table_)->get(key)->as_array();
  if (array == nullptr) return type_error(key, "an array of strings");
  for (const toml::node& element : *array) {
    auto value = element.value<std::string>();
    if (!value) return type_error(key, "an array of strings");
    out.push_back(*value);
  }
  return out;
}

Result<std::filesystem::path> ConfigSection::get_path(std::string_view key,
                                                      std::filesystem::path fallback) const {
  if (!has(key)) return fallback.empty() ? fallback : resolve(fallback.string());
  TESSERA_ASSIGN_OR_RETURN(std::string text, get_string(key, ""));
  if (text.empty()) return type_error(key, "a non-empty path");
  return resolve(text);
}

Result<std::vector<std::filesystem::path>> ConfigSection::get_path_list(
    std::string_view key) const {
  TESSERA_ASSIGN_OR_RETURN(std::vector<std::string> texts, get_string_list(key));
  std::vector<std::filesystem::path> paths;
  for (const std::string& text : texts) {
    if (text.empty()) return type_error(key, "an array of non-empty paths");
    paths.push_back(resolve(text));
  }
  return paths;
}

std::filesystem::path ConfigSection::resolve(std::string_view text) const {
  std::filesystem::path path(text);
  if (path.is_relative()) path = dir_ / path;
  return path.lexically_normal();
}

Result<ConfigSection> ConfigSection::section(std::string_view key) const {
  std::string path = dotted(key);
  if (!has(key)) return ConfigSection(nullptr, file_, path, dir_);
  const toml::table* table = as_table(table_)->get(key)->as_table();
  if (table == nullptr) return type_error(key, "a table");
  return ConfigSection(table, file_, path, dir_);
}

Status ConfigSection::check_known_keys(std::span<const std::string_view> known) const {
  for (const std::string& key : keys()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return Status::invalid_argument(where(key) + ": unknown key (known here: " +
                                      (list.empty() ? "none" : list) + ")");
    }
  }
  return Status::ok();
}

}  // namespace tessera
