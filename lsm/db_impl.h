// DBImpl: the LSM engine behind strata::Open (kind "lsm").
//
// Write path: writers queue up (LevelDB style); the head of the queue
// becomes the leader, groups the queued batches, gives them consecutive
// sequence numbers, appends them to the WAL in one record (synced if any
// member asked), inserts them into the memtable and then publishes the last
// sequence, which makes the whole group visible at once. A full memtable
// becomes immutable and the flush thread writes it to an L0 table; a
// compaction thread keeps the tree in shape. Writers slow down and then wait
// when memtables or L0 files pile up (EngineStats::stall_micros).
//
// Durability: a sync write returns after its WAL record (and every earlier
// one) is fdatasynced. A write without sync returns after its group's WAL
// record was written to the file (in the kernel: a process crash loses
// nothing acknowledged, a machine crash a suffix of the unsynced writes).
// Options::wal_buffer_bytes trades that for fewer WAL writes (LogGroup).
//
// Errors: a failed WAL write, flush or compaction sets bg_error_, which stops
// every later write and shows in Stats(); Resume() clears it when the failed
// work can be retried (see SetBackgroundErrorLocked). The info log (LOG, or
// Options::info_log) records open, recovery, flushes, compactions, stalls and
// errors.
//
// Read-only (Options::read_only): no lock file, no WAL (its records are read
// into the memtable), no manifest written, no background threads.
//
// Reads never take mu_: Get and NewIterator pin the current SuperVersion
// (memtable, immutable memtables, Version) from a SuperVersionSlot (a
// thread-local cached reference, lsm/super_version.h) and then run without
// locks; an iterator holds its SuperVersion so its memtables and files stay
// alive and on disk (the VersionSet counts every Version still referenced as
// live). GetSnapshot takes only snapshots_mu_, a leaf mutex for the list.
//
// Threading: every public method may be called concurrently (Close: once
// nothing else runs). mu_ guards the writer queue, the installation of a new
// SuperVersion and background state; it is never held during I/O: the write
// leader releases it while it writes the WAL, also for a memtable switch.
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
#include <thread>
#include <vector>

#include "core/thread_annotations.h"
#include "io/file_system.h"
#include "io/scrub.h"
#include "lsm/block_cache.h"
#include "lsm/compaction_job.h"
#include "lsm/compaction_picker.h"
#include "strata/disk_profile.h"
#include "lsm/memtable.h"
#include "lsm/super_version.h"
#include "lsm/version_set.h"
#include "lsm/wal_payload.h"
#include "strata/engine.h"
#include "wal/log.h"

namespace strata::lsm {

class DBImpl final : public Engine {
 public:
  static Status Open(const Options& options, const std::string& path,
                     std::unique_ptr<Engine>* engine);
  ~DBImpl() override;

  std::string_view kind() const override { return "lsm"; }
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
  Status CompactAll() override;
  Status Checkpoint(const std::string& dir) override;
  // lsm/checkpoint.cc: hard links for tables, a flush instead of the WAL.
  Status CreateCheckpoint(const CheckpointOptions& options, CheckpointInfo* info) override;
  Status Close() override;
  Status Resume() override;

  // "ssd (auto: /sys/dev/block/253:0/queue/rotational=0)".
  std::string profile_description() const;
  CompactionStyle compaction_style() const { return compaction_options_.style; }
  // Waits until no flush or compaction is pending or running, so that tests
  // can look at the shape the tree settles into.
  Status WaitForCompactions();

  // Memory held by the memtables (active and immutable, as counted by their
  // arenas). A memtable is switched at switch_bytes (memtable_bytes divided
  // among the live memtables), and the write leader waits while the other
  // share is still being flushed, so bytes stays within memtable_bytes plus
  // one write group and one arena block per memtable. A memtable that readers or
  // iterators still hold after its flush is no longer counted.
  struct MemTableMemory {
    size_t bytes = 0;
    size_t bytes_peak = 0;  // highest `bytes` after a write since Open
    size_t switch_bytes = 0;
    bool writer_waiting = false;  // a writer waits for a flush to free room
  };
  MemTableMemory memtable_memory() const;

  // Test hook: runs inside DeleteObsoleteFiles (on whichever thread calls
  // it, without mu_) after it has read which files are live and before it
  // lists the directory, so that a test can put a manifest rollover into
  // that window. Null in production.
  void SetObsoleteScanHookForTesting(std::function<void()> hook);
  const VersionSet& versions_for_testing() const { return *versions_; }
  // Test hook: a garbage-collection pass now, as a finishing job would run it.
  void DeleteObsoleteFilesForTesting() { DeleteObsoleteFiles(); }
  // Test hook: runs `fn` with mu_ held (as the write leader, flushes and
  // compactions hold it), so that a test can show reads do not need it.
  void RunWithMutexHeldForTesting(const std::function<void()>& fn);

  // lsm/scrub.cc: re-reads and verifies every live SSTable once through
  // `limiter`, reporting each corrupt one (Options::scrub_bytes_per_second
  // runs it in the background; `strata scrub` once).
  Status ScrubOnce(io::ByteRateLimiter* limiter, const io::ScrubReportFn& report,
                   io::ScrubCounters* counters);

 private:
  class SnapshotImpl;
  class LiveIterator;
  struct Writer;

  DBImpl(const Options& options, std::string path, std::shared_ptr<io::FileSystem> fs,
         ResolvedDiskProfile profile);
  Status Recover();
  Status ReplayWal(const wal::LogOptions& log_options, bool fresh_wal);
  // Opens the WAL and replays it from the manifest's WAL position, checking
  // that the WAL still holds everything from there (Corruption naming what is
  // missing) and continuing its numbering there after a power cut lost an
  // unsynced, already flushed tail.
  Status OpenWalAtManifestPosition(const wal::LogOptions& log_options,
                                   const wal::Log::ReplayFn& apply, bool fresh_wal);
  Status ReplayWalReadOnly();
  Status ApplyWalRecord(uint64_t lsn, std::string_view payload, SequenceNumber* last);
  // Refuses calls after Close and writes in read-only mode.
  Status CheckWritable() const;

  Status WriteImpl(const WriteOptions& options, const WriteBatch* batch);
  Status LogGroup(const WriteBatch& group, bool sync);
  Status FlushWalBuffer(bool sync);
  Status MakeRoomForWrite(std::unique_lock<std::mutex>& lock, bool force);
  WriteBatch* BuildBatchGroup(Writer** last_writer);
  void SwitchMemTableLocked();
  std::shared_ptr<MemTable> NewMemTable(uint64_t wal_lsn_start) const;
  void NoteMemTableBytesLocked();
  void InstallSuperVersionLocked();
  std::shared_ptr<const SuperVersion> GetSuperVersion() const;
  Status GetInternal(const ReadOptions& options, std::string_view key, ValueType* type,
                     std::string* value);
  SequenceNumber ReadSequence(const ReadOptions& options) const;
  void ReleaseSnapshot(std::multiset<SequenceNumber>::iterator it);
  std::vector<SequenceNumber> LiveSnapshots() const;

  void FlushThread();
  void CompactionThread();
  Status FlushOldestImmutable(bool* resumable);
  Status RunOneCompaction(std::unique_ptr<Compaction> c, bool* resumable);
  JobContext MakeJobContext(uint64_t target_file_bytes);
  uint64_t NewPendingFileNumber();
  // `resumable`: the failed work left nothing behind that must be repaired
  // (a table write: its file is abandoned), so Resume may retry it.
  void SetBackgroundErrorLocked(const Status& s, bool resumable);
  void DeleteObsoleteFiles();
  void StartScrubber();  // lsm/scrub.cc
  Status WaitForImmutablesFlushed();
  Status BuildCheckpoint(const std::string& tmp, SequenceNumber sequence, CheckpointInfo* info);
  Status RewriteTableAsOf(const FileMetaData& f, SequenceNumber sequence, const std::string& dir,
                          FileMetaData* out);

  const Options options_;
  const bool read_only_;
  const std::string path_;
  std::string wal_dir_;  // resolved at Recover (wal/wal_dir.h)
  // Options::background_write_bytes_per_second; null when 0 (no limit).
  std::shared_ptr<io::WriteRateLimiter> write_rate_limiter_;
  const std::shared_ptr<io::FileSystem> fs_;
  const ResolvedDiskProfile profile_;
  // A memtable becomes immutable at this size (Options::memtable_bytes is
  // the budget of all memtables together).
  const size_t memtable_switch_bytes_;
  const size_t arena_block_bytes_;
  TableOptions table_options_;
  CompactionOptions compaction_options_;
  // Largest write group that fits one WAL record.
  uint64_t wal_payload_bytes_max_ = 0;
  std::unique_ptr<io::FileLock> lock_file_;
  std::unique_ptr<BlockCache> cache_;
  std::unique_ptr<VersionSet> versions_;
  std::unique_ptr<wal::Log> wal_;
  CompactionPicker picker_;

  // Published last sequence: every entry <= it is in a memtable or table.
  std::atomic<SequenceNumber> last_sequence_{0};

  mutable std::mutex mu_;
  std::condition_variable bg_cv_;       // flush/compaction progress, for writers
  std::condition_variable flush_cv_;    // work for the flush thread
  std::condition_variable compact_cv_;  // work for the compaction thread
  std::deque<Writer*> writers_ STRATA_GUARDED_BY(mu_);
  WriteBatch group_batch_;  // leader only
  WriteBatch wal_buffer_;   // leader only: groups logged later (LogGroup)
  // Leader only: compresses what LogGroup logs (unless compression is off).
  WalPayloadCodec wal_codec_{options_.compression != Compression::kNone};
  std::shared_ptr<MemTable> mem_ STRATA_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<MemTable>> imms_ STRATA_GUARDED_BY(mu_);  // newest first
  size_t imm_bytes_ STRATA_GUARDED_BY(mu_) = 0;                         // sum over imms_
  size_t memtable_bytes_peak_ STRATA_GUARDED_BY(mu_) = 0;
  bool writer_waiting_for_room_ STRATA_GUARDED_BY(mu_) = false;
  // Installed under mu_, read by readers without it.
  SuperVersionSlot super_version_;
  // Leaf lock for snapshots_ (GetSnapshot must not wait for mu_).
  mutable std::mutex snapshots_mu_;
  std::multiset<SequenceNumber> snapshots_ STRATA_GUARDED_BY(snapshots_mu_);
  std::set<uint64_t> pending_outputs_ STRATA_GUARDED_BY(mu_);
  std::function<void()> obsolete_scan_hook_ STRATA_GUARDED_BY(mu_);  // tests only
  Status bg_error_ STRATA_GUARDED_BY(mu_);
  bool bg_error_resumable_ STRATA_GUARDED_BY(mu_) = false;
  uint64_t bg_error_count_ STRATA_GUARDED_BY(mu_) = 0;
  std::atomic<bool> closed_{false};
  std::shared_ptr<InfoLogger> info_log_;
  // Iterators and snapshots alive; the engine must outlive them.
  std::atomic<int64_t> live_iterators_{0};
  std::atomic<int64_t> live_snapshots_{0};
  bool shutting_down_ STRATA_GUARDED_BY(mu_) = false;
  bool manual_compaction_requested_ STRATA_GUARDED_BY(mu_) = false;
  uint64_t manual_compactions_done_ STRATA_GUARDED_BY(mu_) = 0;
  bool compaction_running_ STRATA_GUARDED_BY(mu_) = false;
  std::thread flush_thread_;
  std::thread compaction_thread_;
  std::unique_ptr<io::BackgroundScrubber> scrubber_;  // Options::scrub_bytes_per_second

  // Striped locks for PutIfNewer: one key maps to one mutex, so unrelated
  // keys proceed in parallel.
  static constexpr size_t kKeyLockStripes = 256;
  std::mutex key_locks_[kKeyLockStripes];

  // Stats.
  std::atomic<uint64_t> user_bytes_written_{0};
  std::atomic<uint64_t> flush_bytes_written_{0};
  std::atomic<uint64_t> compaction_bytes_read_{0};
  std::atomic<uint64_t> compaction_bytes_written_{0};
  std::atomic<uint64_t> stall_micros_{0};
  std::atomic<uint64_t> bloom_negatives_{0};
  std::atomic<uint64_t> flush_count_{0};
  std::atomic<uint64_t> compaction_count_{0};
  std::atomic<uint64_t> trivial_move_count_{0};
  std::atomic<uint64_t> write_groups_{0};
  std::atomic<uint64_t> stall_count_{0};
};

}  // namespace strata::lsm
