// The seed sweep: many seeds, each a long run of a 5-server group with every fault on (crashes
// that lose unpersisted state, crashes halfway through a write, partitions both ways and
// one-way, drops, duplicates, reordering, pauses, clock drift), random leadership transfers and
// membership changes, snapshots every 64 entries, clients writing and reading through
// ReadIndex, cores that keep few or no persisted entries in memory and read the disk back
// (with read errors), state machines whose durability lags their apply (a restart replays), and
// leaders that send appends before their own write (and sometimes die in between). Invariants after
// every step; then the faults stop and the group must serve clients again (liveness);
// linearizability at the end. TESSERA_SEED=<n> replays one seed; TESSERA_SEED_FIRST / TESSERA_SEEDS
// pick a range; TESSERA_STEPS sets the run length.
#include <gtest/gtest.h>

#include <cstdio>

#include "harness/cluster.h"
#include "tessera/sim/seeds.h"

namespace tessera::raft::sim_harness {
namespace {

// After the faults stop, this many more client operations must complete within the bound.
constexpr size_t kRecoveryOps = 20;
constexpr uint64_t kRecoveryStepsMax = 50'000;

ClusterOptions sweep_options(uint64_t seed) {
  ClusterOptions o = default_fault_options();
  // Every other seed is a storm: slow links against short election timeouts, frequent crashes,
  // so that terms change while entries are half replicated (the ground Figure 8 grows on).
  if (seed % 2 == 0 && sim::env_u64("TESSERA_NO_STORM", 0) == 0) {
    o.link = sim::LinkConfig{1, 30, 0.05, 0.03, 0.1, 80};
    o.raft.election_ticks = 4;
    o.faults.crash = 0.006;
    o.faults.restart = 0.03;
    o.faults.crashed_max = 2;
    // Tiny appends: a follower then acknowledges an old-term entry without the new leader's
    // no-op, which is exactly when counting replicas of old entries would go wrong.
    o.raft.entries_per_append_max = 1 + seed % 3;
    o.raft.inflight_appends_max = 1 + seed % 4;
  }
  o.transfer_chance = 0.002;
  o.membership_chance = 0.004;
  // Bounded memory: a third of the seeds keep no persisted entry in the core (every append to
  // a follower and every apply reads the disk back), a third a few entries, a third plenty.
  // Reads fail now and then: the core must skip and retry, never stall or crash.
  const size_t caches[] = {0, 2048, 8 << 20};
  o.raft.entry_cache_bytes_max = caches[(seed / 2) % 3];
  o.storage_read_error = 0.01;
  // Leaders send appends before their own write; some die right after.
  o.early_crash = seed % 2 == 0 ? 0.003 : 0.001;
  // Knobs for narrowing a failure down: switch a feature off without editing the test.
  if (sim::env_u64("TESSERA_NO_MEMBERSHIP", 0) != 0) o.membership_chance = 0.0;
  if (sim::env_u64("TESSERA_NO_TRANSFER", 0) != 0) o.transfer_chance = 0.0;
  if (sim::env_u64("TESSERA_NO_COMPACTION", 0) != 0) o.compact_every = 0;
  if (sim::env_u64("TESSERA_NO_PAUSE", 0) != 0) o.faults.pause = 0.0;
  if (sim::env_u64("TESSERA_NO_DRIFT", 0) != 0) o.faults.drift = 0.0;
  if (sim::env_u64("TESSERA_NO_READ_ERRORS", 0) != 0) o.storage_read_error = 0.0;
  if (sim::env_u64("TESSERA_NO_EARLY_CRASH", 0) != 0) o.early_crash = 0.0;
  return o;
}

TEST(RaftSweep, EveryFaultEverySeed) {
  const uint64_t steps = sim::env_u64("TESSERA_STEPS", 10'000);
  const std::vector<uint64_t> seeds = sim::seeds_from_env(20);
  uint64_t completed = 0;
  uint64_t committed = 0;
  ClusterStats total;
  size_t failures = 0;
  for (uint64_t seed : seeds) {
    Cluster cluster(seed, sweep_options(seed));
    sim::RunResult result = cluster.run(steps);
    if (!result.ok) {
      ADD_FAILURE() << result.message;
      if (++failures >= 5) break;
      continue;
    }
    // Liveness: once the faults stop, the group must elect a leader and serve clients again.
    cluster.quiesce();
    const size_t before = cluster.completed_ops();
    result = cluster.run_until(kRecoveryStepsMax,
                               [&] { return cluster.completed_ops() >= before + kRecoveryOps; });
    if (!result.ok) {
      ADD_FAILURE() << result.message << " (liveness: after the faults stopped)";
      if (++failures >= 5) break;
      continue;
    }
    const std::string history = cluster.check_history();
    if (!history.empty()) {
      ADD_FAILURE() << "TESSERA_SEED=" << seed << " step=" << result.step << ": " << history;
      if (++failures >= 5) break;
      continue;
    }
    if (seeds.size() == 1) {
      const auto& net = cluster.sim().net().stats();
      std::printf("seed %llu: time %llu, leader %llu, sent %llu dropped %llu dup %llu\n",
                  static_cast<unsigned long long>(seed),
                  static_cast<unsigned long long>(cluster.sim().now()),
                  static_cast<unsigned long long>(cluster.leader()),
                  static_cast<unsigned long long>(net.sent),
                  static_cast<unsigned long long>(net.dropped),
                  static_cast<unsigned long long>(net.duplicated));
    }
    completed += cluster.completed_ops();
    total.snapshots_installed += cluster.stats().snapshots_installed;
    total.reads_served += cluster.stats().reads_served;
    total.writes_acked += cluster.stats().writes_acked;
    total.transfers_requested += cluster.stats().transfers_requested;
    total.conf_changes_proposed += cluster.stats().conf_changes_proposed;
    total.torn_writes += cluster.stats().torn_writes;
    total.early_messages += cluster.stats().early_messages;
    total.early_crashes += cluster.stats().early_crashes;
    total.replayed += cluster.stats().replayed;
    total.storage_reads += cluster.stats().storage_reads;
    total.storage_read_errors += cluster.stats().storage_read_errors;
    total.images_sent += cluster.stats().images_sent;
    committed += cluster.checker().commit_max();
  }
  std::printf("sweep: %zu seeds x %llu steps, %llu client ops completed, %llu entries committed\n",
              seeds.size(), static_cast<unsigned long long>(steps),
              static_cast<unsigned long long>(completed),
              static_cast<unsigned long long>(committed));
  std::printf(
      "sweep: %llu snapshots installed, %llu reads served, %llu writes acked, "
      "%llu transfers, %llu membership changes proposed, %llu torn writes\n",
      static_cast<unsigned long long>(total.snapshots_installed),
      static_cast<unsigned long long>(total.reads_served),
      static_cast<unsigned long long>(total.writes_acked),
      static_cast<unsigned long long>(total.transfers_requested),
      static_cast<unsigned long long>(total.conf_changes_proposed),
      static_cast<unsigned long long>(total.torn_writes));
  std::printf(
      "sweep: %llu early messages, %llu crashes after sending them, %llu entries replayed after "
      "restarts, %llu storage reads (%llu failed), %llu images sent\n",
      static_cast<unsigned long long>(total.early_messages),
      static_cast<unsigned long long>(total.early_crashes),
      static_cast<unsigned long long>(total.replayed),
      static_cast<unsigned long long>(total.storage_reads),
      static_cast<unsigned long long>(total.storage_read_errors),
      static_cast<unsigned long long>(total.images_sent));
  // A run where nothing ever commits proves nothing: insist on progress overall, and on the
  // features the sweep claims to exercise (over enough seeds for each to come up).
  EXPECT_GT(completed, seeds.size() * 10);
  if (seeds.size() >= 20 && steps >= 10'000) {
    EXPECT_GT(total.snapshots_installed, 0u);
    EXPECT_GT(total.storage_reads, 0u);
    EXPECT_GT(total.storage_read_errors, 0u);
    EXPECT_GT(total.replayed, 0u);
    EXPECT_GT(total.early_messages, 0u);
    EXPECT_GT(total.early_crashes, 0u);
  }
}

// Replaying a seed replays the run: same commits, same history, same traffic, same clock.
TEST(RaftSweep, SameSeedSameRun) {
  auto fingerprint = [](uint64_t seed) {
    Cluster cluster(seed, sweep_options(seed));
    sim::RunResult result = cluster.run(20'000);
    EXPECT_TRUE(result.ok) << result.message;
    uint64_t chain = 0;
    cluster.checker().committed_chain(cluster.checker().commit_max(), &chain);
    return std::to_string(chain) + "/" + std::to_string(cluster.history().size()) + "/" +
           std::to_string(cluster.sim().net().stats().sent) + "/" +
           std::to_string(cluster.sim().now());
  };
  EXPECT_EQ(fingerprint(7), fingerprint(7));
  EXPECT_EQ(fingerprint(8), fingerprint(8));
  EXPECT_NE(fingerprint(7), fingerprint(8));
}

}  // namespace
}  // namespace tessera::raft::sim_harness
