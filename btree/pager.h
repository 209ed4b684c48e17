// Pager: the data file (btree.db) and its buffer pool.
//
// Pages are immutable once built: a write builds a new page (copy-on-write)
// and installs it under its page number. Readers look a page up by number in
// a two-level array of slots (no hash table, no mutex): each slot is an
// atomic shared pointer, so a reader that holds a page keeps it alive while
// it is evicted or replaced.
//
// Budget and eviction: pages that are on disk ("clean") count against
// cache_bytes and are evicted by a clock sweep when the budget is passed; a
// page read on a miss enters with its reference bit clear and gets it only on
// a second access, so one pass of a scan does not push out the hot pages
// (scan resistance). Pages not yet written by a checkpoint ("dirty") cannot
// be evicted and are the engine's write buffer (bounded by the checkpoint
// trigger, not by cache_bytes).
//
// Thread safety: Get, Install, Evict and the counters may be called from any
// thread; WritePages/Sync/WriteMeta by one thread at a time (the checkpoint).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "btree/format.h"
#include "core/thread_annotations.h"
#include "io/aligned_buffer.h"
#include "io/file_system.h"
#include "strata/status.h"

namespace strata::btree {

// Page buffers come from a process-wide recycling list per page size: a
// scan or a bulk load allocates and frees a buffer per page, and letting
// malloc hand that memory back and forth to the kernel cost a page fault per
// page (a quarter of a snapshot install's CPU). At most kRecycledBytesMax
// bytes of free buffers are kept per size; the rest go back to malloc.
class PageBuffers {
 public:
  static constexpr size_t kRecycledBytesMax = 16 << 20;
  static char* Take(size_t bytes);
  static void Give(char* buf, size_t bytes);
};
struct PageBufferGiveBack {
  size_t bytes = 0;
  void operator()(char* buf) const { PageBuffers::Give(buf, bytes); }
};

struct Page {
  Page(uint64_t no, size_t bytes)
      : no(no), data(PageBuffers::Take(bytes), PageBufferGiveBack{bytes}) {}
  const char* bytes() const { return data.get(); }
  char* mutable_bytes() { return data.get(); }

  const uint64_t no;
  std::unique_ptr<char[], PageBufferGiveBack> data;
  mutable std::atomic<bool> ref{false};
  std::atomic<bool> on_disk{false};  // a checkpoint wrote it: evictable
};
using PageRef = std::shared_ptr<const Page>;

struct PagerStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  uint64_t cached_bytes = 0;  // clean pages resident
  uint64_t pages_written = 0;
  uint64_t bytes_written = 0;
};

class Pager {
 public:
  static constexpr size_t kChunkBits = 14;
  static constexpr size_t kChunkPages = size_t{1} << kChunkBits;
  static constexpr size_t kChunks = size_t{1} << 16;
  static constexpr uint64_t kPagesMax = uint64_t{kChunkPages} * kChunks;

  Pager(std::shared_ptr<io::FileSystem> fs, std::string path, size_t page_bytes,
        size_t cache_bytes);
  ~Pager();

  // Opens btree.db (creating it when `create`).
  Status Open(bool create);
  const std::string& path() const { return path_; }
  size_t page_bytes() const { return page_bytes_; }

  // The page, from the pool or (verified) from disk.
  Result<PageRef> Get(uint64_t no);
  // Reads the pages of `nos` that are not in the pool in one batch
  // (RandomAccessFile::ReadBatch: one io_uring submission) and puts the
  // verified ones into the pool; a page that fails to read or verify is left
  // out, for Get to report. Read-ahead for scans.
  void Prefetch(std::span<const uint64_t> nos);
  // Reads and verifies a page from disk without touching the pool.
  Status ReadPage(uint64_t no, std::string* buf) const;
  // A fresh buffer for page `no`; fill it, then Install.
  std::shared_ptr<Page> NewPage(uint64_t no) const {
    return std::make_shared<Page>(no, page_bytes_);
  }
  // Puts a (dirty) page into its slot, replacing whatever was there.
  void Install(std::shared_ptr<Page> page);
  // Marks written pages clean (evictable) and evicts down to the budget.
  void MarkOnDisk(const std::vector<PageRef>& pages);
  // Drops page `no` from the pool (it is being reused or was freed unwritten).
  void Forget(uint64_t no);

  // Writes pages (sorted by number, consecutive runs in one write each).
  // `fresh_bulk`: pages written once and not read back soon (a bulk load's
  // leaves): aligned runs go through a second, O_DIRECT handle when the file
  // system takes one, skipping the page cache's copy and its writeback; Sync
  // syncs that handle too. Anything it cannot take goes the buffered way.
  Status WritePages(const std::vector<PageRef>& pages, bool fresh_bulk = false);
  Status WriteRaw(uint64_t no, const char* data);
  // Extends the file to at least `pages` pages (free pages past the last
  // written one still belong to the file the meta describes).
  Status EnsurePages(uint64_t pages);
  Status Sync();

  // use_direct_io=false forbids the O_DIRECT handle of WritePages' bulk path.
  void set_bulk_direct(bool allowed) { direct_refused_ = !allowed; }

  PagerStats stats() const;
  void set_cache_bytes(size_t bytes) { cache_bytes_.store(bytes, std::memory_order_relaxed); }

 private:
  struct Chunk {
    std::shared_ptr<const Page> slots[kChunkPages];
  };
  // A lock per stripe of page numbers; a slot is only touched under its lock.
  struct alignas(64) SpinLock {
    std::atomic<bool> locked{false};
    void lock();
    void unlock() { locked.store(false, std::memory_order_release); }
  };
  static constexpr size_t kLockStripes = 1024;
  SpinLock& LockFor(uint64_t no) const { return locks_[no % kLockStripes]; }
  std::shared_ptr<const Page>* Slot(uint64_t no, bool create);
  std::shared_ptr<const Page> Load(uint64_t no);
  // Puts `page` into the slot, returns what was there.
  std::shared_ptr<const Page> Exchange(uint64_t no, std::shared_ptr<const Page> page);
  void NoteLimit(uint64_t no);
  void MaybeEvict();

  const std::shared_ptr<io::FileSystem> fs_;
  const std::string path_;
  const size_t page_bytes_;
  std::atomic<size_t> cache_bytes_;
  std::unique_ptr<io::RandomAccessFile> reader_;
  // Used only by page writes (WritePages, WriteRaw, EnsurePages, Sync), which
  // BtreeImpl calls under its apply_mu_ (checkpoints) or while opening; no
  // mutex here.
  std::unique_ptr<io::WritableFile> writer_;
  // WritePages' run buffer (allocated on first use, reused: a 1 MiB buffer
  // per run made every run fault its pages in) and the O_DIRECT handle for
  // fresh bulk pages; same rule as writer_.
  std::unique_ptr<io::AlignedBuffer> run_;
  std::unique_ptr<io::WritableFile> direct_writer_;
  bool direct_refused_ = false;  // the file system did not open it: never ask again
  bool direct_unsynced_ = false;
  // The slot arrays: chunk pointers are published with release stores and
  // never freed before the Pager; each slot is read and written only under
  // LockFor(page number), a striped spin lock (no annotation: the stripe
  // depends on the page number).
  std::unique_ptr<std::atomic<Chunk*>[]> chunks_;
  mutable SpinLock locks_[kLockStripes];
  std::atomic<uint64_t> limit_{0};  // one past the highest page number seen

  std::mutex evict_mu_;  // one MaybeEvict sweep at a time
  uint64_t clock_hand_ STRATA_GUARDED_BY(evict_mu_) = 0;

  std::atomic<int64_t> cached_bytes_{0};
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
  std::atomic<uint64_t> evictions_{0};
  std::atomic<uint64_t> pages_written_{0};
  std::atomic<uint64_t> bytes_written_{0};
};

}  // namespace strata::btree
