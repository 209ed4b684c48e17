#include "lsm/memtable_filter.h"

#include <new>

#include "core/assert.h"

namespace strata::lsm {

namespace {

// Block of a hash inside a segment: the high 32 bits scaled to the block
// count (a multiply instead of a modulo).
inline uint32_t BlockIndex(uint64_t hash, uint32_t block_count) {
  return static_cast<uint32_t>(((hash >> 32) * block_count) >> 32);
}

// Bit positions inside the block come from a remix of the hash, 9 bits
// (0..511) per probe, so they are independent of the block choice.
inline uint64_t ProbeBits(uint64_t hash) { return hash * 0x9E3779B97F4A7C15ull; }

constexpr size_t kCacheLineBytes = 64;
static_assert(MemTableFilter::kBlockBits / 8 == kCacheLineBytes);
static_assert(MemTableFilter::kProbeCount * 9 <= 64, "each probe takes 9 bits of one word");
static_assert(MemTableFilter::kBlockBits == 512, "probes take 9 bits per position");

}  // namespace

void MemTableFilter::AddSegment() {
  const int count = segment_count_.load(std::memory_order_relaxed);
  STRATA_ASSERT(count < kSegmentCountMax);
  Segment& s = segments_[count];
  s.key_capacity = count == 0 ? kFirstSegmentKeys
                              : segments_[count - 1].key_capacity * kSegmentGrowth;
  const size_t bits = s.key_capacity * kBitsPerKey;
  s.block_count = static_cast<uint32_t>((bits + kBlockBits - 1) / kBlockBits);
  const size_t word_count = size_t{s.block_count} * kWordsPerBlock;
  // Over-allocate so that every block starts on a cache line.
  char* memory = arena_->AllocateAligned(word_count * sizeof(uint64_t) + kCacheLineBytes);
  const uintptr_t address = reinterpret_cast<uintptr_t>(memory);
  const uintptr_t aligned = (address + kCacheLineBytes - 1) & ~uintptr_t{kCacheLineBytes - 1};
  s.words = reinterpret_cast<std::atomic<uint64_t>*>(aligned);
  for (size_t i = 0; i < word_count; ++i) new (&s.words[i]) std::atomic<uint64_t>(0);
  keys_in_last_segment_ = 0;
  segment_count_.store(count + 1, std::memory_order_release);
}

void MemTableFilter::Add(uint64_t hash) {
  const int count = segment_count_.load(std::memory_order_relaxed);
  if (count == 0 || keys_in_last_segment_ >= segments_[count - 1].key_capacity) AddSegment();
  const Segment& s = segments_[segment_count_.load(std::memory_order_relaxed) - 1];
  std::atomic<uint64_t>* block = s.words + size_t{BlockIndex(hash, s.block_count)} * kWordsPerBlock;
  uint64_t bits = ProbeBits(hash);
  for (int i = 0; i < kProbeCount; ++i, bits >>= 9) {
    const uint32_t bit = static_cast<uint32_t>(bits & (kBlockBits - 1));
    std::atomic<uint64_t>& word = block[bit / 64];
    // Single writer: a load and a store need no read-modify-write.
    word.store(word.load(std::memory_order_relaxed) | (uint64_t{1} << (bit % 64)),
               std::memory_order_relaxed);
  }
  ++keys_in_last_segment_;
}

bool MemTableFilter::MayContain(uint64_t hash) const {
  const int count = segment_count_.load(std::memory_order_acquire);
  const uint64_t probe_bits = ProbeBits(hash);
  for (int seg = 0; seg < count; ++seg) {
    const Segment& s = segments_[seg];
    const std::atomic<uint64_t>* block =
        s.words + size_t{BlockIndex(hash, s.block_count)} * kWordsPerBlock;
    uint64_t bits = probe_bits;
    bool all_set = true;
    for (int i = 0; i < kProbeCount && all_set; ++i, bits >>= 9) {
      const uint32_t bit = static_cast<uint32_t>(bits & (kBlockBits - 1));
      all_set = (block[bit / 64].load(std::memory_order_relaxed) >> (bit % 64)) & 1;
    }
    if (all_set) return true;
  }
  return false;
}

}  // namespace strata::lsm
