// LogStoreHostImpl: many consensus logs (strata::LogStore, one per replica
// group) in one physical wal::Log, so that concurrent commits of thousands
// of groups share fdatasyncs.
//
// Every change is one WAL record (log_store_record.h): a batch of entries, a
// suffix truncation, or a group's full metadata (compaction point + hard
// state). Opening replays the WAL into an in-memory index from (group, index)
// to (term, record location); entry data stays on disk and each read fetches
// its record again through Log::ReadRecord, which verifies the record's
// checksum and identity (the page cache keeps recent entries cheap). Nothing
// but the index is cached, so memory is ~48 bytes per live entry.
//
// Segments are released when no group needs them: a segment goes once every
// group's live entries lie in newer ones; metadata records still in it are
// first rewritten at the head of the log, and the whole log is synced before
// the segment goes, so a released segment never held the only durable copy
// of anything (a power cut later loses at most an unsynced suffix).
//
// Cold groups (LogStoreHostOptions::rewrite_lag_segments): a group whose
// oldest live entry lags far behind the head has its old live entries copied
// to the head in rewrite records (FORMAT.md), which replace the entries'
// locations and never drop an entry: an ordinary entries record at index i
// overwrites everything after i, so copying a log in several of those would
// lose its tail to a crash between them. A copy is checked against the
// group's index under its write mutex before it is appended (the group may
// have truncated or compacted while the copy was read), so the records a
// rewrite appends describe entries the group holds at that LSN.
//
// Because a rewrite moves a prefix of a group's entries ahead of the rest,
// entry locations are in LSN order only until a rewrite (sorted_); an
// unsorted group's pin is found by a scan of its index.
//
// Threading: a group's writes are serialised by its write mutex (held across
// the WAL append, so calls on one log apply in the order they return);
// readers take the group's state lock shared, only to copy the locations of
// what they read: the disk reads run after it is released (so a lagging
// follower's read never holds up the leader's appends), with the lowest
// LSN they read pinned so that MaybeRelease keeps its segment. The host's
// map of groups has its own mutex; groups are never destroyed before the
// host.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/thread_annotations.h"
#include "strata/log_store.h"
#include "wal/log.h"
#include "wal/log_store_record.h"

namespace strata::wal {

class LogStoreHostImpl;

class GroupLog final : public LogStore {
 public:
  GroupLog(LogStoreHostImpl* host, uint64_t group) : host_(host), group_(group) {}

  Status Append(std::span<const LogEntry> entries, bool sync) override;
  Result<uint64_t> AppendAsync(std::span<const LogEntry> entries) override;
  Status WaitDurable(uint64_t ticket) override;
  Status Entry(uint64_t index, LogEntry* entry) const override;
  Status Entries(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                 std::vector<LogEntry>* entries) const override;
  uint64_t FirstIndex() const override;
  uint64_t LastIndex() const override;
  Result<uint64_t> Term(uint64_t index) const override;
  Status TruncateSuffix(uint64_t index) override;
  Status CompactPrefix(uint64_t index) override;
  Status CompactPrefix(uint64_t index, const LogConfiguration& configuration) override;
  Status Reset(uint64_t last_index, uint64_t last_term) override;
  Status Reset(uint64_t last_index, uint64_t last_term,
               const LogConfiguration& configuration) override;
  SnapshotMeta GetSnapshotMeta() const override;
  Status SetHardState(const HardState& state) override;
  HardState GetHardState() const override;

 private:
  friend class LogStoreHostImpl;
  // Append, returning where the record went (lsn 0 for no entries).
  Result<RecordLocation> AppendAt(std::span<const LogEntry> entries, bool sync);
  // CompactPrefix and Reset; a null configuration keeps the stored one.
  Status CompactPrefixWith(uint64_t index, const LogConfiguration* configuration);
  Status ResetWith(uint64_t last_index, uint64_t last_term, const LogConfiguration* configuration);
  struct EntryRef {
    uint64_t term = 0;
    RecordLocation where;
    uint32_t data_offset = 0;
    uint32_t data_bytes = 0;
    LogEntryType type = LogEntryType::kCommand;
  };

  // Replay and runtime share these; REQUIRES: state_mu_ held exclusively.
  void ApplyEntries(const RecordLocation& where, const StoreRecord& record);
  void ApplyRewrite(const RecordLocation& where, const StoreRecord& record);
  void ApplyTruncate(uint64_t index);
  void ApplyMeta(const GroupMeta& meta, uint64_t lsn);
  // Sets sorted_ again once the entries' locations are in LSN order.
  void ResortLocked();
  // Corruption if replay left a placeholder entry.
  Status CheckReplayedLocked() const;
  // How many placeholder entries applying `record` in replay would add
  // (ApplyEntries past the last index, ApplyMeta below the first).
  uint64_t ReplayGapLocked(const StoreRecord& record) const;
  uint64_t LastIndexLocked() const { return first_index_ + entries_.size() - 1; }
  GroupMeta MetaLocked() const;
  // Appends a meta record (REQUIRES: write_mu_ held) and applies it.
  Status WriteMeta(const GroupMeta& meta, bool sync);
  // The live entry in the oldest record (null = no entries): the lowest lsn
  // this group's entries need kept. The front one while sorted_, else a scan.
  const EntryRef* OldestEntryLocked() const;
  // The data of `refs` (consecutive indexes from lo), read without locks.
  Status ReadRefs(uint64_t lo, const std::vector<EntryRef>& refs,
                  std::vector<LogEntry>* entries) const;
  // Live entry data bytes (with a little for each entry's framing).
  uint64_t LiveBytesLocked() const;
  // Copies this group's live entries that lie in segments below `below_seq`
  // to the head of the log in rewrite records, oldest index first, while
  // *budget (payload bytes) lasts. Takes the group's locks only to copy the
  // locations and to append and apply each record; reads the data between.
  struct RewriteCounts {
    uint64_t records = 0, entries = 0, bytes = 0;
  };
  Status RewriteBelow(uint64_t below_seq, uint64_t chunk_bytes, uint64_t* budget,
                      RewriteCounts* counts);
  bool HasStateLocked() const { return meta_lsn_ != 0 || !entries_.empty(); }

  LogStoreHostImpl* const host_;
  const uint64_t group_;
  // write_mu_ orders this group's WAL writes (held from encoding a record to
  // applying it); state_mu_ guards the in-memory index below: shared to
  // read, exclusive to apply. Lock order: write_mu_, then state_mu_.
  std::mutex write_mu_;
  mutable std::shared_mutex state_mu_ STRATA_ACQUIRED_AFTER(write_mu_);
  uint64_t first_index_ STRATA_GUARDED_BY(state_mu_) = 1;
  uint64_t prev_term_ STRATA_GUARDED_BY(state_mu_) = 0;
  // entries_[k] has index first_index_ + k
  std::deque<EntryRef> entries_ STRATA_GUARDED_BY(state_mu_);
  HardState hard_ STRATA_GUARDED_BY(state_mu_);
  LogConfiguration configuration_ STRATA_GUARDED_BY(state_mu_);
  uint64_t meta_lsn_ STRATA_GUARDED_BY(state_mu_) = 0;
  // entries_' locations are in LSN order (false after a rewrite moved some
  // ahead of others, until ResortLocked finds them in order again).
  bool sorted_ STRATA_GUARDED_BY(state_mu_) = true;
};

class LogStoreHostImpl final : public LogStoreHost {
 public:
  static Status Open(const LogStoreHostOptions& options, const std::string& dir,
                     std::unique_ptr<LogStoreHost>* host);

  LogStore* Group(uint64_t group_id) override;
  std::vector<uint64_t> GroupIds() const override;
  Status Sync() override;
  LogStoreHostStats Stats() const override;

  Log* log() { return log_.get(); }
  // Releases segments no group needs any more (after compaction or reset),
  // first rewriting cold groups' entries (rewrite_lag_segments).
  Status MaybeRelease();

 private:
  friend class GroupLog;
  GroupLog* GroupLocked(uint64_t group_id);
  // Applies one replayed WAL record to the index (Open).
  Status ApplyReplayed(const RecordLocation& where, std::string_view payload,
                       StoreRecord* scratch);
  // Corruption if replay left a placeholder entry in any group; else marks
  // which groups' locations are in LSN order.
  Status CheckReplayed();
  // The cold-group rewrites of one MaybeRelease. REQUIRES: release_mu_.
  Status RewriteColdGroups(const std::vector<GroupLog*>& groups);
  // Lowest lsn a read in progress has pinned (0 = none).
  uint64_t LowestReadPin();

  LogStoreHostOptions options_;

  std::unique_ptr<Log> log_;
  // mu_ guards the group map (a group, once created, lives as long as the
  // host); release_mu_ lets one MaybeRelease run at a time and is taken
  // before mu_ and the groups' mutexes.
  mutable std::mutex mu_;
  std::map<uint64_t, std::unique_ptr<GroupLog>> groups_ STRATA_GUARDED_BY(mu_);
  std::mutex release_mu_;
  // LSNs pinned by reads in progress outside the groups' locks (a multiset:
  // several readers may pin the same one). Taken after a group's state_mu_.
  std::mutex pins_mu_;
  std::multiset<uint64_t> read_pins_ STRATA_GUARDED_BY(pins_mu_);
  // Rewrite counters (LogStoreHostStats); written under release_mu_.
  std::atomic<uint64_t> rewrite_records_{0};
  std::atomic<uint64_t> rewritten_entries_{0};
  std::atomic<uint64_t> rewritten_bytes_{0};
};

}  // namespace strata::wal
