// MemTable: the in-memory write buffer of the LSM engine.
//
// Entries are internal keys (user key, sequence, type) with values, held in
// a SkipList over an Arena. The engine shares memtables through shared_ptr:
// readers and iterators keep one alive after it has been flushed.
//
// Threading: one writer at a time calls Add (the engine's write leader, or
// recovery); Get and iterators run concurrently without locks.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "lsm/arena.h"
#include "lsm/dbformat.h"
#include "lsm/memtable_filter.h"
#include "lsm/range_del.h"
#include "lsm/skiplist.h"

namespace strata::lsm {

class MemTable {
 public:
  // `wal_lsn_start`: the first WAL record whose updates may be in this
  // memtable; once it is flushed, WAL records before the next memtable's
  // start are no longer needed. `arena_block_bytes`: see Arena.
  explicit MemTable(uint64_t wal_lsn_start,
                    size_t arena_block_bytes = Arena::kBlockBytesDefault);
  MemTable(const MemTable&) = delete;
  MemTable& operator=(const MemTable&) = delete;

  void Add(SequenceNumber seq, ValueType type, std::string_view user_key, std::string_view value);

  // Looks up the newest entry of user_key with sequence <= seq. Returns false
  // if there is none; otherwise sets *type and *value (the stored value,
  // which for kVersionedValue still has its version prefix). A bloom filter
  // over the user keys answers most lookups of absent keys without a search.
  // *found_seq (if not null) gets the entry's sequence.
  bool Get(std::string_view user_key, SequenceNumber seq, ValueType* type, std::string* value,
           SequenceNumber* found_seq = nullptr) const;

  // A range tombstone (lsm/range_del.h): kept in a small list beside the
  // skiplist, counted in entry_count() and in the memory usage.
  void AddRangeTombstone(SequenceNumber seq, std::string_view begin, std::string_view end);
  // Null when the memtable holds no range tombstone (one atomic load);
  // else an immutable index of all of them (rebuilt after an Add).
  std::shared_ptr<const RangeDelIndex> RangeDels() const;
  bool has_range_dels() const { return range_del_count_.load(std::memory_order_acquire) > 0; }

  std::unique_ptr<InternalIterator> NewIterator() const;

  // Everything the memtable holds: entries, skiplist nodes and arena slack.
  size_t ApproximateMemoryUsage() const {
    return arena_.MemoryUsage() + range_del_bytes_.load(std::memory_order_relaxed);
  }
  uint64_t entry_count() const { return entry_count_.load(std::memory_order_relaxed); }
  uint64_t wal_lsn_start() const { return wal_lsn_start_; }
  // Largest sequence added (0 when empty).
  SequenceNumber largest_sequence() const {
    return largest_sequence_.load(std::memory_order_relaxed);
  }

 private:
  struct KeyComparator {
    int operator()(const char* a, const char* b) const;
  };
  using Table = SkipList<const char*, KeyComparator>;
  class Iter;

  const uint64_t wal_lsn_start_;
  Arena arena_;
  Table table_;
  MemTableFilter filter_{&arena_};  // allocates from arena_
  std::atomic<uint64_t> entry_count_{0};
  std::atomic<SequenceNumber> largest_sequence_{0};
  std::atomic<uint64_t> range_del_count_{0};
  std::atomic<size_t> range_del_bytes_{0};
  mutable std::mutex range_del_mu_;  // guards the two below
  std::vector<RangeTombstone> range_dels_;
  mutable std::shared_ptr<const RangeDelIndex> range_del_index_;  // null: stale
};

}  // namespace strata::lsm
