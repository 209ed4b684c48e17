#include "lsm/arena.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include "core/assert.h"

namespace strata::lsm {

namespace {

size_t PageBytes() {
  static const size_t page_bytes = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return page_bytes;
}

size_t RoundUpToPage(size_t bytes) {
  const size_t page = PageBytes();
  return (bytes + page - 1) / page * page;
}

}  // namespace

Arena::Arena(size_t block_bytes) : block_bytes_(RoundUpToPage(block_bytes)) {
  STRATA_ASSERT(block_bytes > 0);
  STRATA_ASSERT(block_bytes_ <= kBlockBytesMax);
}

Arena::~Arena() {
  for (const Block& b : blocks_) {
    // munmap only fails for a range that was never mapped: a bug.
    const int rc = ::munmap(b.data, b.bytes);
    STRATA_ASSERT(rc == 0);
  }
}

char* Arena::AllocateFallback(size_t bytes) {
  STRATA_ASSERT(bytes > 0);
  // Requests above a quarter of a block get their own block, so that a big
  // value does not waste the rest of the current one.
  if (bytes > block_bytes_ / 4) return AllocateNewBlock(bytes);
  alloc_ptr_ = AllocateNewBlock(block_bytes_);
  alloc_bytes_remaining_ = block_bytes_;
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
  // New blocks are page aligned.
  char* result = AllocateFallback(bytes);
  STRATA_ASSERT((reinterpret_cast<uintptr_t>(result) & (kAlign - 1)) == 0);
  return result;
}

char* Arena::AllocateNewBlock(size_t bytes) {
  const size_t mapped_bytes = RoundUpToPage(bytes);
  void* p = ::mmap(nullptr, mapped_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
  // Out of memory (or address space): the same outcome as a failed operator
  // new in a library built without exceptions.
  STRATA_ASSERT(p != MAP_FAILED);
  blocks_.push_back(Block{static_cast<char*>(p), mapped_bytes});
  memory_usage_bytes_.fetch_add(mapped_bytes, std::memory_order_relaxed);
  return static_cast<char*>(p);
}

}  // namespace strata::lsm
