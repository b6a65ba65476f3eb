#include "tessera/sim/simulation.h"

#include <gtest/gtest.h>

namespace tessera::sim {
namespace {

// A counter that forwards a token around a ring; durable state is the count of tokens seen
// on ticks, volatile state is lost on crash.
class RingActor : public Actor<uint64_t> {
 public:
  explicit RingActor(EndpointId next) : next_(next) {}
  void on_message(Env<uint64_t>& env, EndpointId, uint64_t token) override {
    ++received_;
    env.send(next_, token + 1);
  }
  void on_tick(Env<uint64_t>& env) override {
    ++ticks_;
    if (ticks_ % 10 == 0) env.send(next_, 0);
  }
  void on_crash() override { ticks_ = 0; }
  void on_restart(Env<uint64_t>&) override { ++restarts_; }

  uint64_t received_ = 0;
  uint64_t ticks_ = 0;
  uint64_t restarts_ = 0;

 private:
  EndpointId next_;
};

std::string trace(uint64_t seed) {
  Simulation<uint64_t> sim(seed, 3, 10);
  RingActor a(1), b(2), c(0);
  sim.add_actor(0, &a);
  sim.add_actor(1, &b);
  sim.add_actor(2, &c);
  sim.net().set_all_links(LinkConfig{1, 20, 0.05, 0.05, 0.1, 30});
  sim.set_faults(FaultConfig{{0, 1, 2}, 0.01, 0.05, 0.01, 0.01, 0.02, 1});
  RunResult result = sim.run(5000, nullptr);
  EXPECT_TRUE(result.ok);
  return std::to_string(a.received_) + "/" + std::to_string(b.received_) + "/" +
         std::to_string(c.received_) + "/" + std::to_string(sim.now()) + "/" +
         std::to_string(a.restarts_ + b.restarts_ + c.restarts_);
}

TEST(Simulation, OneSeedReplaysExactly) {
  EXPECT_EQ(trace(42), trace(42));
  EXPECT_NE(trace(42), trace(43));
}

TEST(Simulation, FailureNamesSeedAndStep) {
  Simulation<uint64_t> sim(5, 2, 10);
  RingActor a(1), b(0);
  sim.add_actor(0, &a);
  sim.add_actor(1, &b);
  RunResult result = sim.run(
      1000, [&](uint64_t step) { return step == 17 ? std::string("boom") : std::string(); });
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.step, 17u);
  EXPECT_EQ(result.message, "TESSERA_SEED=5 step=17: boom");
}

TEST(Simulation, CrashedActorsGetNothing) {
  Simulation<uint64_t> sim(1, 2, 10);
  RingActor a(1), b(0);
  sim.add_actor(0, &a);
  sim.add_actor(1, &b);
  sim.crash(1);
  sim.run(500, nullptr);
  EXPECT_EQ(b.received_, 0u);
  EXPECT_EQ(b.ticks_, 0u);
  sim.restart(1);
  EXPECT_EQ(b.restarts_, 1u);
}

TEST(Simulation, PausedActorNeitherTicksNorReceivesUntilItResumes) {
  Simulation<uint64_t> sim(3, 2, 10);
  RingActor a(1), b(0);
  sim.add_actor(0, &a);
  sim.add_actor(1, &b);
  sim.pause(1, 1000);
  while (sim.now() < 900) sim.step();
  EXPECT_EQ(b.ticks_, 0u);
  EXPECT_EQ(b.received_, 0u);
  while (sim.now() < 1100) sim.step();
  EXPECT_GT(b.ticks_, 0u);
  EXPECT_GT(b.received_, 0u);  // what was sent during the pause arrives after it
}

TEST(Simulation, DriftGivesActorsDifferentClockRates) {
  Simulation<uint64_t> sim(11, 2, 100);
  RingActor a(1), b(0);
  sim.add_actor(0, &a);
  sim.add_actor(1, &b);
  FaultConfig faults;
  faults.drift = 0.5;
  sim.set_faults(faults);
  while (sim.now() < 20'000) sim.step();
  EXPECT_NE(a.ticks_, b.ticks_);
}

}  // namespace
}  // namespace tessera::sim
