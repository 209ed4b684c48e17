#include "lsm/block_cache.h"

#include <list>
#include <mutex>
#include <unordered_map>

#include "core/assert.h"
#include "io/checksum.h"

namespace strata::lsm {

namespace {

struct CacheKey {
  uint64_t file_number;
  uint64_t offset;
  bool operator==(const CacheKey&) const = default;
};

uint64_t HashKey(uint64_t file_number, uint64_t offset) {
  char buf[16];
  io::EncodeFixed64(buf, file_number);
  io::EncodeFixed64(buf + 8, offset);
  return io::Checksum64(buf, sizeof(buf));
}

struct CacheKeyHash {
  size_t operator()(const CacheKey& k) const { return HashKey(k.file_number, k.offset); }
};

size_t Charge(const Block& block) { return block.bytes() + kBlockCacheEntryOverheadBytes; }

}  // namespace

// One LRU list and map under one mutex. Front of the list = most recent.
class BlockCache::Shard {
 public:
  std::shared_ptr<const Block> Lookup(const CacheKey& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->block;
  }

  void Insert(const CacheKey& key, std::shared_ptr<const Block> block, size_t capacity) {
    const size_t charge = Charge(*block);
    std::lock_guard<std::mutex> lock(mu_);
    EraseLocked(key);
    if (charge > capacity) return;
    lru_.push_front(Entry{key, std::move(block), charge});
    map_.emplace(key, lru_.begin());
    usage_bytes_ += charge;
    EvictLocked(capacity);
  }

  void Erase(const CacheKey& key) {
    std::lock_guard<std::mutex> lock(mu_);
    EraseLocked(key);
  }

  void Evict(size_t capacity) {
    std::lock_guard<std::mutex> lock(mu_);
    EvictLocked(capacity);
  }

  size_t usage_bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return usage_bytes_;
  }
  size_t block_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return map_.size();
  }

 private:
  struct Entry {
    CacheKey key;
    std::shared_ptr<const Block> block;
    size_t charge;
  };

  void EraseLocked(const CacheKey& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return;
    usage_bytes_ -= it->second->charge;
    lru_.erase(it->second);
    map_.erase(it);
  }

  void EvictLocked(size_t capacity) {
    while (usage_bytes_ > capacity && !lru_.empty()) {
      const Entry& victim = lru_.back();
      usage_bytes_ -= victim.charge;
      map_.erase(victim.key);
      lru_.pop_back();
    }
  }

  mutable std::mutex mu_;
  std::list<Entry> lru_;
  std::unordered_map<CacheKey, std::list<Entry>::iterator, CacheKeyHash> map_;
  size_t usage_bytes_ = 0;
};

BlockCache::BlockCache(size_t capacity_bytes, int shard_bits) : capacity_bytes_(capacity_bytes) {
  STRATA_ASSERT(shard_bits >= 0);
  STRATA_ASSERT(shard_bits <= kBlockCacheShardBitsMax);
  const size_t shard_count = size_t{1} << shard_bits;
  shards_.reserve(shard_count);
  for (size_t i = 0; i < shard_count; ++i) shards_.push_back(std::make_unique<Shard>());
}

BlockCache::~BlockCache() = default;

BlockCache::Shard& BlockCache::ShardFor(uint64_t file_number, uint64_t offset) {
  // High bits pick the shard; the map inside uses the whole hash.
  const uint64_t h = HashKey(file_number, offset);
  return *shards_[(h >> 32) % shards_.size()];
}

size_t BlockCache::ShardCapacity() const {
  const size_t pinned = pinned_bytes();
  const size_t free_bytes = pinned >= capacity_bytes_ ? 0 : capacity_bytes_ - pinned;
  return free_bytes / shards_.size();
}

std::shared_ptr<const Block> BlockCache::Lookup(uint64_t file_number, uint64_t offset) {
  auto block = ShardFor(file_number, offset).Lookup(CacheKey{file_number, offset});
  (block != nullptr ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  return block;
}

void BlockCache::Insert(uint64_t file_number, uint64_t offset,
                        std::shared_ptr<const Block> block) {
  STRATA_ASSERT(block != nullptr);
  ShardFor(file_number, offset).Insert(CacheKey{file_number, offset}, std::move(block),
                                       ShardCapacity());
}

void BlockCache::Erase(uint64_t file_number, uint64_t offset) {
  ShardFor(file_number, offset).Erase(CacheKey{file_number, offset});
}

void BlockCache::ChargePinned(size_t bytes) {
  pinned_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  const size_t capacity = ShardCapacity();
  for (auto& shard : shards_) shard->Evict(capacity);
}

void BlockCache::ReleasePinned(size_t bytes) {
  const size_t before = pinned_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  STRATA_ASSERT(before >= bytes);
}

size_t BlockCache::usage_bytes() const {
  size_t total = pinned_bytes();
  for (const auto& shard : shards_) total += shard->usage_bytes();
  return total;
}

size_t BlockCache::block_count() const {
  size_t total = 0;
  for (const auto& shard : shards_) total += shard->block_count();
  return total;
}

}  // namespace strata::lsm
