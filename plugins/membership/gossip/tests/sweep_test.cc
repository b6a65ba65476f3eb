// The seed sweep: many seeds, each a run of 5 to 9 gossip nodes with every fault on (drops,
// duplicates, reordering, crashes and restarts, two-sided partitions, one-way cuts, pauses,
// clock drift) and random graceful leaves (a left node may come back through a restart, as a
// rejoin). After every step: completeness, accuracy and leave safety (harness/cluster.h). Then
// the faults stop and every live view must agree within the convergence bound, and stay so.
// TESSERA_SEED=<n> replays one seed; TESSERA_SEED_FIRST / TESSERA_SEEDS pick a range;
// TESSERA_STEPS sets the length of the faulty part of each run.
#include <gtest/gtest.h>

#include <cstdio>

#include "harness/cluster.h"
#include "tessera/sim/seeds.h"

namespace tessera::gossip::sim_harness {
namespace {

constexpr uint64_t kStableTicks = 300;  // views must keep agreeing this long after converging

ClusterOptions sweep_options(uint64_t seed) {
  ClusterOptions o;
  o.nodes = 5 + seed % 5;
  // Small messages make the push-pull windows walk the view over several rounds.
  o.gossip.entries_per_message_max = 3 + seed % 4;
  if (seed % 2 == 1) {
    // Short retention (still above linger + detection): forgotten entries must not come back.
    o.gossip.dead_retention_ticks = 400;
    o.gossip.left_retention_ticks = 400;
  }
  o.link = sim::LinkConfig{1, 10, 0.05, 0.02, 0.05, 50};
  o.faults.crash = 0.0002;
  o.faults.restart = 0.001;
  o.faults.crashed_max = 2;
  o.faults.partition = 0.0001;
  o.faults.one_way = 0.0001;
  o.faults.heal = 0.0005;
  o.faults.pause = 0.00005;
  o.faults.pause_max = 400;
  o.faults.drift = 0.1;
  o.leave_chance = 0.00005;
  if (sim::env_u64("TESSERA_NO_PARTITION", 0) != 0) o.faults.partition = o.faults.one_way = 0;
  if (sim::env_u64("TESSERA_NO_CRASH", 0) != 0) o.faults.crash = 0;
  if (sim::env_u64("TESSERA_NO_LEAVE", 0) != 0) o.leave_chance = 0;
  return o;
}

TEST(GossipSweep, EveryFaultEverySeed) {
  const uint64_t steps = sim::env_u64("TESSERA_STEPS", 60'000);
  const std::vector<uint64_t> seeds = sim::seeds_from_env(20);
  ClusterStats total;
  uint64_t sim_time = 0;
  size_t failures = 0;
  for (uint64_t seed : seeds) {
    Cluster cluster(seed, sweep_options(seed));
    sim::RunResult result = cluster.run(steps);
    if (result.ok) result = cluster.converge(kStableTicks);
    if (!result.ok) {
      ADD_FAILURE() << result.message;
      if (++failures >= 5) break;
      continue;
    }
    const ClusterStats& s = cluster.stats();
    if (seeds.size() == 1) {
      std::printf(
          "seed %llu: %zu nodes, time %llu, %llu messages, %llu dead events, "
          "%llu refutations, %llu leaves, %llu rejoins\n",
          static_cast<unsigned long long>(seed), cluster.size(),
          static_cast<unsigned long long>(cluster.sim().now()),
          static_cast<unsigned long long>(s.messages),
          static_cast<unsigned long long>(s.dead_events),
          static_cast<unsigned long long>(s.refutations), static_cast<unsigned long long>(s.leaves),
          static_cast<unsigned long long>(s.rejoins));
    }
    sim_time += cluster.sim().now();
    total.messages += s.messages;
    total.dead_events += s.dead_events;
    total.forgotten_events += s.forgotten_events;
    total.refutations += s.refutations;
    total.leaves += s.leaves;
    total.rejoins += s.rejoins;
    total.entries_max = std::max(total.entries_max, s.entries_max);
    total.detection_max = std::max(total.detection_max, s.detection_max);
    total.false_dead_max = std::max(total.false_dead_max, s.false_dead_max);
    total.convergence = std::max(total.convergence, s.convergence);
  }
  std::printf("sweep: %zu seeds x %llu steps, %llu time units (%llu ticks of 10)\n", seeds.size(),
              static_cast<unsigned long long>(steps), static_cast<unsigned long long>(sim_time),
              static_cast<unsigned long long>(sim_time / 10));
  std::printf(
      "sweep: %llu messages (at most %llu entries), %llu dead events, %llu forgotten, "
      "%llu refutations, %llu leaves, %llu rejoins\n",
      static_cast<unsigned long long>(total.messages),
      static_cast<unsigned long long>(total.entries_max),
      static_cast<unsigned long long>(total.dead_events),
      static_cast<unsigned long long>(total.forgotten_events),
      static_cast<unsigned long long>(total.refutations),
      static_cast<unsigned long long>(total.leaves),
      static_cast<unsigned long long>(total.rejoins));
  std::printf(
      "sweep: worst seen (time units): detection %llu, reachable-but-dead %llu, "
      "convergence %llu\n",
      static_cast<unsigned long long>(total.detection_max),
      static_cast<unsigned long long>(total.false_dead_max),
      static_cast<unsigned long long>(total.convergence));
  // A sweep where nobody ever died, refuted or left proves little: insist on coverage.
  if (seeds.size() >= 20) {
    EXPECT_GT(total.dead_events, 0u);
    EXPECT_GT(total.refutations, 0u);
    EXPECT_GT(total.leaves, 0u);
    EXPECT_GT(total.forgotten_events, 0u);
  }
}

// Replaying a seed replays the run: same traffic, same clock, same views.
TEST(GossipSweep, SameSeedSameRun) {
  auto fingerprint = [](uint64_t seed) {
    Cluster cluster(seed, sweep_options(seed));
    sim::RunResult result = cluster.run(20'000);
    EXPECT_TRUE(result.ok) << result.message;
    std::string print = std::to_string(cluster.sim().now()) + "/" +
                        std::to_string(cluster.sim().net().stats().sent) + "/" +
                        std::to_string(cluster.stats().dead_events);
    for (EndpointId e = 0; e < cluster.size(); ++e) {
      if (!cluster.node(e).up()) continue;
      for (const Member& m : cluster.node(e).core().members()) {
        print +=
            "/" + m.id + ":" + std::to_string(m.incarnation) + std::string(to_string(m.status));
      }
    }
    return print;
  };
  EXPECT_EQ(fingerprint(7), fingerprint(7));
  EXPECT_NE(fingerprint(7), fingerprint(8));
}

}  // namespace
}  // namespace tessera::gossip::sim_harness
