#include "lsm/arena.h"

#include <cstdint>

#include "core/assert.h"

namespace strata::lsm {

char* Arena::AllocateFallback(size_t bytes) {
  STRATA_ASSERT(bytes > 0);
  if (bytes > kBlockBytes / 4) return AllocateNewBlock(bytes);
  alloc_ptr_ = AllocateNewBlock(kBlockBytes);
  alloc_bytes_remaining_ = kBlockBytes;
  char* result = alloc_ptr_;
  alloc_ptr_ += bytes;
  alloc_bytes_remaining_ -= bytes;
  return result;
}

char* Arena::AllocateAligned(size_t bytes) {
  constexpr size_t kAlign = alignof(std::max_align_t) > 8 ? alignof(std::max_align_t) : 8;
  static_assert((kAlign & (kAlign - 1)) == 0, "alignment must be a power of two");
  const size_t misalign = reinterpret_cast<uintptr_t>(alloc_ptr_) & (kAlign - 1);
  const size_t slop = misalign == 0 ? 0 : kAlign - misalign;
  const size_t needed = bytes + slop;
  if (needed <= alloc_bytes_remaining_) {
    char* result = alloc_ptr_ + slop;
    alloc_ptr_ += needed;
    alloc_bytes_remaining_ -= needed;
    return result;
  }
  // New blocks come from operator new[], which is max_align_t aligned.
  char* result = AllocateFallback(bytes);
  STRATA_ASSERT((reinterpret_cast<uintptr_t>(result) & (kAlign - 1)) == 0);
  return result;
}

char* Arena::AllocateNewBlock(size_t block_bytes) {
  blocks_.push_back(std::make_unique<char[]>(block_bytes));
  memory_usage_bytes_.fetch_add(block_bytes + sizeof(char*), std::memory_order_relaxed);
  return blocks_.back().get();
}

}  // namespace strata::lsm
