// MemTableFilter: a bloom filter over the user keys of one memtable.
//
// Once the data outgrows the memtable, most point lookups ask for a key the
// memtable does not hold; without a filter each of them pays a full skiplist
// search (a cache miss per level). The filter answers most of those with one
// or two cache lines.
//
// The memtable's final entry count is not known when it is created, so the
// filter grows: it is a chain of segments, each kSegmentGrowth times larger
// than the one before, and a key goes into the newest segment. A lookup
// probes every segment; the small early segments stay in the CPU cache. A
// key's bits lie in one 64-byte block of its segment (a blocked bloom
// filter), so a probe touches one cache line. With kBitsPerKey = 10 a full
// segment answers "maybe" for about 1% of absent keys.
//
// Ownership: segment memory comes from the memtable's Arena (so it counts in
// the memtable's memory usage) and lives as long as the Arena.
// Threading: one writer calls Add (the memtable's single writer); MayContain
// may run concurrently. Bits are relaxed atomics: a reader that can see an
// entry's sequence also sees its bits, because the engine publishes a
// sequence (release) only after the entries are added, and readers acquire it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "lsm/arena.h"

namespace strata::lsm {

class MemTableFilter {
 public:
  static constexpr size_t kBitsPerKey = 10;
  static constexpr int kProbeCount = 6;
  static constexpr size_t kFirstSegmentKeys = 512;
  static constexpr size_t kSegmentGrowth = 4;
  // 512 * 4^15 keys: far beyond any memtable.
  static constexpr int kSegmentCountMax = 16;
  static constexpr size_t kBlockBits = 512;  // one 64-byte cache line
  static constexpr size_t kWordsPerBlock = kBlockBits / 64;

  explicit MemTableFilter(Arena* arena) : arena_(arena) {}
  MemTableFilter(const MemTableFilter&) = delete;
  MemTableFilter& operator=(const MemTableFilter&) = delete;

  // `hash` is BloomHash(user_key). Writer only.
  void Add(uint64_t hash);
  // False only if no key with this hash was added.
  bool MayContain(uint64_t hash) const;

  int segment_count() const { return segment_count_.load(std::memory_order_acquire); }

 private:
  struct Segment {
    std::atomic<uint64_t>* words = nullptr;
    uint32_t block_count = 0;
    size_t key_capacity = 0;
  };

  void AddSegment();

  Arena* const arena_;
  Segment segments_[kSegmentCountMax];
  // Segments [0, segment_count_) are initialised; published with release.
  std::atomic<int> segment_count_{0};
  size_t keys_in_last_segment_ = 0;  // writer only
};

}  // namespace strata::lsm
