// Counts heap allocations of the calling thread, to report allocations per request.
//
// The bench executable defines malloc, calloc and realloc (malloc_counter.cc); they count and
// forward to glibc's own (__libc_malloc ...). Because the definitions are in the executable, they
// interpose on every shared library too: Cap'n Proto's message segments (calloc), KJ's promise
// nodes (operator new, which calls malloc) and the standard library are all counted. free is
// not wrapped. The count is per thread, kept in a thread_local without a constructor, so that
// counting costs one increment and takes no lock.
//
// Thread-safety: thread_allocations() reads the calling thread's own counter.
#pragma once

#include <cstdint>

namespace tessera::bench {

// malloc, calloc and realloc calls made so far by the calling thread.
uint64_t thread_allocations();

}  // namespace tessera::bench
