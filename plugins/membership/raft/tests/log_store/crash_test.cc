// tessera_raft_log_store_crash_test: SIGKILL a process writing the shared raft log at random
// moments and check what survives.
//
// Each cycle forks and execs this binary with --child: it opens the log in one directory
// (sometimes killed while it recovers), writes synced batches of 1-4 entries for each of 8
// groups, compacts now and then (so that segments roll and are deleted under the kills), and
// after every write returns reports each group's last index through a pipe. The parent kills
// it, reopens the log and checks, per group: every acknowledged index is present, every entry
// from the first to the last index reads back with exactly the bytes written (checksums
// verified on the way), and the hard state never runs ahead of the entries it was written with.
// One seed drives the run; it is printed as TESSERA_SEED=<n> and read back from the environment
// variable TESSERA_SEED. TESSERA_CRASH_CYCLES sets the number of kills (default 30).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "test_util.h"

namespace tessera::raftlog {
namespace {

using namespace testing;

constexpr GroupId kGroups = 8;
constexpr size_t kDataSpread = 300;
// The child stops by itself after this long or this many writes (the parent kills it first).
constexpr auto kChildLifetimeMax = std::chrono::seconds(60);
constexpr int kChildWritesMax = 1000000;

LogStoreOptions crash_options(const fs::path& dir) {
  LogStoreOptions o;
  o.dir = dir;
  o.segment_bytes = 64 << 10;
  o.zero_fill_chunk_bytes = 16 << 10;
  o.cache_bytes_max = 256 << 10;
  return o;
}

std::string flag(int argc, char** argv, const std::string& name) {
  std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return argv[i] + prefix.size();
  }
  return "";
}

void report(int fd, const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(3);
    p += n;
    left -= static_cast<size_t>(n);
  }
}

int run_child(int argc, char** argv) {
  const fs::path dir = flag(argc, argv, "dir");
  const uint64_t seed = std::stoull(flag(argc, argv, "seed"));
  const Term term = std::stoull(flag(argc, argv, "term"));
  const int fd = std::stoi(flag(argc, argv, "report-fd"));
  auto opened = LogStore::open(crash_options(dir));
  if (!opened.is_ok()) {
    std::fprintf(stderr, "child: open: %s\n", opened.status().to_string().c_str());
    return 2;
  }
  LogStore& store = **opened;
  std::vector<GroupWrite> creates;
  for (GroupId g = 1; g <= kGroups; ++g) {
    if (!store.contains(g)) creates.push_back(create_write(g, "group-" + std::to_string(g)));
  }
  if (Status s = store.write(creates); !s.is_ok()) {
    std::fprintf(stderr, "child: create: %s\n", s.to_string().c_str());
    return 2;
  }
  report(fd, "open\n");
  std::mt19937_64 rng(seed ^ (term * 0x9E3779B97F4A7C15ull));
  const auto deadline = std::chrono::steady_clock::now() + kChildLifetimeMax;
  for (int round = 0; round < kChildWritesMax && std::chrono::steady_clock::now() < deadline;
       ++round) {
    std::vector<std::vector<Entry>> batches(kGroups);
    std::vector<GroupWrite> writes;
    for (GroupId g = 1; g <= kGroups; ++g) {
      if (rng() % 8 == 0) continue;  // not every group has something every iteration
      Index next = *store.last_index(g) + 1;
      batches[g - 1] = make_entries(g, next, 1 + rng() % 4, term, 0, kDataSpread);
      GroupWrite w = entries_write(g, batches[g - 1]);
      w.hard_state = HardState{term, g, batches[g - 1].back().index};
      writes.push_back(w);
    }
    if (Status s = store.write(writes); !s.is_ok()) {
      std::fprintf(stderr, "child: write: %s\n", s.to_string().c_str());
      return 2;
    }
    std::string lines;
    for (const GroupWrite& w : writes) {
      lines += std::to_string(w.group) + " " + std::to_string(w.entries.back().index) + "\n";
    }
    report(fd, lines);
    if (rng() % 16 == 0) {
      for (GroupId g = 1; g <= kGroups; ++g) {
        Index last = *store.last_index(g);
        Index keep = rng() % 64;
        if (last > keep) (void)store.compact(g, last - keep, ConfState{{1, 2, 3}, {}});
      }
    }
    if (rng() % 64 == 0) (void)store.collect_garbage();
  }
  return 0;
}

// Reads what is there on fd into *buffer, waiting up to timeout_ms. False at end of file.
bool read_some(int fd, std::string* buffer, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return true;
  char chunk[4096];
  ssize_t n = ::read(fd, chunk, sizeof(chunk));
  if (n <= 0) return false;
  buffer->append(chunk, static_cast<size_t>(n));
  return true;
}

// Runs one child until a random moment, kills it, and raises acked[g] to what it reported.
void run_cycle(const fs::path& dir, uint64_t seed, Term term, std::mt19937_64& rng,
               std::vector<Index>* acked) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(fds[1], 3);  // the report fd, kept across exec
    std::vector<std::string> args = {"/proc/self/exe",
                                     "--child",
                                     "--dir=" + dir.string(),
                                     "--seed=" + std::to_string(seed),
                                     "--term=" + std::to_string(term),
                                     "--report-fd=3"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string reported;
  if (rng() % 4 == 0) {
    // Early: often before or during the child's recovery.
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
  } else {
    auto started = std::chrono::steady_clock::now();
    while (reported.find("open\n") == std::string::npos &&
           std::chrono::steady_clock::now() - started < std::chrono::seconds(20)) {
      if (!read_some(fds[0], &reported, 100)) break;
    }
    auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(rng() % 150000);
    while (std::chrono::steady_clock::now() < until) read_some(fds[0], &reported, 5);
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  while (read_some(fds[0], &reported, 1000)) {
  }
  ::close(fds[0]);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child ended by itself (status " << status << ")";
  size_t pos = 0;
  while (pos < reported.size()) {
    size_t end = reported.find('\n', pos);
    if (end == std::string::npos) break;  // a line cut by the kill
    std::string line = reported.substr(pos, end - pos);
    pos = end + 1;
    if (line == "open") continue;
    size_t space = line.find(' ');
    GroupId g = std::stoull(line.substr(0, space));
    Index i = std::stoull(line.substr(space + 1));
    ASSERT_TRUE(g >= 1 && g <= kGroups) << line;
    (*acked)[g] = std::max((*acked)[g], i);
  }
}

// Reopens the log and checks it against what was acknowledged.
void verify(const fs::path& dir, const std::vector<Index>& acked, int cycle) {
  auto opened = LogStore::open(crash_options(dir));
  ASSERT_TRUE(opened.is_ok()) << "cycle " << cycle << ": " << opened.status().to_string();
  LogStore& store = **opened;
  for (GroupId g = 1; g <= kGroups; ++g) {
    if (acked[g] == 0 && !store.contains(g)) continue;  // killed before the groups were created
    ASSERT_TRUE(store.contains(g)) << "cycle " << cycle << ": group " << g << " lost";
    const Index first = *store.first_index(g);
    const Index last = *store.last_index(g);
    ASSERT_GE(last, acked[g]) << "cycle " << cycle << ": group " << g
                              << " lost acknowledged entries";
    ASSERT_LE(store.hard_state(g)->commit, last) << "cycle " << cycle << ": group " << g;
    for (Index i = first; i <= last;) {
      auto got = store.entries(g, i, last + 1, 1 << 20);
      ASSERT_TRUE(got.is_ok()) << "cycle " << cycle << ": " << got.status().to_string();
      for (const Entry& e : *got) {
        ASSERT_EQ(e.index, i);
        ASSERT_EQ(e.data, entry_data(g, i, 0, kDataSpread))
            << "cycle " << cycle << ": group " << g << " entry " << i << " torn or wrong";
        ++i;
      }
    }
  }
}

TEST(LogStoreCrash, AcknowledgedEntriesSurviveSigkillAndNothingTornIsVisible) {
  uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("TESSERA_SEED")) seed = std::stoull(s);
  int cycles = 30;
  if (const char* s = std::getenv("TESSERA_CRASH_CYCLES")) cycles = std::stoi(s);
  std::printf("TESSERA_SEED=%llu cycles=%d\n", static_cast<unsigned long long>(seed), cycles);
  SCOPED_TRACE("TESSERA_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  TempDir dir;
  std::vector<Index> acked(kGroups + 1, 0);
  uint64_t segments_now = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    run_cycle(dir.path(), seed, static_cast<Term>(cycle + 1), rng, &acked);
    if (HasFatalFailure()) return;
    verify(dir.path(), acked, cycle);
    if (HasFatalFailure()) return;
    segments_now = segment_files(dir.path()).size();
  }
  Index total = 0;
  for (Index a : acked) total += a;
  std::printf("acknowledged entries (highest index summed over groups): %llu, segments now: %llu\n",
              static_cast<unsigned long long>(total),
              static_cast<unsigned long long>(segments_now));
  EXPECT_GT(total, 0u);
}

}  // namespace
}  // namespace tessera::raftlog

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--child") == 0) return tessera::raftlog::run_child(argc, argv);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
