// BtreeImpl: the copy-on-write B+ tree engine behind strata::Open (kind "btree").
//
// Design (btree/FORMAT.md has the reasons and the byte layout):
// - Write path: a batch is appended to strata's WAL (its group commit; synced
//   when asked), then applied in LSN order by copying the root-to-leaf path(s)
//   into free pages in memory and publishing a new Version (root, height).
// - Readers, iterators and snapshots pin a Version (a shared pointer taken
//   under a short mutex) and then run without locks on immutable pages; they
//   never wait for the writer or its I/O.
// - Checkpoint (WAL bytes since the last one pass half of
//   Options::memtable_bytes, or dirty pages all of it; Flush(); close): dirty pages are written in page
//   order, fdatasync, then the other meta page, fdatasync; then the WAL
//   before the checkpoint's LSN is released. A page reachable from the
//   durable meta is never overwritten, so a torn write only hits pages that
//   meta does not reach.
// - A freed page is reused only when no live Version can reach it (its
//   version id is below every live one) and, if it was on disk, once a
//   checkpoint that no longer reaches it is durable.
//
// Threading: every public method may be called concurrently. apply_mu_
// serialises the application of batches and checkpoints (writers only);
// version_mu_ guards the published Version pointer.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "btree/btree_engine.h"
#include "btree/format.h"
#include "btree/pager.h"
#include "io/file_system.h"
#include "io/scrub.h"
#include "strata/engine.h"
#include "wal/log.h"

namespace strata::btree {

inline constexpr char kDataFileName[] = "btree.db";
inline constexpr char kWalDirName[] = "wal";
inline constexpr char kLockFileName[] = "LOCK";
inline constexpr size_t kPageBytesSsd = 4 * 1024;
inline constexpr size_t kPageBytesHdd = 16 * 1024;

// One published state of the tree.
struct Version {
  uint64_t id = 0;
  uint64_t root = 0;
  uint32_t height = 0;
  uint64_t lsn = 0;  // WAL record (to be) holding the last change
  uint64_t entries = 0;
};

class BtreeImpl;

// The engine's iterator: a root-to-leaf stack over one pinned version.
class BtreeIterator final : public Iterator {
 public:
  BtreeIterator(BtreeImpl* db, std::shared_ptr<const Version> version,
                std::optional<std::string> upper_bound);
  bool Valid() const override { return valid_; }
  void SeekToFirst() override;
  void SeekToLast() override;
  void Seek(std::string_view target) override;
  void Next() override;
  void Prev() override;
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  std::optional<uint64_t> version() const override { return version_; }
  Status status() const override { return status_; }

 private:
  struct Level {
    PageRef page;
    size_t index = 0;  // leaf: entry; branch: child
  };
  // Descends from stack_[depth] (already positioned) to a leaf, taking the
  // first (or last) child at every level below.
  bool DescendEdge(bool last);
  // Before the iterator enters a leaf below the branch `top`: reads the
  // next window of sibling leaves in the direction of travel in one batch.
  void ReadAhead(const PageRef& branch, size_t index, bool forward);
  // A seek starts a new scan: the next read-ahead window is small again.
  void RestartReadAhead() {
    ahead_pages_ = 2;
    ahead_end_ = 0;
  }
  bool StepLeaf(bool forward);
  void Settle();  // loads key/value at the leaf position, or invalidates
  void Fail(Status s);

  BtreeImpl* const db_;
  const std::shared_ptr<const Version> version_ptr_;
  const std::optional<std::string> upper_bound_;
  std::vector<Level> stack_;
  // The read-ahead window: children [ahead_begin_, ahead_end_) of branch page
  // ahead_page_ were prefetched. The next window holds ahead_pages_ leaves:
  // 2 after a seek, doubling per window up to kReadAheadBytes, so a short
  // scan reads little more than it uses and a long one reads in big batches.
  size_t ahead_pages_ = 2;
  uint64_t ahead_page_ = 0;
  size_t ahead_begin_ = 0;
  size_t ahead_end_ = 0;
  bool valid_ = false;
  std::string_view key_;
  std::string_view value_;
  std::string value_buf_;
  uint64_t version_ = 0;
  Status status_;
};

class BtreeImpl final : public Engine {
 public:
  static Status Open(const Options& options, const std::string& path,
                     std::unique_ptr<Engine>* engine);
  ~BtreeImpl() override;

  std::string_view kind() const override { return "btree"; }
  Status Put(const WriteOptions& options, std::string_view key, std::string_view value) override;
  Status Delete(const WriteOptions& options, std::string_view key) override;
  Status Write(const WriteOptions& options, const WriteBatch& batch) override;
  Status Get(const ReadOptions& options, std::string_view key, std::string* value) override;
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) override;
  std::unique_ptr<Snapshot> GetSnapshot() override;
  Status PutIfNewer(const WriteOptions& options, std::string_view key, uint64_t version,
                    std::string_view value, bool* applied) override;
  Status GetVersioned(const ReadOptions& options, std::string_view key, std::string* value,
                      uint64_t* version) override;
  EngineStats Stats() const override;
  Status Flush() override;
  // Checkpoints, then closes the WAL and releases the directory lock.
  Status Close() override;
  Status CompactAll() override { return Flush(); }
  Status Checkpoint(const std::string& dir) override;
  // A new btree directory holding the tree as of options.snapshot (or now),
  // bulk-loaded from it (btree/checkpoint.cc).
  Status CreateCheckpoint(const CheckpointOptions& options, CheckpointInfo* info) override;

  // The btree iterator type, for SeekToLast/Prev.
  std::unique_ptr<BtreeIterator> NewBtreeIterator(const ReadOptions& options);

  // Builds the tree of an empty engine from a sorted stream (strictly
  // increasing keys): leaves filled left to right to `fill` (0.5..1.0) of a
  // page, branches above them, then a checkpoint makes it durable. `next`
  // returns false at the end; it fills key, value and version (0: unversioned).
  using BulkSource =
      std::function<bool(std::string* key, std::string* value, uint64_t* version)>;
  Status BulkLoad(const BulkSource& next, double fill);

  // An empty engine's WAL and meta continue at `lsn`, durably: copies
  // (checkpoints, installed snapshots) continue numbering after the state
  // they hold. InvalidArgument unless the tree is empty and checkpointed.
  Status ContinueAt(uint64_t lsn);

  const PageGeometry& geometry() const { return geo_; }
  std::string data_file() const;
  uint64_t checkpoints() const { return checkpoints_.load(); }

  // btree/scrub.cc: re-reads and verifies every page of the newest durable
  // checkpoint once through `limiter` (btree::CheckFile), reporting a
  // corruption (Options::scrub_bytes_per_second runs it in the background).
  Status ScrubOnce(io::ByteRateLimiter* limiter, const io::ScrubReportFn& report,
                   io::ScrubCounters* counters);

 private:
  friend class BtreeIterator;
  class SnapshotImpl;
  // One write transaction: the batch being applied on top of `root`.
  struct Txn {
    uint64_t version_id = 0;
    uint64_t lsn = 0;
    uint64_t root = 0;
    uint32_t height = 0;
    uint64_t entries = 0;
    std::unordered_set<uint64_t> fresh;     // allocated by this txn: not visible to anyone
    std::vector<uint64_t> freed_published;  // freed pages a published version reaches
    std::deque<std::string> keys;           // storage for separators and cells built here
  };
  struct BranchEntry {
    std::string_view key;  // unused for entry 0
    uint64_t child = 0;
  };
  struct NodeOut {
    std::string_view key;  // separator before this node (unused for the first)
    uint64_t page = 0;
  };
  struct MutateResult {
    bool changed = false;
    bool underfull = false;
    std::vector<NodeOut> nodes;
  };
  struct Op {
    bool is_delete = false;
    std::string_view key;
    std::string_view value;
    bool versioned = false;
    uint64_t version = 0;
  };
  struct PendingFree {
    uint64_t page = 0;
    uint64_t freed_at = 0;  // first version id that cannot reach it
    uint64_t durable_gen = 0;  // checkpoint generation that must be durable first
  };

  BtreeImpl(const Options& options, std::string path, std::shared_ptr<io::FileSystem> fs,
            size_t page_bytes);
  Status Recover(bool explicit_page_size);
  Status LoadFreeList(const Meta& meta);

  // Reads.
  std::shared_ptr<const Version> CurrentVersion() const;
  Result<std::shared_ptr<const Version>> ReadVersion(const ReadOptions& options) const;
  Status Find(const Version& v, std::string_view key, std::string* value, uint64_t* version);
  Result<PageRef> GetNode(uint64_t page, uint32_t level);
  Status ReadOverflow(uint64_t first, uint64_t bytes, std::string* out);
  Status ValueOf(const LeafCell& cell, std::string* value);

  // Writes.
  Status WriteImpl(const WriteOptions& options, const WriteBatch& batch);
  Status FlushWalBufferLocked();
  Status ApplyBatch(uint64_t lsn, const WriteBatch& batch);
  Status ApplyOp(Txn* t, const Op& op);
  // Installs a mutated root (0, 1 or 2 nodes) and collapses a root branch
  // with one child or an empty root leaf.
  Status SetRoot(Txn* t, const MutateResult& r);
  // btree/range_delete.cc: DeleteRange page by page. Subtrees wholly inside
  // [begin, end) are freed without a key lookup (a walk frees their pages
  // and overflow chains); at most two root-to-leaf paths are rewritten.
  Status ApplyRangeDelete(Txn* t, std::string_view begin, std::string_view end);
  Status RangeDeleteNode(Txn* t, uint64_t page, uint32_t level, std::string_view begin,
                         std::string_view end, const std::string_view* lo,
                         const std::string_view* hi, MutateResult* r);
  Status RangeDeleteLeaf(Txn* t, const PageRef& page, std::string_view begin, std::string_view end,
                         MutateResult* r);
  Status FreeSubtree(Txn* t, uint64_t page, uint32_t level);
  Status RebalanceTouched(Txn* t, std::vector<BranchEntry>* ents, uint32_t child_level);
  Status FixFreshBranch(Txn* t, uint64_t page, uint32_t level, MutateResult* r);
  Status Mutate(Txn* t, uint64_t page, uint32_t level, const Op& op, MutateResult* r);
  Status MutateLeaf(Txn* t, const PageRef& page, const Op& op, MutateResult* r);
  Status MutateBranch(Txn* t, const PageRef& page, uint32_t level, const Op& op,
                      MutateResult* r);
  Status Rebalance(Txn* t, std::vector<BranchEntry>* ents, size_t i, uint32_t child_level);
  void EmitLeaf(Txn* t, std::vector<std::string_view>& cells, std::vector<std::string_view>& keys,
                MutateResult* r);
  void EmitBranch(Txn* t, uint32_t level, const std::vector<BranchEntry>& ents, MutateResult* r);
  uint64_t AllocPage(Txn* t);
  void FreePage(Txn* t, uint64_t page);
  Status FreeOverflow(Txn* t, const LeafCell& cell);
  Status WriteOverflow(Txn* t, std::string_view value, uint64_t* first);
  void Commit(Txn* t);
  void Reclaim();
  uint64_t MinLiveVersion();
  void SetError(const Status& s);
  void StartScrubber();  // btree/scrub.cc

  // Checkpoints (REQUIRES apply_mu_).
  Status CheckpointLocked();
  void MaybeCheckpointLocked();
  Status LockedTurn(std::unique_lock<std::mutex>& lock);

  const Options options_;
  const std::string path_;
  const std::shared_ptr<io::FileSystem> fs_;
  size_t page_bytes_;
  PageGeometry geo_;
  uint64_t checkpoint_bytes_ = 0;
  uint64_t wal_payload_bytes_max_ = 0;
  std::unique_ptr<io::FileLock> lock_file_;
  std::unique_ptr<Pager> pager_;
  std::unique_ptr<wal::Log> wal_;

  mutable std::mutex version_mu_;
  std::shared_ptr<const Version> current_;  // guarded by version_mu_

  // Writer state, guarded by apply_mu_.
  mutable std::mutex apply_mu_;
  std::condition_variable apply_cv_;
  uint64_t next_apply_lsn_ = 1;
  uint64_t appends_in_flight_ = 0;  // synced batches appended, not yet applied
  WriteBatch wal_buffer_;  // applied unsynced batches not logged yet
  uint64_t next_version_id_ = 2;
  uint64_t page_count_ = kMetaPages;
  std::set<uint64_t> free_;
  std::deque<PendingFree> pending_;
  std::set<uint64_t> dirty_;
  std::deque<std::pair<uint64_t, std::weak_ptr<const Version>>> published_;
  Meta durable_;
  uint64_t durable_gen_ = 0;
  std::vector<uint64_t> durable_free_pages_;  // the durable meta's free-list pages
  uint64_t wal_bytes_at_checkpoint_ = 0;
  std::string branch_scratch_;  // EmitBranch's cell buffer
  Status error_;  // sticky: a failed WAL append, apply or checkpoint
  bool closed_ = false;

  static constexpr size_t kKeyLockStripes = 256;
  std::mutex key_locks_[kKeyLockStripes];

  std::atomic<uint64_t> user_bytes_written_{0};
  std::atomic<uint64_t> checkpoints_{0};
  std::atomic<uint64_t> snapshots_{0};
  // Options::scrub_bytes_per_second. Last, so that it stops first.
  std::unique_ptr<io::BackgroundScrubber> scrubber_;
};

}  // namespace strata::btree
