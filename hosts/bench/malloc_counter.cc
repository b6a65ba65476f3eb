#include "malloc_counter.h"

#include <cstddef>

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* pointer, size_t size);
}

namespace {
// Constant-initialized, so that reaching it never runs code (malloc is called while threads
// and the dynamic loader are being set up).
thread_local uint64_t allocations = 0;
}  // namespace

extern "C" {
void* malloc(size_t size) {
  ++allocations;
  return __libc_malloc(size);
}

void* calloc(size_t count, size_t size) {
  ++allocations;
  return __libc_calloc(count, size);
}

void* realloc(void* pointer, size_t size) {
  ++allocations;
  return __libc_realloc(pointer, size);
}
}

namespace tessera::bench {

uint64_t thread_allocations() { return allocations; }

}  // namespace tessera::bench
