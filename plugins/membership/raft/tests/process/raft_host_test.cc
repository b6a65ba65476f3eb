// Multi-process tests of the raft plugin: three `tessera-raft-host` processes on loopback, each
// running the plugin's groups with a key-value state machine on the lsm engine, driven through
// the client library while nodes are SIGKILLed and restarted. Every acknowledged put must be
// found afterwards, with its value.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "history_recording.h"
#include "tessera/client.h"
#include "test_cluster.h"

namespace tessera {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::filesystem::path kHostBinary = TESSERA_RAFT_HOST_BINARY;
const std::filesystem::path kBenchBinary = TESSERA_BENCH_BINARY;

// {{groups}} and {{compact}} are filled in by host_config().
constexpr const char* kHostConfig = R"(
[node]
id = "{{id}}"
listen = "{{listen}}"
data_dir = "{{data_dir}}"

[engine]
plugin = "lsm"

[membership]
plugin = "raft"

[membership.config]
tick_ms = 50
election_ticks = 10
compact_entries_min = COMPACT

[raft_host]
groups = GROUPS
sync_every_entries = 128
timeout_ms = 3000
peers = ["n1={{addr:0}}", "n2={{addr:1}}", "n3={{addr:2}}"]
)";

std::string host_config(int groups, int compact) {
  std::string text = kHostConfig;
  text.replace(text.find("GROUPS"), 6, std::to_string(groups));
  text.replace(text.find("COMPACT"), 7, std::to_string(compact));
  return text;
}

test::TestCluster::Options cluster_options(int groups, int compact) {
  test::TestCluster::Options options;
  options.node_binary = kHostBinary;
  options.ready_program = "tessera-raft-host";
  options.config_template = host_config(groups, compact);
  return options;
}

// Starts three hosts; every node's address must be known before the first config is written.
void start_three(test::TestCluster& cluster) {
  for (int i = 0; i < 3; ++i) cluster.add_node();
  for (size_t i = 0; i < 3; ++i)
    ASSERT_TRUE(cluster.start_node(i).is_ok()) << cluster.describe_logs();
}

// Writers that put unique keys through whichever node accepts them, and remember what was
// acknowledged. A put that fails in any way (not leader, timeout, a dead connection) moves
// the writer to the next node; its key may or may not have been applied.
class Writers {
 public:
  Writers(test::TestCluster& cluster, int threads) : cluster_(cluster) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, t]() { run(t); });
    }
  }
  ~Writers() { stop(); }

  void stop() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  // Acknowledged puts so far, and the node the last one went through.
  size_t acked() const {
    std::lock_guard lock(mu_);
    return acked_.size();
  }
  size_t last_node() const { return last_node_.load(); }
  Clock::time_point last_ack() const {
    std::lock_guard lock(mu_);
    return last_ack_;
  }
  std::map<std::string, std::string> acknowledged() const {
    std::lock_guard lock(mu_);
    return acked_;
  }

 private:
  static constexpr int kOpsMax = 200000;

  void run(int t) {
    std::vector<std::unique_ptr<Client>> clients(cluster_.size());
    size_t node = static_cast<size_t>(t) % cluster_.size();
    for (int i = 0; i < kOpsMax && !stop_; ++i) {
      const std::string key = "w" + std::to_string(t) + "-" + std::to_string(i);
      const std::string value = "value-" + key;
      if (clients[node] == nullptr) {
        auto c = Client::connect(cluster_.address(node), 500);
        if (!c.is_ok()) {
          node = (node + 1) % cluster_.size();
          std::this_thread::sleep_for(20ms);
          continue;
        }
        clients[node] = std::move(c).value();
      }
      RequestOptions options;
      options.timeout_ms = 2000;
      Result<Bytes> put = clients[node]->put("t", key, value, options);
      if (put.is_ok()) {
        std::lock_guard lock(mu_);
        acked_[key] = value;
        last_ack_ = Clock::now();
        last_node_ = node;
        continue;
      }
      if (put.status().code() == StatusCode::kUnavailable) clients[node].reset();
      node = (node + 1) % cluster_.size();
      if (put.status().code() != StatusCode::kNotLeader) std::this_thread::sleep_for(10ms);
    }
  }

  test::TestCluster& cluster_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::map<std::string, std::string> acked_;
  Clock::time_point last_ack_;
  std::atomic<size_t> last_node_{0};
};

// Waits until `pred` holds, at most `timeout`.
template <typename Pred>
bool eventually(std::chrono::milliseconds timeout, Pred pred) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

// Every acknowledged key, read from `node` (linearizable through the leader when `stale` is
// false: any node then, retried until one answers). Returns the keys missing or wrong.
std::vector<std::string> check_keys(test::TestCluster& cluster,
                                    const std::map<std::string, std::string>& keys,
                                    std::optional<size_t> stale_node) {
  std::vector<std::unique_ptr<Client>> clients(cluster.size());
  std::vector<std::string> bad;
  size_t node = stale_node.value_or(0);
  for (const auto& [key, value] : keys) {
    bool answered = false;
    // Up to 10 s per key (a group may be electing); a pause only after every node was asked.
    const auto deadline = Clock::now() + 10s;
    for (size_t attempt = 1; !answered && Clock::now() < deadline; ++attempt) {
      if (clients[node] == nullptr) {
        auto c = Client::connect(cluster.address(node), 500);
        if (c.is_ok()) clients[node] = std::move(c).value();
      }
      if (clients[node] != nullptr) {
        RequestOptions options;
        options.timeout_ms = 2000;
        if (stale_node) options.consistency = Consistency::kStale;
        Result<GetReply> got = clients[node]->get("t", key, options);
        if (got.is_ok()) {
          answered = true;
          if (!got->found || got->values.empty() || got->values[0].data != value) {
            bad.push_back(key);
          }
          continue;
        }
        if (got.status().code() == StatusCode::kUnavailable) clients[node].reset();
      }
      if (!stale_node) node = (node + 1) % cluster.size();
      if (stale_node || attempt % cluster.size() == 0) std::this_thread::sleep_for(20ms);
    }
    if (!answered) bad.push_back(key + " (no answer)");
    if (bad.size() > 20) break;
  }
  return bad;
}

TEST(RaftHost, LeaderKilledUnderLoadLosesNothingAndTheNodeCatchesUpBySnapshot) {
  test::TestCluster cluster(cluster_options(/*groups=*/1, /*compact=*/256));
  start_three(cluster);
  Writers writers(cluster, 4);
  ASSERT_TRUE(eventually(10s, [&]() { return writers.acked() > 500; }))
      << "no progress before the kill: " << writers.acked() << "\n"
      << cluster.describe_logs();

  const size_t leader = writers.last_node();
  const size_t before_kill = writers.acked();
  cluster.kill_node(leader);
  const auto killed_at = Clock::now();
  ASSERT_TRUE(eventually(10s, [&]() { return writers.last_ack() > killed_at; }))
      << cluster.describe_logs();
  const auto failover = writers.last_ack() - killed_at;
  EXPECT_LT(failover, 2s) << "no new leader within 2 s after kill -9 of the leader";

  // Enough writes while the node is down that the others truncate their logs past it.
  const size_t target = writers.acked() + 3000;
  ASSERT_TRUE(eventually(30s, [&]() { return writers.acked() > target; }))
      << cluster.describe_logs();
  ASSERT_TRUE(cluster.start_node(leader).is_ok()) << cluster.describe_logs();
  ASSERT_TRUE(eventually(5s, [&]() { return writers.acked() > target + 500; }));
  writers.stop();
  const std::map<std::string, std::string> acked = writers.acknowledged();
  ASSERT_GT(acked.size(), before_kill);

  const std::vector<std::string> lost = check_keys(cluster, acked, std::nullopt);
  EXPECT_TRUE(lost.empty()) << lost.size() << " acknowledged keys missing, first " << lost[0];

  // The restarted node has every acknowledged key itself, read from its own copy.
  std::vector<std::string> behind;
  EXPECT_TRUE(eventually(20s,
                         [&]() {
                           behind = check_keys(cluster, acked, leader);
                           return behind.empty();
                         }))
      << "the restarted node lacks " << behind.size() << " keys, first " << behind[0];
  const std::string out = test::read_file(cluster.node_dir(leader) / "stdout.log");
  EXPECT_NE(out.find("restored a snapshot"), std::string::npos)
      << "the restarted node caught up without a snapshot:\n"
      << out;
  std::printf("acknowledged %zu puts, failover %lld ms\n", acked.size(),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(failover).count()));
}

TEST(RaftHost, EveryNodeKilledAndRestartedRecoversEverything) {
  test::TestCluster cluster(cluster_options(/*groups=*/4, /*compact=*/1024));
  start_three(cluster);
  Writers writers(cluster, 4);
  ASSERT_TRUE(eventually(15s, [&]() { return writers.acked() > 2000; })) << cluster.describe_logs();
  for (size_t i = 0; i < 3; ++i) cluster.kill_node(i);
  writers.stop();
  const std::map<std::string, std::string> acked = writers.acknowledged();
  for (size_t i = 0; i < 3; ++i)
    ASSERT_TRUE(cluster.start_node(i).is_ok()) << cluster.describe_logs();
  const std::vector<std::string> lost = check_keys(cluster, acked, std::nullopt);
  EXPECT_TRUE(lost.empty()) << lost.size() << " acknowledged keys missing, first " << lost[0];
}

// Records a history with `tessera-bench client --history` for 6 s over all three nodes
// (connections to followers are answered NotLeader), calls `fault(leader)` 2 s in, and checks
// it key by key: every get returns the last write linearized before it, whatever the failover
// did.
template <typename Fault>
void check_history_across(test::TestCluster& cluster, Fault fault) {
  size_t leader = 0;
  {
    Writers probe(cluster, 1);
    ASSERT_TRUE(eventually(10s, [&]() { return probe.acked() > 20; })) << cluster.describe_logs();
    probe.stop();
    leader = probe.last_node();
  }
  history::RecordingOptions options;
  options.bench_binary = kBenchBinary;
  for (size_t i = 0; i < cluster.size(); ++i) options.addresses.push_back(cluster.address(i));
  options.dir = cluster.root();
  Result<history::RecordedHistory> recorded =
      history::record_history(options, [&]() { fault(leader); });
  ASSERT_TRUE(recorded.is_ok()) << recorded.status().to_string();
  const history::RecordedHistory& h = recorded.value();
  std::printf("%llu operations on %llu keys, %llu answered successes, %llu unknown outcomes\n",
              static_cast<unsigned long long>(h.report.operations),
              static_cast<unsigned long long>(h.report.keys),
              static_cast<unsigned long long>(h.acknowledged),
              static_cast<unsigned long long>(h.unknown));
  EXPECT_GT(h.report.operations, 1000u) << h.tool_output;
  EXPECT_EQ(h.report.violations, 0u) << h.report.first_violation;
  EXPECT_EQ(h.report.inconclusive, 0u);
  // Puts were acknowledged in the history's last third: a new leader answered, so the check
  // covered the failover.
  EXPECT_TRUE(h.put_acknowledged_late) << "nothing was acknowledged after the fault";
}

TEST(RaftHost, HistoryAcrossALeaderKillIsLinearizable) {
  test::TestCluster cluster(cluster_options(/*groups=*/1, /*compact=*/1024));
  start_three(cluster);
  check_history_across(cluster, [&](size_t leader) { cluster.kill_node(leader); });
}

// The old leader, stopped for 2.5 s (longer than an election) and then continued, still
// believes it leads for a moment: it must neither acknowledge a write nor serve a read that
// the new leader's history contradicts.
TEST(RaftHost, HistoryAcrossAPausedLeaderIsLinearizable) {
  test::TestCluster cluster(cluster_options(/*groups=*/1, /*compact=*/1024));
  start_three(cluster);
  check_history_across(cluster, [&](size_t leader) {
    ASSERT_TRUE(cluster.pause_node(leader).is_ok());
    std::this_thread::sleep_for(2500ms);
    ASSERT_TRUE(cluster.resume_node(leader).is_ok());
  });
}

}  // namespace
}  // namespace tessera
