// The multi-group seed sweep: 3 nodes x 8 groups (odd seeds) and 5 nodes with 8 groups on
// random 3-node subsets (even seeds), every fault on: crashes, torn log writes (a prefix of an
// iteration's records survives), partitions both ways and one-way, drops, duplicates,
// reordering, pauses, clock drift, failing log read-backs; asynchronous apply with state
// machines that persist only now and then (restarts replay the log); compaction every few
// dozen entries, so lagging followers catch up by snapshot. Invariants after every step; then
// the faults stop and every group must serve clients again (liveness); then each group's
// history must be linearizable.
// TESSERA_SEED=<n> replays one seed; TESSERA_SEED_FIRST / TESSERA_SEEDS pick a range;
// TESSERA_STEPS sets the run length.
#include <gtest/gtest.h>

#include <cstdio>

#include "multi_cluster.h"
#include "tessera/sim/seeds.h"

namespace tessera::raft::multi_sim {
namespace {

// After the faults stop, every group must complete this many more client operations.
constexpr size_t kRecoveryOpsPerGroup = 3;
constexpr uint64_t kRecoveryStepsMax = 60'000;

MultiOptions sweep_options(uint64_t seed) {
  MultiOptions o = default_multi_options();
  if (seed % 2 == 0) {
    o.nodes = 5;
    o.replicas_per_group = 3;
    o.faults.crashed_max = 2;
  }
  // Every fourth seed is a storm: slow lossy links, short election timeouts, tiny appends,
  // frequent crashes.
  if (seed % 4 == 3) {
    o.link = sim::LinkConfig{1, 30, 0.06, 0.03, 0.1, 80};
    o.raft.election_ticks = 5;
    o.raft.entries_per_append_max = 1 + seed % 3;
    o.raft.inflight_appends_max = 1 + seed % 4;
    o.faults.crash = 0.003;
    o.faults.restart = 0.03;
  }
  return o;
}

TEST(MultiSweep, EveryFaultEverySeed) {
  const uint64_t steps = sim::env_u64("TESSERA_STEPS", 20'000);
  const std::vector<uint64_t> seeds = sim::seeds_from_env(10);
  MultiStats total;
  size_t completed = 0;
  size_t failures = 0;
  for (uint64_t seed : seeds) {
    MultiCluster cluster(seed, sweep_options(seed));
    sim::RunResult result = cluster.run(steps);
    if (!result.ok) {
      ADD_FAILURE() << result.message;
      if (++failures >= 5) break;
      continue;
    }
    cluster.quiesce();
    std::map<GroupId, size_t> before;
    for (const auto& [g, info] : cluster.groups()) before[g] = cluster.completed_ops(g);
    result = cluster.run_until(kRecoveryStepsMax, [&] {
      for (const auto& [g, n] : before) {
        if (cluster.completed_ops(g) < n + kRecoveryOpsPerGroup) return false;
      }
      return true;
    });
    if (!result.ok) {
      ADD_FAILURE() << result.message << " (liveness: after the faults stopped)\n"
                    << cluster.describe();
      if (++failures >= 5) break;
      continue;
    }
    const std::string history = cluster.check_history();
    if (!history.empty()) {
      ADD_FAILURE() << "TESSERA_SEED=" << seed << " step=" << result.step << ": " << history;
      if (++failures >= 5) break;
      continue;
    }
    const MultiStats& s = cluster.stats();
    total.iterations += s.iterations;
    total.syncs += s.syncs;
    total.batches += s.batches;
    total.messages += s.messages;
    total.torn_writes += s.torn_writes;
    total.snapshots_sent += s.snapshots_sent;
    total.snapshots_restored += s.snapshots_restored;
    total.replayed += s.replayed;
    total.compactions += s.compactions;
    total.reads_served += s.reads_served;
    total.writes_acked += s.writes_acked;
    total.crashes += s.crashes;
    completed += cluster.completed_ops();
  }
  std::printf("multi sweep: %zu seeds x %llu steps, %zu client ops completed\n", seeds.size(),
              static_cast<unsigned long long>(steps), completed);
  std::printf(
      "multi sweep: %llu iterations, %llu syncs, %llu batches, %llu messages, %llu crashes, "
      "%llu torn writes, %llu compactions, %llu snapshots sent, %llu restored, %llu entries "
      "replayed, %llu reads served, %llu writes acked\n",
      static_cast<unsigned long long>(total.iterations),
      static_cast<unsigned long long>(total.syncs), static_cast<unsigned long long>(total.batches),
      static_cast<unsigned long long>(total.messages),
      static_cast<unsigned long long>(total.crashes),
      static_cast<unsigned long long>(total.torn_writes),
      static_cast<unsigned long long>(total.compactions),
      static_cast<unsigned long long>(total.snapshots_sent),
      static_cast<unsigned long long>(total.snapshots_restored),
      static_cast<unsigned long long>(total.replayed),
      static_cast<unsigned long long>(total.reads_served),
      static_cast<unsigned long long>(total.writes_acked));
  EXPECT_GT(completed, seeds.size() * 20);
}

}  // namespace
}  // namespace tessera::raft::multi_sim
