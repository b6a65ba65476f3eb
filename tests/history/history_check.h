// Checking a recorded history (`tessera-bench client --history`) for linearizability, per key.
//
// Each key is a register: a put sets it, a get returns its value or "not found". A history is
// linearizable when, key by key, its operations can be put in one order that respects real
// time and register semantics (tests/sim's checker). How each line counts:
//   - ok true: the operation took effect between its call and its return;
//   - ok null (unknown) put: it may have taken effect at any point after its call, or never;
//   - ok false, and gets with ok null: no effect and nothing observed, so they are left out.
// Calls and returns are ranked on the recorded clock; a return and a call at the same
// nanosecond count as overlapping (the permissive choice: no false violation from a tie).
//
// Thread-safety: none; pure functions over their arguments.
#pragma once

#include <cstdint>
#include <istream>
#include <string>

#include "tessera/status.h"

namespace tessera::history {

struct CheckReport {
  uint64_t operations = 0;  // lines read
  uint64_t keys = 0;
  uint64_t violations = 0;    // keys whose history is not linearizable
  uint64_t inconclusive = 0;  // keys whose search ran out of its state budget
  std::string first_violation;  // "key k00000012: <checker message>"
};

// Reads JSON lines from `in` and checks every key. InvalidArgument naming the line when one
// does not parse or lacks a field the format requires.
Result<CheckReport> check_history(std::istream& in, uint64_t states_max_per_key = 2'000'000);

}  // namespace tessera::history
