// Targeted scenarios, each scripted on the simulator with random faults off so that the exact
// situation the scenario names is reached: join through one seed, graceful leave (and rejoin),
// crash detection, partition and heal, a flapping link. The checkers of harness/cluster.h run
// after every step, as in the sweep; each scenario runs over several seeds, and a failure
// prints TESSERA_SEED and the step.
#include <gtest/gtest.h>

#include "harness/cluster.h"
#include "tessera/sim/seeds.h"

namespace tessera::gossip::sim_harness {
namespace {

constexpr uint64_t kStepsMax = 2'000'000;
constexpr uint64_t kScenarioSeeds = 10;

ClusterOptions quiet(size_t nodes) {
  ClusterOptions o;
  o.nodes = nodes;
  o.faults_on = false;
  o.link = sim::LinkConfig{1, 3};
  return o;
}

#define RUN_OK(expr)                  \
  do {                                \
    sim::RunResult r_ = (expr);       \
    ASSERT_TRUE(r_.ok) << r_.message; \
  } while (0)

std::string where(Cluster& c) {
  return "TESSERA_SEED=" + std::to_string(c.sim().seed()) +
         " step=" + std::to_string(c.sim().steps_done());
}

// Whether every live node other than `x` sees `x` in one of the given states (absent counts as
// kDead: forgotten).
bool all_see(Cluster& c, EndpointId x, std::initializer_list<MemberStatus> states) {
  for (EndpointId o = 0; o < c.size(); ++o) {
    if (o == x || !c.live(o)) continue;
    const Member* m = c.node(o).core().find(Cluster::id_of(x));
    const MemberStatus status = m == nullptr ? MemberStatus::kDead : m->status;
    if (std::find(states.begin(), states.end(), status) == states.end()) return false;
  }
  return true;
}

void wait_converged(Cluster& c) {
  const sim::Time start = c.sim().now();
  RUN_OK(c.run_until(kStepsMax, [&] { return c.convergence_gap().empty(); }));
  EXPECT_LE(c.sim().now() - start, c.to_time(c.bounds().convergence_ticks)) << where(c);
}

SimEnv env_of(Cluster& c, EndpointId e) {
  return SimEnv{c.sim().now(), e, c.sim().net(), c.sim().rng()};
}

TEST(GossipScenario, JoinThroughOneSeedWithSmallMessages) {
  for (uint64_t seed : sim::seeds_from_env(kScenarioSeeds)) {
    ClusterOptions o = quiet(7);
    o.seeds = {0};
    o.gossip.entries_per_message_max = 3;  // own entry, a hint, one more: windows of one
    Cluster c(seed, o);
    wait_converged(c);
    EXPECT_LE(c.stats().entries_max, 3u);
  }
}

TEST(GossipScenario, GracefulLeaveIsSeenForgottenAndOutrankedByARejoin) {
  for (uint64_t seed : sim::seeds_from_env(kScenarioSeeds)) {
    ClusterOptions o = quiet(5);
    o.gossip.left_retention_ticks = 200;
    Cluster c(seed, o);
    wait_converged(c);
    SimEnv env = env_of(c, 2);
    c.node(2).leave(env);
    const uint64_t left_at = c.node(2).core().self().incarnation;
    // Everyone hears of the leave while the leaver lingers, well before any probe could fail.
    RUN_OK(c.run_until(kStepsMax, [&] { return all_see(c, 2, {MemberStatus::kLeft}); }));
    EXPECT_TRUE(c.live(2)) << where(c) << ": the leave spread only after the node stopped";
    RUN_OK(c.run_until(kStepsMax, [&] { return !c.sim().is_up(2); }));
    // Kept, then forgotten; the checker fails the run if it ever shows up alive again.
    RUN_OK(c.run_until(kStepsMax, [&] {
      for (EndpointId e = 0; e < c.size(); ++e) {
        if (e != 2 && c.node(e).core().find(Cluster::id_of(2)) != nullptr) return false;
      }
      return true;
    }));
    // A rejoin: a restart starts above every incarnation used before, and wins.
    c.sim().restart(2);
    wait_converged(c);
    EXPECT_GT(c.node(2).core().self().incarnation, left_at) << where(c);
  }
}

TEST(GossipScenario, CrashedNodeIsDeclaredDeadByEveryoneWithinTheBound) {
  for (uint64_t seed : sim::seeds_from_env(kScenarioSeeds)) {
    Cluster c(seed, quiet(7));
    wait_converged(c);
    c.sim().crash(4);
    const sim::Time crashed_at = c.sim().now();
    RUN_OK(c.run_until(kStepsMax, [&] { return all_see(c, 4, {MemberStatus::kDead}); }));
    EXPECT_LE(c.sim().now() - crashed_at, c.to_time(c.bounds().detection_ticks)) << where(c);
    // It restarts and is a member again, on everyone's word.
    c.sim().restart(4);
    wait_converged(c);
  }
}

TEST(GossipScenario, PartitionedSidesDeclareEachOtherDeadThenHeal) {
  for (uint64_t seed : sim::seeds_from_env(kScenarioSeeds)) {
    Cluster c(seed, quiet(7));
    wait_converged(c);
    const uint64_t incarnation_before = c.node(0).core().self().incarnation;
    c.sim().net().partition({0, 1}, {2, 3, 4, 5, 6}, true);
    const sim::Time cut_at = c.sim().now();
    RUN_OK(c.run_until(kStepsMax, [&] {
      for (EndpointId x = 0; x < c.size(); ++x) {
        const std::vector<EndpointId> other_side =
            x < 2 ? std::vector<EndpointId>{2, 3, 4, 5, 6} : std::vector<EndpointId>{0, 1};
        for (EndpointId o : other_side) {
          const Member* m = c.node(o).core().find(Cluster::id_of(x));
          if (m != nullptr && m->status != MemberStatus::kDead) return false;
        }
      }
      return true;
    }));
    EXPECT_LE(c.sim().now() - cut_at, c.to_time(c.bounds().detection_ticks)) << where(c);
    c.sim().net().heal();
    const sim::Time healed_at = c.sim().now();
    RUN_OK(c.run_until(kStepsMax, [&] { return c.convergence_gap().empty(); }));
    EXPECT_LE(c.sim().now() - healed_at, c.to_time(c.bounds().accuracy_ticks)) << where(c);
    // Coming back took a refutation: node 0 outranked the death the majority gossiped.
    EXPECT_GT(c.node(0).core().self().incarnation, incarnation_before) << where(c);
  }
}

// The link between nodes 0 and 1 goes down and up every few ticks. Indirect probes through
// the other three nodes keep both from ever being declared dead, by anyone.
TEST(GossipScenario, FlappingLinkDoesNotKillEitherEnd) {
  for (uint64_t seed : sim::seeds_from_env(kScenarioSeeds)) {
    Cluster c(seed, quiet(5));
    wait_converged(c);
    const sim::Time end = c.sim().now() + c.to_time(3000);
    sim::Time next_flip = c.sim().now();
    bool cut = false;
    bool killed = false;
    RUN_OK(c.run_until(kStepsMax, [&] {
      if (c.sim().now() >= next_flip) {
        cut = !cut;
        c.sim().net().set_cut(0, 1, cut);
        c.sim().net().set_cut(1, 0, cut);
        next_flip = c.sim().now() + 10 * c.sim().rng().range(2, 12);
      }
      killed = !all_see(c, 0, {MemberStatus::kAlive, MemberStatus::kSuspect}) ||
               !all_see(c, 1, {MemberStatus::kAlive, MemberStatus::kSuspect});
      return killed || c.sim().now() >= end;
    }));
    EXPECT_FALSE(killed) << where(c) << ": an end of the flapping link was declared dead";
    EXPECT_EQ(c.stats().dead_events, 0u) << where(c);
  }
}

}  // namespace
}  // namespace tessera::gossip::sim_harness
