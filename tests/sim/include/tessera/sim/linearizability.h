// Linearizability checking of a recorded client history (Wing & Gong search, with Lowe's
// memoization of visited (linearized set, model state) pairs).
//
// Purpose: decide whether the operations clients observed can be ordered into one sequential
// history that respects real time (an operation that returned before another was called comes
// first) and the model's sequential semantics. Operations that never returned (the client
// gave up, or the run ended) may take effect at any point after their call, or never.
// Histories should be split by independent object (e.g. per key) before checking: the search
// is exponential in concurrency, not in length, once split.
//
// A Model provides:
//   using State;  using Input;  using Output;
//   static bool apply(State& state, const Input& in, const Output* out);
//     // true if `out` (nullptr: unknown, the op never returned) is a legal result of `in` in
//     // `state`; updates `state`.
//   static uint64_t hash(const State& state);
// Thread-safety: none; pure functions over their arguments.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_set>
#include <vector>

#include "tessera/sim/rng.h"

namespace tessera::sim {

inline constexpr uint64_t kPendingReturn = std::numeric_limits<uint64_t>::max();

template <class Model>
struct Operation {
  uint64_t call = 0;              // event order of the call; unique across the history
  uint64_t ret = kPendingReturn;  // event order of the return; kPendingReturn if none
  typename Model::Input input{};
  typename Model::Output output{};
};

struct LinearizabilityResult {
  bool ok = true;
  bool inconclusive = false;  // the search ran out of its state budget
  std::string message;
};

template <class Model>
LinearizabilityResult check_linearizable(std::vector<Operation<Model>> ops,
                                         typename Model::State initial,
                                         uint64_t states_max = 2'000'000) {
  using State = typename Model::State;
  std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.call < b.call; });
  const size_t n = ops.size();
  size_t completed_count = 0;
  for (const auto& op : ops) completed_count += op.ret != kPendingReturn ? 1 : 0;

  Rng zobrist_rng(0x5eed5eedULL + n);
  std::vector<uint64_t> zobrist(n);
  for (uint64_t& z : zobrist) z = zobrist_rng.next_u64();

  std::vector<char> linearized(n, 0);
  // Minimal operations: not linearized, and called before every unlinearized op returned.
  auto candidates = [&]() {
    std::vector<size_t> out;
    uint64_t min_ret = kPendingReturn;
    for (size_t i = 0; i < n; ++i) {
      if (linearized[i]) continue;
      if (ops[i].call > min_ret) break;  // sorted by call: no later op can be minimal
      out.push_back(i);
      min_ret = std::min(min_ret, ops[i].ret);
    }
    // Ops pushed before min_ret settled may have been called after it.
    std::erase_if(out, [&](size_t i) { return ops[i].call > min_ret; });
    return out;
  };

  struct Level {
    std::vector<size_t> candidates;
    size_t next = 0;
    State state;
    uint64_t set_hash = 0;
    size_t chosen = 0;  // the op linearized to reach this level (unused at the root)
  };
  std::vector<Level> levels;
  levels.push_back(Level{candidates(), 0, initial, 0, 0});
  std::unordered_set<uint64_t> visited;
  size_t done = 0;
  size_t deepest = 0;
  uint64_t states = 0;

  while (true) {
    if (done == completed_count) return {};
    Level& top = levels.back();
    if (top.next == top.candidates.size()) {
      if (levels.size() == 1) {
        return {false, false,
                "no linearization: " + std::to_string(n) + " ops, at most " +
                    std::to_string(deepest) + " could be ordered"};
      }
      const size_t undo = top.chosen;
      levels.pop_back();
      linearized[undo] = 0;
      done -= ops[undo].ret != kPendingReturn ? 1 : 0;
      continue;
    }
    const size_t i = top.candidates[top.next++];
    State state = top.state;
    const auto* output = ops[i].ret == kPendingReturn ? nullptr : &ops[i].output;
    if (!Model::apply(state, ops[i].input, output)) continue;
    const uint64_t set_hash = top.set_hash ^ zobrist[i];
    if (!visited.insert(set_hash ^ (Model::hash(state) * 0x9e3779b97f4a7c15ULL)).second) {
      continue;
    }
    if (++states > states_max) return {false, true, "search budget exhausted"};
    linearized[i] = 1;
    done += ops[i].ret != kPendingReturn ? 1 : 0;
    deepest = std::max(deepest, levels.size());
    levels.push_back(Level{candidates(), 0, std::move(state), set_hash, i});
  }
}

}  // namespace tessera::sim
