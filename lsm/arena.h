// Arena: bump allocator for one memtable. Memory is freed all at once when the
// arena is destroyed, so skiplist nodes never need individual frees.
//
// Threading: one writer allocates; MemoryUsage() may be read by any thread
// (relaxed atomic), since the engine polls it to decide when to switch
// memtables.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace strata::lsm {

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Returns `bytes` of uninitialised memory (bytes > 0).
  char* Allocate(size_t bytes);
  // As Allocate, aligned for pointers and atomics.
  char* AllocateAligned(size_t bytes);

  // Bytes reserved from the heap, including block slack.
  size_t MemoryUsage() const { return memory_usage_bytes_.load(std::memory_order_relaxed); }

 private:
  // Blocks are this size (small, so that tiny test memtables still hold many
  // entries); requests above a quarter of it get their own block
  // so that a big value does not waste the rest of the current block.
  static constexpr size_t kBlockBytes = 8 * 1024;

  char* AllocateFallback(size_t bytes);
  char* AllocateNewBlock(size_t block_bytes);

  char* alloc_ptr_ = nullptr;
  size_t alloc_bytes_remaining_ = 0;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::atomic<size_t> memory_usage_bytes_{0};
};

inline char* Arena::Allocate(size_t bytes) {
  if (bytes <= alloc_bytes_remaining_) {
    char* result = alloc_ptr_;
    alloc_ptr_ += bytes;
    alloc_bytes_remaining_ -= bytes;
    return result;
  }
  return AllocateFallback(bytes);
}

}  // namespace strata::lsm
