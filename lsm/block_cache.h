// BlockCache: a sharded LRU cache of parsed data blocks with a byte budget,
// shared by every Table of a database.
//
// Keys are (file_number, block offset); file numbers are never reused, so a
// deleted file's blocks are never looked up again and simply age out.
// Values are shared_ptr<const Block>: an evicted block stays alive while an
// iterator still reads it, but no longer counts against the budget.
//
// Budget: usage_bytes() = cached blocks (bytes + per-entry overhead) + pinned
// bytes. Tables charge their resident index and filter blocks with
// ChargePinned() at open and release them when destroyed; those bytes are
// never evicted, they shrink what data blocks may use. Each of the 2^shard_bits
// shards gets an equal slice of (capacity - pinned) and evicts its least
// recently used blocks to stay inside it, so usage_bytes() <= capacity_bytes()
// unless the pinned bytes alone exceed it.
//
// Threading: every method is thread-safe (one mutex per shard; counters atomic).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "lsm/block.h"

namespace strata::lsm {

// Charged per cached block on top of its bytes (entry, bucket slot, Block).
inline constexpr size_t kBlockCacheEntryOverheadBytes = 128;
inline constexpr int kBlockCacheShardBitsMax = 8;
// A shard's slice is kept at least this big and at least this many data
// blocks: a block larger than its slice is never cached, so 16 shards of a
// 1 MiB cache (64 KiB slices) would cache no 64 KiB block of the hdd profile.
// RocksDB's default sharding keeps shards at least 512 KiB for the same reason.
inline constexpr size_t kBlockCacheShardBytesMin = 512 << 10;
inline constexpr size_t kBlockCacheShardBlocksMin = 8;

// `shard_bits` lowered until each of the 2^bits slices of `capacity_bytes`
// holds kBlockCacheShardBytesMin bytes and kBlockCacheShardBlocksMin blocks
// of `block_bytes` (never below 0).
int BlockCacheShardBitsFor(size_t capacity_bytes, size_t block_bytes, int shard_bits);

class BlockCache {
 public:
  explicit BlockCache(size_t capacity_bytes, int shard_bits = 4);
  ~BlockCache();
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // Counts a hit or a miss.
  std::shared_ptr<const Block> Lookup(uint64_t file_number, uint64_t offset);
  // Replaces any block cached under the same key. A block larger than a
  // shard's slice is not cached.
  void Insert(uint64_t file_number, uint64_t offset, std::shared_ptr<const Block> block);
  // Drops one cached block (if present).
  void Erase(uint64_t file_number, uint64_t offset);

  void ChargePinned(size_t bytes);
  void ReleasePinned(size_t bytes);

  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }
  size_t usage_bytes() const;
  size_t pinned_bytes() const { return pinned_bytes_.load(std::memory_order_relaxed); }
  size_t capacity_bytes() const { return capacity_bytes_; }
  size_t block_count() const;

 private:
  class Shard;
  Shard& ShardFor(uint64_t hash);
  size_t ShardCapacity() const;

  const size_t capacity_bytes_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<size_t> pinned_bytes_{0};
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace strata::lsm
