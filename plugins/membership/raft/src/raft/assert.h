// RAFT_ASSERT: the core's check for its own bugs.
//
// Purpose: an invariant of the core that does not hold is a bug in the core, never an
// operating error; it aborts with the condition and location, in every build type, because a
// consensus core that runs on after breaking an invariant corrupts data. Input from peers or
// callers is validated and answered, never asserted.
// Thread-safety: stateless.
#pragma once

#include <cstdio>
#include <cstdlib>

#define RAFT_ASSERT(cond)                                                                 \
  do {                                                                                    \
    if (!(cond)) [[unlikely]] {                                                           \
      std::fprintf(stderr, "%s:%d: RAFT_ASSERT(%s) failed\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)
