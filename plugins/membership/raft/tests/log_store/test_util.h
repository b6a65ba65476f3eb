// Helpers shared by the shared raft log's tests: a scratch directory, entries with bytes
// derived from (group, index, salt) so that any read can be checked, and file surgery.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "log_store/log_store.h"

namespace tessera::raftlog::testing {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("tessera_raft_log_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Deterministic data of entry (group, index): 20..(20 + spread) bytes.
inline std::string entry_data(GroupId group, Index index, uint64_t salt = 0, size_t spread = 200) {
  std::mt19937_64 rng(group * 1000003 + index * 7919 + salt);
  size_t n = 20 + rng() % (spread + 1);
  std::string data(n, '\0');
  for (auto& c : data) c = static_cast<char>('a' + rng() % 26);
  return data;
}

inline std::vector<Entry> make_entries(GroupId group, Index first, size_t count, Term term,
                                       uint64_t salt = 0, size_t spread = 200) {
  std::vector<Entry> out;
  for (size_t i = 0; i < count; ++i) {
    Entry e;
    e.index = first + i;
    e.term = term;
    e.data = entry_data(group, first + i, salt, spread);
    out.push_back(std::move(e));
  }
  return out;
}

inline std::vector<fs::path> segment_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& item : fs::directory_iterator(dir)) {
    uint64_t number = 0;
    if (parse_segment_name(item.path().filename().string(), &number)) out.push_back(item.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::unique_ptr<LogStore> open_store(const LogStoreOptions& options) {
  auto store = LogStore::open(options);
  EXPECT_TRUE(store.is_ok()) << store.status().to_string();
  if (!store.is_ok()) return nullptr;
  return std::move(store).value();
}

inline GroupWrite create_write(GroupId group, std::string name) {
  GroupWrite w;
  w.group = group;
  w.create = std::move(name);
  return w;
}

inline GroupWrite entries_write(GroupId group, const std::vector<Entry>& entries) {
  GroupWrite w;
  w.group = group;
  w.entries = entries;
  return w;
}

}  // namespace tessera::raftlog::testing
