// Table: an open, immutable SSTable (lsm/FORMAT.md).
//
// Open reads the footer, then the index, filter and properties blocks in one
// batch; it verifies their checksums and contents (every index key and
// handle, the filter's shape, the properties' consistency: once, so lookups
// trust them) and keeps index and filter resident for the Table's lifetime
// (charged to the BlockCache as pinned bytes, when there is one). Data blocks are read on demand through the cache. Every byte read
// is checked: a bad checksum, handle or entry is Corruption
// "000123.sst @ <offset>: ...", never a crash or a wrong value.
// Checksums are always verified (ReadOptions has no switch to skip them; a
// cached block was verified when it was read).
//
// The file must be opened without O_DIRECT: blocks are read at unaligned
// offsets (the page cache and the block cache do the caching).
// Ownership: the Table owns its file; iterators borrow the Table and must not
// outlive it. The BlockCache, if any, must outlive the Table.
// Threading: immutable after Open; every method may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "io/file_system.h"
#include "lsm/block.h"
#include "lsm/block_cache.h"
#include "lsm/dbformat.h"
#include "lsm/format.h"
#include "lsm/range_del.h"
#include "lsm/table_options.h"
#include "lsm/table_properties.h"
#include "strata/options.h"

namespace strata::lsm {

class ReadaheadBuffer;

class Table {
 public:
  static Status Open(const TableOptions& options, std::unique_ptr<io::RandomAccessFile> file,
                     uint64_t file_bytes, uint64_t file_number, BlockCache* cache,
                     std::unique_ptr<Table>* table);
  ~Table();
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // Bloom check on the user key, then the first entry >= lookup_internal_key;
  // if its user key matches, *found = true and internal_key/value are filled.
  // *bloom_negative (if not null) says whether the filter ruled the key out.
  Status Get(const ReadOptions& options, std::string_view lookup_internal_key, bool* found,
             std::string* internal_key, std::string* value, bool* bloom_negative) const;

  // Two-level iterator: index block -> data blocks. After two consecutive
  // block misses it reads ahead for sequential scans (see ReadaheadBuffer).
  // readahead_bytes > 0 (compaction inputs, which are read start to end):
  // every read that misses reads this many bytes ahead, from the first block.
  std::unique_ptr<InternalIterator> NewIterator(const ReadOptions& options,
                                                size_t readahead_bytes = 0) const;

  // False only when the bloom filter rules the key out (true without a filter).
  bool KeyMayMatch(std::string_view user_key) const;
  const TableProperties& properties() const { return props_; }
  // The table's range tombstones, read and validated at Open; null when it
  // has none (the common case costs one pointer test).
  const std::shared_ptr<const RangeDelIndex>& range_dels() const { return range_dels_; }

  // Reads every data block (bypassing the cache), checks its checksum,
  // entries and that keys increase across the whole table.
  Status VerifyChecksums() const;

  // File offset where the data for internal_key would begin.
  uint64_t ApproximateOffsetOf(std::string_view internal_key) const;

  // For tools and tests.
  const Footer& footer() const { return footer_; }
  const std::string& name() const { return name_; }
  uint64_t file_bytes() const { return file_bytes_; }
  uint64_t file_number() const { return file_number_; }
  // Iterator over the index block: key = last key of a data block, value = handle.
  std::unique_ptr<InternalIterator> NewIndexIterator() const { return index_->NewIterator(); }
  const Block* index_block() const { return index_.get(); }
  // Decodes an index entry's value, checking the handle lies in the data area.
  Status DecodeDataHandle(std::string_view index_value, BlockHandle* handle) const;
  // A data block through the cache (or `readahead` when given and usable).
  Status GetDataBlock(const BlockHandle& handle, bool fill_cache, ReadaheadBuffer* readahead,
                      std::shared_ptr<const Block>* block) const;

 private:
  Table() = default;
  Status ReadMetaBlocks();
  Status CheckIndex() const;
  Status ReadRangeDelBlock();
  Status ReadThroughReadahead(const BlockHandle& handle, ReadaheadBuffer* readahead,
                              BlockBuffer* stored, bool* have_stored) const;

  TableOptions options_;
  std::unique_ptr<io::RandomAccessFile> file_;
  uint64_t file_bytes_ = 0;
  uint64_t file_number_ = 0;
  BlockCache* cache_ = nullptr;
  std::string name_;
  Footer footer_;
  uint64_t data_end_ = 0;  // data blocks end here; meta blocks follow
  std::shared_ptr<const Block> index_;
  std::string filter_;  // empty without a filter
  TableProperties props_;
  std::shared_ptr<const RangeDelIndex> range_dels_;
  size_t pinned_bytes_ = 0;
};

// Table::NewIterator that also holds `table` (a shared owner) until the
// iterator is destroyed: a table evicted from the TableCache meanwhile stays
// open for it. readahead_bytes as for Table::NewIterator.
std::unique_ptr<InternalIterator> NewPinnedTableIterator(std::shared_ptr<const Table> table,
                                                         const ReadOptions& options,
                                                         size_t readahead_bytes = 0);

// Holds bytes read ahead of a sequential scan; one per iterator.
//
// The read size starts small and doubles with every read ahead of the same
// scan: a short range scan (a seek and a few hundred entries) touches only a
// few blocks, and copying 256 KiB it never reads would cost more than the
// blocks it uses. A long scan reaches the largest size after a few reads.
class ReadaheadBuffer {
 public:
  // First read ahead of a scan, then doubled up to the largest.
  static constexpr size_t kReadaheadBytesMin = 16 * 1024;
  static constexpr size_t kReadaheadBytesMax = 256 * 1024;
  // Consecutive block misses before reading ahead.
  static constexpr int kSequentialMissesMin = 2;

  // > 0: read this much ahead on every miss, without waiting for sequential
  // misses (a compaction input is read whole).
  size_t fixed_bytes = 0;
  int sequential_misses = 0;
  uint64_t last_block_end = 0;  // end of the last block missed in the cache
  uint64_t offset = 0;          // file offset of storage[0]
  size_t next_read_bytes = kReadaheadBytesMin;
  std::unique_ptr<char[]> storage;  // reused from one read ahead to the next
  size_t capacity = 0;              // bytes allocated in storage
  size_t size = 0;                  // bytes read into storage
  bool Contains(uint64_t start, uint64_t length) const {
    return start >= offset && start - offset + length <= size;
  }
};

}  // namespace strata::lsm
