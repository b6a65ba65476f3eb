// Assertions. TESSERA_ASSERT marks our own bugs; TESSERA_REQUIRE marks a caller that broke a
// documented precondition. Both stay on in release builds and print the failed condition with
// its location before aborting. Bad input from a client or a config file is never asserted:
// it gets a Status.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace tessera::detail {

[[noreturn]] inline void assertion_failed(const char* kind, const char* condition,
                                          const char* file, int line, const char* detail) {
  std::fprintf(stderr, "%s failed: %s at %s:%d%s%s\n", kind, condition, file, line,
               detail[0] != '\0' ? ": " : "", detail);
  std::fflush(stderr);
  std::abort();
}

}  // namespace tessera::detail

#define TESSERA_ASSERT(condition, ...)                                                    \
  do {                                                                                    \
    if (!(condition)) [[unlikely]] {                                                      \
      ::tessera::detail::assertion_failed("TESSERA_ASSERT", #condition, __FILE__, __LINE__, \
                                          "" __VA_ARGS__);                                \
    }                                                                                     \
  } while (false)

#define TESSERA_REQUIRE(condition, ...)                                                    \
  do {                                                                                     \
    if (!(condition)) [[unlikely]] {                                                       \
      ::tessera::detail::assertion_failed("TESSERA_REQUIRE", #condition, __FILE__, __LINE__, \
                                          "" __VA_ARGS__);                                 \
    }                                                                                      \
  } while (false)
