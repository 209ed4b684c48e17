// Arena: bump allocator for one memtable. Memory is freed all at once when the
// arena is destroyed, so skiplist nodes never need individual frees.
//
// Blocks come straight from the kernel (anonymous mmap), not from malloc, and
// go back to it (munmap) when the arena dies. A memtable is the engine's
// largest allocation and lives for seconds; in malloc it would be carved out
// of the writer thread's arena, and whatever small long-lived allocation
// lands after it (a table index, a cached block) pins the freed space in the
// process: glibc only returns the top of a heap. Measured on the 1M-key
// benchmark, that retention cost more RSS than the memtables themselves
// (docs/ARCHITECTURE.md, "lsm memory"). Only the pages a block touches are
// resident, so an arena's resident size follows what was written.
//
// Threading: one writer allocates; MemoryUsage() may be read by any thread
// (relaxed atomic), since the engine polls it to decide when to switch
// memtables. The destructor may run on any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <vector>

namespace strata::lsm {

class Arena {
 public:
  // Regular blocks are kBlockBytesDefault; tiny test memtables keep that so
  // that they still hold many entries.
  static constexpr size_t kBlockBytesDefault = 8 * 1024;
  // Engine memtables use bigger blocks (fewer system calls), never above
  // this: the last block's unused tail is counted in MemoryUsage().
  static constexpr size_t kBlockBytesMax = 1024 * 1024;

  // `block_bytes` is rounded up to whole pages.
  explicit Arena(size_t block_bytes = kBlockBytesDefault);
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Returns `bytes` of uninitialised memory (bytes > 0).
  char* Allocate(size_t bytes);
  // As Allocate, aligned for pointers and atomics.
  char* AllocateAligned(size_t bytes);

  // Bytes mapped from the kernel, including block slack (an upper bound of
  // what the arena keeps resident).
  size_t MemoryUsage() const { return memory_usage_bytes_.load(std::memory_order_relaxed); }
  size_t block_bytes() const { return block_bytes_; }

 private:
  struct Block {
    char* data;
    size_t bytes;
  };

  char* AllocateFallback(size_t bytes);
  char* AllocateNewBlock(size_t block_bytes);

  const size_t block_bytes_;
  char* alloc_ptr_ = nullptr;
  size_t alloc_bytes_remaining_ = 0;
  std::vector<Block> blocks_;
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
