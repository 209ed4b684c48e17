// TableCache: the open SSTables of one database directory, at most
// `capacity` of them (Options::max_open_files; 0 = no bound).
//
// An entry is a Table (its file handle and its parsed index, filter and
// properties). A lookup that misses opens the file (checking its size
// against the manifest's, then Table::Open verifies footer, index, filter and
// properties as at every open) and inserts it; beyond the capacity the least
// recently used entry is dropped. Callers hold a shared_ptr to the Table
// while they use it (a Get, an iterator): a table dropped meanwhile stays
// open until its last user lets go (and a lookup meanwhile takes that same
// Table back rather than opening a second copy), so the number of open
// tables is at most capacity + the tables pinned by running reads and
// compactions.
//
// Reopening is not free: one footer read plus one batched read of the meta
// blocks, and their checksums (docs/PROFILES.md, max_open_files). A damaged
// file found at a reopen is Corruption for that read, as at open.
//
// FileMetaData::table_cache points here once the file was opened, so that
// any Version (and any reader holding one) can reach its tables.
//
// Threading: all methods are thread-safe. Files are opened outside the
// internal mutex (two threads missing on one table may both open it; one
// copy is kept).
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/file_system.h"
#include "lsm/block_cache.h"
#include "lsm/table.h"
#include "lsm/table_options.h"
#include "lsm/version_edit.h"

namespace strata::lsm {

class TableCache {
 public:
  // capacity 0: no bound (every table stays open, as before the cache).
  TableCache(std::shared_ptr<io::FileSystem> fs, std::string dir, TableOptions options,
             BlockCache* block_cache, size_t capacity);
  TableCache(const TableCache&) = delete;
  TableCache& operator=(const TableCache&) = delete;

  // The open table of `<dir>/<number>.sst`, whose manifest size is
  // file_bytes; opened (and cached) on a miss.
  Status Find(uint64_t number, uint64_t file_bytes, std::shared_ptr<const Table>* table);
  // Drops the cached table of `number` (its file is being deleted).
  void Evict(uint64_t number);

  struct Counters {
    uint64_t hits = 0;
    uint64_t opens = 0;      // misses that opened the file (successfully or not)
    uint64_t evictions = 0;  // entries dropped for capacity
    uint64_t cached = 0;     // tables in the cache now
    uint64_t alive = 0;      // Table objects alive now (cached + evicted but pinned)
  };
  Counters counters() const;
  size_t capacity() const { return capacity_; }
  const std::string& dir() const { return dir_; }

 private:
  struct Entry {
    std::shared_ptr<const Table> table;
    std::list<uint64_t>::iterator lru;  // position in lru_
  };
  Status OpenFile(uint64_t number, uint64_t file_bytes, std::shared_ptr<const Table>* table);
  // Inserts at the front; entries beyond the capacity move to *dropped
  // (closed by the caller after unlocking) and to evicted_.
  void InsertLocked(uint64_t number, std::shared_ptr<const Table> table,
                    std::vector<std::shared_ptr<const Table>>* dropped);

  const std::shared_ptr<io::FileSystem> fs_;
  const std::string dir_;
  const TableOptions options_;
  BlockCache* const block_cache_;
  const size_t capacity_;
  // Shared with the deleters of the tables handed out, which may run after
  // the cache is gone (a reader holding a table past Close).
  const std::shared_ptr<std::atomic<uint64_t>> alive_;

  mutable std::mutex mu_;
  std::list<uint64_t> lru_;  // most recently used first
  std::unordered_map<uint64_t, Entry> entries_;
  // Tables dropped for capacity that a reader may still hold: a miss takes
  // the live one back instead of opening a second copy.
  std::unordered_map<uint64_t, std::weak_ptr<const Table>> evicted_;
  uint64_t hits_ = 0;
  uint64_t opens_ = 0;
  uint64_t evictions_ = 0;
};

// The table cache capacity for Options::max_open_files: the value itself
// when positive, 0 (no bound) when negative, and for 0 half the process's
// RLIMIT_NOFILE soft limit, clamped to [64, 65536].
size_t ResolveMaxOpenFiles(int max_open_files);

// Opens f's table through `cache` (checks the file like every open), then
// sets f->table_cache and f->range_dels: what a FileMetaData needs before it
// joins a Version.
Status OpenTableFile(const std::shared_ptr<TableCache>& cache, FileMetaData* f);

// An iterator that yields no entry and reports `status` (a table that could
// not be opened).
std::unique_ptr<InternalIterator> NewErrorIterator(Status status);

}  // namespace strata::lsm
