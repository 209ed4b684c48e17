// LogImpl: the implementation behind wal::Log (see log.h for the contract).
//
// Locking: mu_ guards everything except the members marked "leader only",
// which only the current group-commit leader (leader_active_ == true, set
// under mu_) touches, and the reader cache (read_mu_). The preparer thread
// owns the segment it is preparing until it publishes it under mu_.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/thread_annotations.h"
#include "wal/buffer.h"
#include "wal/log.h"
#include "wal/segment_scan.h"

namespace strata::wal {

class LogImpl final : public Log {
 public:
  LogImpl(const LogOptions& options, std::string dir, std::shared_ptr<io::FileSystem> fs);
  ~LogImpl() override;

  // Called once by Open, before any other method (recovery.cc). Hands every
  // verified record with lsn >= from_lsn to fn (if set) during the scan.
  Status Recover(RecoveryReport* report, uint64_t from_lsn, const LocatedReplayFn& fn);

  Status Replay(uint64_t from_lsn,
                const std::function<Status(uint64_t, std::string_view)>& fn) override;
  Status ReplayWithLocation(
      uint64_t from_lsn,
      const std::function<Status(const RecordLocation&, std::string_view)>& fn) override;
  Result<uint64_t> Append(std::string_view payload, bool sync) override;
  Result<RecordLocation> AppendWithLocation(std::string_view payload, bool sync) override;
  Status Sync() override;
  Status SyncThrough(uint64_t lsn) override;
  Status ReadRecord(const RecordLocation& where, std::string* payload) override;
  Status ContinueAt(uint64_t lsn) override;
  Status ReleaseBefore(uint64_t lsn) override;
  uint64_t ReleaseBoundary(uint64_t lsn) const override;
  uint64_t next_lsn() const override;
  LogStats stats() const override;
  uint64_t segment_count() const override;
  uint64_t head_segment_seq() const override;

 private:
  struct Segment {
    uint64_t seq = 0;
    uint64_t segment_bytes = 0;
    uint64_t first_lsn = 0;  // 0 while it holds no record
    uint64_t last_lsn = 0;
    uint64_t end_offset = kSegmentHeaderBytes;  // end of assigned records
    // File size declared so far (header or the last grow record assigned):
    // every assigned record and the room for a seal lie below it.
    uint64_t allocated = 0;
  };
  static constexpr uint32_t kPending = 0;
  static constexpr uint32_t kDone = 1;
  static constexpr uint32_t kLead = 2;  // the previous leader handed the lead on
  // Records encoded back to back for one segment, written by one leader.
  struct Group {
    uint64_t seq = 0;
    uint64_t offset = 0;
    std::string data;
    bool sync = false;
    uint32_t sync_waiters = 0;  // callers waiting for this group to be synced
    // The segment's declared allocation after this group's records: the
    // leader makes the file this big (and durable) before writing them.
    uint64_t allocated = 0;
    bool done = false;  // under mu_
    Status status;      // set before `state` becomes kDone
    // What waiters sleep on (futex-backed atomic wait, no mutex): they wake
    // without queueing on mu_ behind the leader.
    std::atomic<uint32_t> state{kPending};
  };
  using GroupPtr = std::shared_ptr<Group>;
  // What recovery learned about one segment file.
  struct FoundSegment {
    uint64_t seq = 0;
    Status header_status;
    uint64_t segment_bytes = 0;
    uint64_t allocated_bytes = 0;  // the largest size the header or a grow record declares
    SegmentScan scan;
    // Any record of this segment parses, whatever its lsn.
    bool HasRecords() const {
      return scan.record_count > 0 || scan.valid_after ||
             (scan.damaged && scan.end_check == RecordCheck::kOk);
    }
  };

  // --- writer (log.cc) ---
  Status AppendImpl(std::string_view payload, bool sync, RecordLocation* where);
  // Waits until `group` is written (and synced if it asked), leading the
  // commit when nobody else is. REQUIRES: lock holds mu_.
  Status WaitForGroup(const GroupPtr& group, std::unique_lock<std::mutex>& lock);
  void LeadLocked(std::unique_lock<std::mutex>& lock);
  // Before a synced write: waits briefly for the appenders expected to join
  // (LogOptions::group_wait_micros_max). REQUIRES: lock holds mu_, leader.
  void WaitForAppendersLocked(std::unique_lock<std::mutex>& lock);
  // Adds a caller waiting for `group` to be synced. REQUIRES: mu_ held.
  void AddSyncWaiterLocked(Group* group);
  Status WriteGroups(const std::vector<GroupPtr>& groups, bool sync, uint64_t* device_bytes,
                     uint64_t* syncs);
  Status WriteRun(uint64_t offset, const std::vector<std::string_view>& pieces, bool sync,
                  uint64_t* device_bytes);
  Status SwitchTo(uint64_t seq, uint64_t* device_bytes, uint64_t* syncs);
  // Extends the active file to `bytes` (zeros or fallocate, as the
  // preparation says) and fdatasyncs it, so the size is durable before any
  // record past the old end is written. Leader only.
  Status GrowActiveFile(uint64_t bytes, uint64_t* syncs);
  // Size of a new segment file: the header and one chunk.
  uint64_t InitialAllocation() const;
  // Appends a grow record to `group` for `seg`, declaring room for `need`
  // bytes (plus a seal). REQUIRES: mu_ held.
  void GrowSegmentLocked(Segment* seg, uint64_t need);
  GroupPtr GroupForLocked(uint64_t seq, uint64_t offset);

  // --- segment files (segment_files.cc) ---
  Status PrepareSegment(uint64_t seq, const std::string& free_name);
  void PreparerLoop();
  void StartPreparer();
  Status OpenActiveFile(uint64_t seq, uint64_t end_offset);
  std::string PathOf(const std::string& name) const;
  std::string SegmentPath(uint64_t seq) const;

  // --- recovery (recovery.cc) ---
  Status ZeroRange(uint64_t seq, uint64_t from, uint64_t to);
  // fsyncs a segment's file (its records are durable afterwards).
  Status SyncSegmentFile(uint64_t seq);
  Status RemoveSegmentFile(uint64_t seq);
  // How many oldest segments ReleaseBefore(lsn) may drop. REQUIRES: mu_ held.
  size_t ReleasableCountLocked(uint64_t lsn) const;
  // Decides torn tail vs corruption for the first bad spot and repairs it
  // (zeroing, removing files); may shrink *found.
  Status ResolveProblems(std::vector<FoundSegment>* found, RecoveryReport* report);
  // Seals (*found)[index] after its torn tail was zeroed, when newer
  // segments follow it.
  Status SealTornSegment(std::vector<FoundSegment>* found, size_t index);
  // Corruption (strict) when segment `seq`'s file is shorter than its header
  // declares.
  // Point-in-time mode restores the size instead.
  Status CheckSegmentFileSize(uint64_t seq, uint64_t declared_bytes, RecoveryReport* report);
  // Corruption (strict; a report in point-in-time mode) when the newest
  // segment is sealed: the segments after it were lost.
  Status CheckNewestNotSealed(std::vector<FoundSegment>* found, RecoveryReport* report);
  Status FinishRecovery(const std::vector<FoundSegment>& found, const std::vector<uint64_t>& seqs,
                        RecoveryReport* report);

  const LogOptions options_;
  const std::string dir_;
  const std::shared_ptr<io::FileSystem> fs_;
  std::unique_ptr<io::FileLock> dir_lock_;

  // mu_ guards the log's shared state below: the LSN counters, the segment
  // list, the commit queue and the preparer's hand-off. Open and recovery
  // run before any other thread sees the log and take it only where the
  // preparer may already run.
  mutable std::mutex mu_;
  Status failed_ STRATA_GUARDED_BY(mu_);
  uint64_t next_lsn_ STRATA_GUARDED_BY(mu_) = 1;
  uint64_t written_lsn_ STRATA_GUARDED_BY(mu_) = 0;
  uint64_t synced_lsn_ STRATA_GUARDED_BY(mu_) = 0;
  // oldest first; back() receives new records
  std::deque<Segment> segments_ STRATA_GUARDED_BY(mu_);
  std::deque<GroupPtr> queue_ STRATA_GUARDED_BY(mu_);  // formed, not yet taken by a leader
  bool leader_active_ STRATA_GUARDED_BY(mu_) = false;
  // Group-commit wait (log.cc WaitForAppendersLocked), under mu_.
  uint32_t queued_sync_waiters_ STRATA_GUARDED_BY(mu_) = 0;    // sync waiters in queue_
  uint32_t expected_sync_waiters_ STRATA_GUARDED_BY(mu_) = 0;  // appenders of the last round
  uint32_t leader_wait_target_ STRATA_GUARDED_BY(mu_) = 0;     // nonzero while a leader waits
  uint64_t sync_nanos_avg_ STRATA_GUARDED_BY(mu_) = 0;         // average of synced writes
  std::condition_variable leader_cv_;  // waited on with mu_
  // segment the leader writes; older ones are sealed
  uint64_t written_seq_ STRATA_GUARDED_BY(mu_) = 0;
  LogStats stats_ STRATA_GUARDED_BY(mu_);
  // recyclable segment files (names)
  std::vector<std::string> free_files_ STRATA_GUARDED_BY(mu_);

  // Preparer thread state (under mu_; preparer_ itself is started and joined
  // by the owner).
  std::thread preparer_;
  std::condition_variable prep_cv_;  // waited on with mu_
  bool stop_ STRATA_GUARDED_BY(mu_) = false;
  bool preparer_started_ STRATA_GUARDED_BY(mu_) = false;  // started by the first Append
  uint64_t prep_want_ STRATA_GUARDED_BY(mu_) = 0;     // seq to prepare next (0: none)
  uint64_t prepared_seq_ STRATA_GUARDED_BY(mu_) = 0;  // seq of the ready file (0: none)
  Status prep_status_ STRATA_GUARDED_BY(mu_);

  // Leader only (the one thread with leader_active_ set, which it set under
  // mu_): no mutex.
  std::unique_ptr<io::WritableFile> file_;
  uint64_t file_seq_ = 0;
  uint64_t file_allocated_ = 0;  // file_'s size: durable, may be written
  std::string tail_block_;  // O_DIRECT: bytes of the partial last block
  AlignedBytes staging_;    // O_DIRECT: aligned copy of a run

  std::mutex release_mu_;  // one ReleaseBefore at a time
  std::mutex read_mu_;
  std::map<uint64_t, std::shared_ptr<io::RandomAccessFile>> readers_ STRATA_GUARDED_BY(read_mu_);
};

}  // namespace strata::wal
