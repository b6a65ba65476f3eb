// tessera_raft_log_store_bench: synced write() calls of the shared raft log beside the raw
// fdatasync rate of the same directory.
//
//   tessera_raft_log_store_bench [--dir=<dir>] [--calls=<n>]
// Prints, for 1 and 8 groups x 4 entries of 100 bytes per call: calls/s, entries/s, p50/p99
// latency, fsyncs and write syscalls per call; and 8 groups without zero fill.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "log_store/log_store.h"

namespace {

using namespace tessera::raftlog;
using Clock = std::chrono::steady_clock;

double raw_fdatasync_per_second(const fs::path& dir, int n) {
  fs::path path = dir / "raw_sync_probe";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return 0;
  char block[4096] = {};
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (::pwrite(fd, block, sizeof(block), static_cast<off_t>(i) * 4096) < 0) break;
    if (::fdatasync(fd) != 0) break;
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  fs::remove(path);
  return n / seconds;
}

void run(const fs::path& dir, GroupId groups, int calls, uint64_t zero_fill_chunk_bytes) {
  fs::remove_all(dir);
  LogStoreOptions options;
  options.dir = dir;
  options.zero_fill_chunk_bytes = zero_fill_chunk_bytes;
  auto store = std::move(LogStore::open(options)).value();
  std::vector<GroupWrite> creates;
  for (GroupId g = 1; g <= groups; ++g) {
    GroupWrite w;
    w.group = g;
    w.create = "g" + std::to_string(g);
    creates.push_back(w);
  }
  if (!store->write(creates).is_ok()) return;
  const LogStoreStats before = store->stats();
  std::vector<double> latencies_us;
  auto start = Clock::now();
  for (int call = 0; call < calls; ++call) {
    std::vector<std::vector<Entry>> batches(groups);
    std::vector<GroupWrite> writes;
    for (GroupId g = 1; g <= groups; ++g) {
      Index next = *store->last_index(g) + 1;
      for (Index i = 0; i < 4; ++i)
        batches[g - 1].push_back({1, next + i, {}, std::string(100, 'x')});
      GroupWrite w;
      w.group = g;
      w.entries = batches[g - 1];
      w.hard_state = HardState{1, 1, next + 3};
      writes.push_back(w);
    }
    auto t0 = Clock::now();
    if (!store->write(writes).is_ok()) return;
    latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const LogStoreStats after = store->stats();
  store.reset();
  auto reopen_start = Clock::now();
  auto reopened = LogStore::open(options);
  double reopen_seconds = std::chrono::duration<double>(Clock::now() - reopen_start).count();
  if (!reopened.is_ok()) return;
  std::sort(latencies_us.begin(), latencies_us.end());
  std::printf(
      "%2llu groups x 4 x 100 B, zero fill %7llu: %7.0f calls/s %9.0f entries/s  p50 %7.1f us  p99 "
      "%7.1f us  "
      "fsyncs/call %.2f  writes/call %.2f\n",
      static_cast<unsigned long long>(groups),
      static_cast<unsigned long long>(zero_fill_chunk_bytes), calls / seconds,
      calls * groups * 4 / seconds, latencies_us[latencies_us.size() / 2],
      latencies_us[latencies_us.size() * 99 / 100], double(after.fsyncs - before.fsyncs) / calls,
      double(after.write_syscalls - before.write_syscalls) / calls);
  std::printf("   reopen: %llu records, %.1f MB in %.1f ms (%.0f MB/s)\n",
              static_cast<unsigned long long>((*reopened)->stats().recovered_records),
              after.bytes_written / 1e6, reopen_seconds * 1e3,
              after.bytes_written / 1e6 / reopen_seconds);
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = fs::temp_directory_path() / "tessera_raft_log_bench";
  int calls = 2000;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--dir=", 6) == 0) dir = argv[i] + 6;
    if (std::strncmp(argv[i], "--calls=", 8) == 0) calls = std::atoi(argv[i] + 8);
  }
  fs::create_directories(dir);
  std::printf("raw 4 KiB pwrite+fdatasync in %s: %.0f /s\n", dir.c_str(),
              raw_fdatasync_per_second(dir, calls));
  run(dir / "log", 1, calls, 1 << 20);
  run(dir / "log", 8, calls, 1 << 20);
  run(dir / "log", 8, calls, 0);  // every fdatasync also commits the growing file's size
  fs::remove_all(dir / "log");
  return 0;
}
