#include "lsm/block_cache.h"

#include <algorithm>
#include <mutex>

#include "core/assert.h"

namespace strata::lsm {

namespace {

struct CacheKey {
  uint64_t file_number;
  uint64_t offset;
  bool operator==(const CacheKey&) const = default;
};

// A multiply-xorshift mix of both halves: cheaper than a byte hash and good
// enough that the high bits (shard) and low bits (bucket) are independent.
uint64_t HashKey(uint64_t file_number, uint64_t offset) {
  uint64_t h = file_number * 0x9E3779B97F4A7C15ull ^ offset;
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return h;
}

size_t Charge(const Block& block) { return block.bytes() + kBlockCacheEntryOverheadBytes; }

// Buckets of a new shard; doubled whenever the entries outnumber them.
constexpr size_t kInitialBucketCount = 64;

}  // namespace

// One shard: a chained hash table and an LRU list threaded through the same
// entries, under one mutex. A hit touches the bucket, the entry and its two
// list neighbours (one heap object per block, not a map node and a list node).
// The list is circular around head_: head_.lru_next is the most recent entry.
class BlockCache::Shard {
 public:
  Shard() : buckets_(kInitialBucketCount, nullptr) { head_.lru_prev = head_.lru_next = &head_; }
  ~Shard() {
    for (Entry* e = head_.lru_next; e != &head_;) {
      Entry* next = e->lru_next;
      delete e;
      e = next;
    }
  }

  std::shared_ptr<const Block> Lookup(const CacheKey& key, uint64_t hash) {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e = *FindSlot(key, hash);
    if (e == nullptr) return nullptr;
    if (head_.lru_next != e) {
      Unlink(e);
      PushFront(e);
    }
    return e->block;
  }

  void Insert(const CacheKey& key, uint64_t hash, std::shared_ptr<const Block> block,
              size_t capacity) {
    const size_t charge = Charge(*block);
    std::lock_guard<std::mutex> lock(mu_);
    Entry** slot = FindSlot(key, hash);
    if (*slot != nullptr) Remove(slot);
    if (charge > capacity) return;
    Entry* e = new Entry{key, hash, std::move(block), charge};
    Entry*& bucket = buckets_[hash & (buckets_.size() - 1)];
    e->chain_next = bucket;
    bucket = e;
    PushFront(e);
    usage_bytes_ += charge;
    ++entry_count_;
    if (entry_count_ > buckets_.size()) Grow();
    EvictLocked(capacity);
  }

  void Erase(const CacheKey& key, uint64_t hash) {
    std::lock_guard<std::mutex> lock(mu_);
    Entry** slot = FindSlot(key, hash);
    if (*slot != nullptr) Remove(slot);
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
    return entry_count_;
  }

 private:
  struct Entry {
    CacheKey key;
    uint64_t hash = 0;
    std::shared_ptr<const Block> block;
    size_t charge = 0;
    Entry* chain_next = nullptr;
    Entry* lru_prev = nullptr;
    Entry* lru_next = nullptr;
  };

  // The link that points at the entry for key (or the null link at the end
  // of its chain when there is none).
  Entry** FindSlot(const CacheKey& key, uint64_t hash) {
    Entry** slot = &buckets_[hash & (buckets_.size() - 1)];
    while (*slot != nullptr && ((*slot)->hash != hash || !((*slot)->key == key))) {
      slot = &(*slot)->chain_next;
    }
    return slot;
  }

  void Unlink(Entry* e) {
    e->lru_prev->lru_next = e->lru_next;
    e->lru_next->lru_prev = e->lru_prev;
  }

  void PushFront(Entry* e) {
    e->lru_next = head_.lru_next;
    e->lru_prev = &head_;
    head_.lru_next->lru_prev = e;
    head_.lru_next = e;
  }

  // Unlinks *slot from its chain and the list and frees it.
  void Remove(Entry** slot) {
    Entry* e = *slot;
    *slot = e->chain_next;
    Unlink(e);
    usage_bytes_ -= e->charge;
    --entry_count_;
    delete e;
  }

  void EvictLocked(size_t capacity) {
    while (usage_bytes_ > capacity && head_.lru_prev != &head_) {
      Entry* victim = head_.lru_prev;
      Remove(FindSlot(victim->key, victim->hash));
    }
  }

  // Doubles the bucket array; chains keep their order relative to each other.
  void Grow() {
    std::vector<Entry*> grown(buckets_.size() * 2, nullptr);
    for (Entry* chain : buckets_) {
      while (chain != nullptr) {
        Entry* next = chain->chain_next;
        Entry*& bucket = grown[chain->hash & (grown.size() - 1)];
        chain->chain_next = bucket;
        bucket = chain;
        chain = next;
      }
    }
    buckets_ = std::move(grown);
  }

  mutable std::mutex mu_;
  std::vector<Entry*> buckets_;  // size is a power of two
  Entry head_;                   // list sentinel; holds no block
  size_t entry_count_ = 0;
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

BlockCache::Shard& BlockCache::ShardFor(uint64_t hash) {
  // High bits pick the shard; the buckets inside use the low bits.
  return *shards_[(hash >> 32) % shards_.size()];
}

size_t BlockCache::ShardCapacity() const {
  const size_t pinned = pinned_bytes();
  const size_t free_bytes = pinned >= capacity_bytes_ ? 0 : capacity_bytes_ - pinned;
  return free_bytes / shards_.size();
}

std::shared_ptr<const Block> BlockCache::Lookup(uint64_t file_number, uint64_t offset) {
  const uint64_t hash = HashKey(file_number, offset);
  auto block = ShardFor(hash).Lookup(CacheKey{file_number, offset}, hash);
  (block != nullptr ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  return block;
}

void BlockCache::Insert(uint64_t file_number, uint64_t offset,
                        std::shared_ptr<const Block> block) {
  STRATA_ASSERT(block != nullptr);
  const uint64_t hash = HashKey(file_number, offset);
  ShardFor(hash).Insert(CacheKey{file_number, offset}, hash, std::move(block), ShardCapacity());
}

void BlockCache::Erase(uint64_t file_number, uint64_t offset) {
  const uint64_t hash = HashKey(file_number, offset);
  ShardFor(hash).Erase(CacheKey{file_number, offset}, hash);
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

int BlockCacheShardBitsFor(size_t capacity_bytes, size_t block_bytes, int shard_bits) {
  const size_t slice_min =
      std::max(kBlockCacheShardBytesMin, kBlockCacheShardBlocksMin * (block_bytes + kBlockCacheEntryOverheadBytes));
  while (shard_bits > 0 && (capacity_bytes >> shard_bits) < slice_min) shard_bits--;
  return shard_bits;
}

}  // namespace strata::lsm
