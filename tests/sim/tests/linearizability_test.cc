#include "tessera/sim/linearizability.h"

#include <gtest/gtest.h>

#include <optional>

namespace tessera::sim {
namespace {

// A register of integers; 0 is "never written". Reads return the value.
struct Register {
  using State = uint64_t;
  struct Input {
    bool write = false;
    uint64_t value = 0;
  };
  using Output = uint64_t;
  static bool apply(State& state, const Input& in, const Output* out) {
    if (in.write) {
      state = in.value;
      return true;
    }
    return out == nullptr || *out == state;
  }
  static uint64_t hash(const State& state) { return state; }
};

using Op = Operation<Register>;

Op write(uint64_t call, uint64_t ret, uint64_t v) {
  return Op{call, ret, {true, v}, 0};
}
Op read(uint64_t call, uint64_t ret, uint64_t v) {
  return Op{call, ret, {false, 0}, v};
}

TEST(Linearizability, SequentialHistory) {
  EXPECT_TRUE(check_linearizable<Register>({write(1, 2, 5), read(3, 4, 5)}, 0).ok);
  EXPECT_FALSE(check_linearizable<Register>({write(1, 2, 5), read(3, 4, 0)}, 0).ok);
}

TEST(Linearizability, ConcurrentWriteMayBeSeenOrNot) {
  EXPECT_TRUE(check_linearizable<Register>({write(1, 10, 5), read(2, 3, 0)}, 0).ok);
  EXPECT_TRUE(check_linearizable<Register>({write(1, 10, 5), read(2, 3, 5)}, 0).ok);
}

TEST(Linearizability, StaleReadAfterNewerReadFails) {
  // w(1) done; w(2) concurrent with two reads that see 2 then 1: not linearizable.
  EXPECT_FALSE(check_linearizable<Register>(
                   {write(1, 2, 1), write(3, 20, 2), read(4, 5, 2), read(6, 7, 1)}, 0)
                   .ok);
}

TEST(Linearizability, PendingWriteMayTakeEffectLate) {
  EXPECT_TRUE(
      check_linearizable<Register>({write(1, kPendingReturn, 7), read(2, 3, 0), read(4, 5, 7)}, 0)
          .ok);
  EXPECT_TRUE(check_linearizable<Register>({write(1, kPendingReturn, 7), read(4, 5, 0)}, 0).ok);
}

TEST(Linearizability, LongSequentialHistoryIsFast) {
  std::vector<Op> ops;
  uint64_t t = 0;
  for (uint64_t i = 1; i <= 5000; ++i) {
    ops.push_back(write(t + 1, t + 2, i));
    ops.push_back(read(t + 3, t + 4, i));
    t += 4;
  }
  EXPECT_TRUE(check_linearizable<Register>(ops, 0).ok);
}

}  // namespace
}  // namespace tessera::sim
