// tessera_raft_log_store_crash_test: SIGKILL a process writing the shared raft log at random
// moments and check what survives, exactly.
//
// Each cycle forks and execs this binary with --child: it opens the log in one directory
// (sometimes killed while it recovers), then loops: for most of 8 groups it appends 1-4
// entries, or overwrites the last few (the truncation rule), with the cycle number as term;
// it reports the write it is about to make ("i <group> <first> <count>" lines), makes it with
// one synced write(), and reports the acknowledgement ("a"). Now and then it compacts and
// collects garbage, so segments roll, are deleted and small logs are rewritten under the
// kills. The parent keeps the exact model of every group's log from the acknowledged writes;
// after the kill it reopens the log and checks, per group, that the log above its start point
// is exactly the model, or the model plus that group's part of the one write in flight (a
// write is a record per group, each whole or absent): every acknowledged entry is present, no
// entry is torn (every byte read back and compared, checksums verified on the way), nothing
// that was never written appears. One seed drives the run; it is printed as TESSERA_SEED=<n>
// and read back from the environment variable TESSERA_SEED. TESSERA_CRASH_CYCLES sets the
// number of kills (default 30).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
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

// The bytes of entry (group, index) written in term `term`.
std::string crash_data(GroupId g, Index i, Term term) {
  return entry_data(g, i, term, kDataSpread);
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
    std::string intent;
    for (GroupId g = 1; g <= kGroups; ++g) {
      if (rng() % 8 == 0) continue;  // not every group has something every iteration
      const Index start = store.start(g)->index;
      const Index last = *store.last_index(g);
      Index first = last + 1;
      if (rng() % 6 == 0) first = std::max(start + 1, last - std::min<Index>(last, rng() % 3));
      const size_t count = 1 + rng() % 4;
      for (size_t k = 0; k < count; ++k) {
        batches[g - 1].push_back({term, first + k, {}, crash_data(g, first + k, term)});
      }
      GroupWrite w = entries_write(g, batches[g - 1]);
      w.hard_state = HardState{term, g, first - 1};
      writes.push_back(w);
      intent += "i " + std::to_string(g) + " " + std::to_string(first) + " " +
                std::to_string(count) + "\n";
    }
    report(fd, intent);
    if (Status s = store.write(writes); !s.is_ok()) {
      std::fprintf(stderr, "child: write: %s\n", s.to_string().c_str());
      return 2;
    }
    report(fd, "a\n");
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

// One group's part of a write: entries [first, first + count) of term `term`, truncating the
// log from first.
struct Run {
  Index first = 0;
  size_t count = 0;
  Term term = 0;
};

// The parent's model: per group, the term of every entry above what it last saw compacted.
struct Model {
  std::vector<std::map<Index, Term>> logs = std::vector<std::map<Index, Term>>(kGroups + 1);
  std::map<GroupId, Run> in_flight;  // the write the child announced and did not acknowledge
  bool created = false;              // the child reported "open": the groups exist

  static void apply(std::map<Index, Term>* log, const Run& run) {
    log->erase(log->lower_bound(run.first), log->end());
    for (size_t k = 0; k < run.count; ++k) (*log)[run.first + k] = run.term;
  }
};

// Runs one child until a random moment, kills it, and updates the model from its reports.
void run_cycle(const fs::path& dir, uint64_t seed, Term term, std::mt19937_64& rng, Model* model) {
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
  model->in_flight.clear();
  size_t pos = 0;
  std::map<GroupId, Run> announced;
  while (pos < reported.size()) {
    size_t end = reported.find('\n', pos);
    if (end == std::string::npos) break;  // a line cut by the kill
    std::istringstream line(reported.substr(pos, end - pos));
    pos = end + 1;
    std::string kind;
    line >> kind;
    if (kind == "open") {
      model->created = true;
    } else if (kind == "i") {
      GroupId g = 0;
      Run run;
      line >> g >> run.first >> run.count;
      run.term = term;
      ASSERT_TRUE(g >= 1 && g <= kGroups);
      announced[g] = run;
    } else if (kind == "a") {
      for (const auto& [g, run] : announced) Model::apply(&model->logs[g], run);
      announced.clear();
    } else {
      FAIL() << "unknown report line " << reported.substr(pos, end - pos);
    }
  }
  // Announced and not acknowledged (the announcement may also be cut short by the kill, but
  // then the write had not started: it follows the announcement's last line).
  model->in_flight = announced;
}

// Whether the log of g above its start is exactly `expected` (above the start).
bool matches(LogStore& store, GroupId g, const std::map<Index, Term>& expected, std::string* why) {
  const Index start = store.start(g)->index;
  const Index last = *store.last_index(g);
  auto above = expected.upper_bound(start);
  const Index expected_last = expected.empty() ? 0 : expected.rbegin()->first;
  if (std::max(expected_last, start) != last) {
    *why = "last index " + std::to_string(last) + ", expected " + std::to_string(expected_last);
    return false;
  }
  for (Index i = start + 1; i <= last;) {
    auto got = store.entries(g, i, last + 1, 1 << 20);
    if (!got.is_ok()) {
      *why = got.status().to_string();
      return false;
    }
    for (const Entry& e : *got) {
      if (above == expected.end() || above->first != i || e.index != i || e.term != above->second ||
          e.data != crash_data(g, i, above->second)) {
        *why = "entry " + std::to_string(i) + " differs (term " + std::to_string(e.term) + ")";
        return false;
      }
      ++above;
      ++i;
    }
  }
  return true;
}

// Reopens the log and checks it against the model; then the model drops what was compacted.
void verify(const fs::path& dir, Model* model, int cycle, int* in_flight_found) {
  auto opened = LogStore::open(crash_options(dir));
  ASSERT_TRUE(opened.is_ok()) << "cycle " << cycle << ": " << opened.status().to_string();
  LogStore& store = **opened;
  for (GroupId g = 1; g <= kGroups; ++g) {
    if (!model->created && !store.contains(g)) continue;  // killed before the groups existed
    ASSERT_TRUE(store.contains(g)) << "cycle " << cycle << ": group " << g << " lost";
    std::map<Index, Term>& log = model->logs[g];
    std::string why;
    bool ok = matches(store, g, log, &why);
    if (!ok && model->in_flight.count(g)) {
      std::map<Index, Term> with_in_flight = log;
      Model::apply(&with_in_flight, model->in_flight[g]);
      std::string why_in_flight;
      ok = matches(store, g, with_in_flight, &why_in_flight);
      if (ok) {
        log = with_in_flight;
        ++*in_flight_found;
      }
      why += "; with the write in flight: " + why_in_flight;
    }
    ASSERT_TRUE(ok) << "cycle " << cycle << ": group " << g << ": " << why;
    HardState hs = *store.hard_state(g);
    ASSERT_EQ(hs.vote, hs.term == 0 ? 0 : g) << "cycle " << cycle;
    log.erase(log.begin(), log.upper_bound(store.start(g)->index));
  }
  model->created = model->created || store.contains(1);
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
  Model model;
  int in_flight_kills = 0;
  int in_flight_found = 0;  // groups whose part of the write in flight was on disk
  for (int cycle = 0; cycle < cycles; ++cycle) {
    run_cycle(dir.path(), seed, static_cast<Term>(cycle + 1), rng, &model);
    if (HasFatalFailure()) return;
    in_flight_kills += model.in_flight.empty() ? 0 : 1;
    verify(dir.path(), &model, cycle, &in_flight_found);
    if (HasFatalFailure()) return;
  }
  Index last = 0;
  for (const auto& log : model.logs) last += log.empty() ? 0 : log.rbegin()->first;
  std::printf(
      "kills during a write: %d of %d (%d group records of it found on disk); last "
      "indexes summed over groups: %llu; segments now: %zu\n",
      in_flight_kills, cycles, in_flight_found, static_cast<unsigned long long>(last),
      segment_files(dir.path()).size());
  EXPECT_GT(last, 0u);
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
