// Arena: bump allocator for memtable entries. Memory is released all at once when the arena is
// destroyed, which is exactly the life of a memtable.
// Thread-safety: allocate() is called by one writer at a time; memory_usage() may be read by any
// thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace tessera::lsm {

class Arena {
 public:
  static constexpr size_t kBlockBytes = 4096;

  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Returns `bytes` of uninitialized memory aligned for any pointer-sized type.
  char* allocate_aligned(size_t bytes) {
    constexpr size_t kAlign = alignof(std::max_align_t) > 8 ? alignof(std::max_align_t) : 8;
    size_t slop = reinterpret_cast<uintptr_t>(ptr_) % kAlign;
    size_t pad = slop == 0 ? 0 : kAlign - slop;
    if (bytes + pad <= remaining_) {
      char* result = ptr_ + pad;
      ptr_ += bytes + pad;
      remaining_ -= bytes + pad;
      return result;
    }
    return allocate_fallback(bytes);
  }

  // Bytes reserved from the system so far (what counts against memtable_bytes_max).
  size_t memory_usage() const { return usage_.load(std::memory_order_relaxed); }

 private:
  char* allocate_fallback(size_t bytes) {
    if (bytes > kBlockBytes / 4) return new_block(bytes);  // big entries get their own block
    ptr_ = new_block(kBlockBytes);
    remaining_ = kBlockBytes;
    char* result = ptr_;
    ptr_ += bytes;
    remaining_ -= bytes;
    return result;
  }
  char* new_block(size_t bytes) {
    blocks_.push_back(std::make_unique<char[]>(bytes));
    usage_.fetch_add(bytes + sizeof(void*), std::memory_order_relaxed);
    return blocks_.back().get();
  }

  char* ptr_ = nullptr;
  size_t remaining_ = 0;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::atomic<size_t> usage_{0};
};

}  // namespace tessera::lsm
