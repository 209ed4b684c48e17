// wal::Log: a segmented, checksummed write-ahead log with group commit.
//
// The log is a directory of fixed-size segment files (FORMAT.md). Records get
// consecutive log sequence numbers (LSNs) starting at 1; an LSN grows with
// acknowledgement order, and a record acknowledged as durable implies every
// earlier record is durable too.
//
// Group commit: every Append encodes its record into the group that is
// forming; one caller at a time is the leader and writes every formed group
// with one WriteAtAndSync (write + linked fdatasync, one io_uring submission
// on the uring file system), while the next group forms behind it. Every
// Append returns after its record reached the file (so a process crash does
// not lose it), and after fdatasync when sync is requested.
//
// A background thread prepares the next segment ahead of need (recycled,
// pre-zeroed or fallocated, see LogOptions::preparation) so that a
// steady-state fdatasync writes no file-system metadata.
//
// Errors: a failed write or fdatasync fails the log for good: every waiter and
// every later call gets that Status.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "io/file_system.h"
#include "strata/options.h"
#include "strata/status.h"
#include "wal/limits.h"

namespace strata::wal {

// How a new segment is made ready before it becomes the active one.
enum class SegmentPreparation : uint8_t {
  kFallocate = 1,  // fallocate only: unwritten extents, converted on first write
  kZeroFill = 2,   // write zeros over the whole segment once
  kRecycle = 3,    // reuse a released segment (its old records stay, stale); else zero-fill
  // Reuse a released segment; else fallocate. No zeros are ever written: for
  // a log that mostly does not sync (an LSM's), whose first segments may pay
  // an extent conversion in the odd fdatasync until recycled ones arrive.
  kRecycleElseFallocate = 4,
};

// Whether `preparation` reuses released segments.
constexpr bool Recycles(SegmentPreparation preparation) {
  return preparation == SegmentPreparation::kRecycle ||
         preparation == SegmentPreparation::kRecycleElseFallocate;
}

struct LogOptions {
  std::shared_ptr<io::FileSystem> file_system;  // null = io::DefaultFileSystem()
  // The most one segment may hold (a record must fit one segment). Segment
  // files are not this big from birth: they start at one chunk after the
  // header and grow by segment_chunk_bytes as records reach the end of
  // their allocation (each growth: allocate, fdatasync, then a grow record,
  // FORMAT.md), so that an fdatasync writes file-system metadata only once
  // per chunk.
  uint64_t segment_bytes = 64 * kMiB;
  // Growth step of a segment file (a multiple of 4 KiB, at least 4 KiB).
  uint64_t segment_chunk_bytes = 4 * kMiB;
  // The writer moves to a new segment once the current one holds records
  // and the next record would take it past this size (0: segment_bytes). A
  // larger record still goes into one segment of up to segment_bytes.
  // Smaller segments are released sooner (ReleaseBefore frees whole
  // segments). At most segment_bytes.
  uint64_t segment_target_bytes = 0;
  // Released segments kept for reuse (preparation kRecycle*); the rest are
  // deleted. At most kRecyclePoolMax.
  size_t recycled_segments_max = kRecyclePoolMax;
  bool direct_io = false;
  WalRecoveryMode recovery = WalRecoveryMode::kStrict;
  SegmentPreparation preparation = SegmentPreparation::kRecycle;
  // Group-commit wait (as PostgreSQL's commit_delay with commit_siblings, but
  // adaptive): before a leader starts a synced write, it waits for as many
  // sync appenders as took part in the last commit round (those threads are
  // about to come back), at most a quarter of the recent fdatasync latency and
  // at most this long. 0 disables the wait. A lone appender never waits.
  uint64_t group_wait_micros_max = 1000;
};

// What Open found. Offsets are byte offsets inside the named segment.
struct RecoveryReport {
  uint64_t segment_count = 0;
  uint64_t record_count = 0;
  uint64_t bytes = 0;  // bytes of valid records (headers and padding included)
  // The newest data ended in an incomplete record (a write cut short by a
  // crash); it was dropped and zeroed.
  bool torn_tail = false;
  uint64_t torn_segment = 0;
  uint64_t torn_offset = 0;
  uint64_t dropped_bytes = 0;
  // Point-in-time recovery cut the log at a bad record followed by valid ones.
  bool point_in_time_cut = false;
  std::string corruption;  // what was cut, when point_in_time_cut
  uint64_t segments_removed = 0;  // unprepared or cut-off segment files removed
  std::string ToString() const;
};

// Where a record lives; lets a reader fetch one record again (ReadRecord).
struct RecordLocation {
  uint64_t lsn = 0;
  uint64_t segment_seq = 0;
  uint64_t offset = 0;
  uint32_t payload_bytes = 0;
};

struct LogStats {
  uint64_t records = 0;
  uint64_t bytes_written = 0;         // record bytes (headers, payloads, padding)
  uint64_t device_bytes_written = 0;  // incl. block rewrites in O_DIRECT mode
  uint64_t groups = 0;                // leader writes
  uint64_t syncs = 0;                 // fdatasync calls on segments
  uint64_t segments_prepared = 0;
  uint64_t segments_recycled = 0;
  uint64_t segments_released = 0;
  uint64_t prepare_waits = 0;  // times a writer waited for segment preparation
  uint64_t segment_growths = 0;  // allocations that extended the active segment file
  uint64_t group_waits = 0;          // leader waits for expected appenders
  uint64_t group_wait_timeouts = 0;  // ... that ended at the deadline
  uint64_t group_wait_micros = 0;    // total time leaders waited
};

// Whether `dir` holds at least one segment file (a missing directory holds
// none). Owners that recorded a WAL position use it before Open, which would
// create a fresh log: an absent log then means lost records, not a new one.
Status HasSegmentFile(io::FileSystem* fs, const std::string& dir, bool* any);

class Log {
 public:
  // Opens or creates the log in `dir`, recovering what is there (see
  // RecoveryReport). Strict recovery fails with Corruption naming segment and
  // offset when a bad record is followed by valid ones.
  static Status Open(const LogOptions& options, const std::string& dir, std::unique_ptr<Log>* log,
                     RecoveryReport* report = nullptr);

  using ReplayFn = std::function<Status(uint64_t lsn, std::string_view payload)>;
  using LocatedReplayFn =
      std::function<Status(const RecordLocation& where, std::string_view payload)>;
  // Open and Replay(from_lsn, fn) in one pass over the disk: the recovery scan
  // hands each verified record with lsn >= from_lsn to fn as it goes. If Open
  // then fails (strict mode finding corruption further on), fn has seen
  // records of a log that did not open: discard what it built. In
  // point-in-time mode fn sees exactly the records that are kept.
  static Status OpenAndReplay(const LogOptions& options, const std::string& dir,
                              uint64_t from_lsn, const ReplayFn& fn, std::unique_ptr<Log>* log,
                              RecoveryReport* report = nullptr);
  static Status OpenAndReplayWithLocation(const LogOptions& options, const std::string& dir,
                                          uint64_t from_lsn, const LocatedReplayFn& fn,
                                          std::unique_ptr<Log>* log,
                                          RecoveryReport* report = nullptr);

  virtual ~Log() = default;

  // Calls fn for every durable record with lsn >= from_lsn, in order. Call it
  // before appending. A non-ok Status from fn stops the replay and is returned.
  virtual Status Replay(uint64_t from_lsn,
                        const std::function<Status(uint64_t lsn, std::string_view payload)>& fn) = 0;
  // Replay that also reports where each record lives.
  virtual Status ReplayWithLocation(
      uint64_t from_lsn,
      const std::function<Status(const RecordLocation& where, std::string_view payload)>& fn) = 0;

  // Appends one record and returns its LSN; durable before return when sync.
  // Payloads above kRecordPayloadBytesMax (or an empty segment) are
  // InvalidArgument.
  virtual Result<uint64_t> Append(std::string_view payload, bool sync) = 0;
  // As Append, also returning where the record was written.
  virtual Result<RecordLocation> AppendWithLocation(std::string_view payload, bool sync) = 0;
  // Makes every appended record durable.
  virtual Status Sync() = 0;
  // Returns once every record up to `lsn` is durable: at once if they are,
  // else as Sync() (joining the group commit under way).
  virtual Status SyncThrough(uint64_t lsn) = 0;
  // Reads one appended record back, verifying its checksum and identity.
  virtual Status ReadRecord(const RecordLocation& where, std::string* payload) = 0;

  // Continues the numbering at `lsn` (> next_lsn()): the next record gets
  // that LSN. For a caller whose own durable state says every record below
  // `lsn` existed and is no longer needed (an LSM whose manifest records that
  // the WAL reached `lsn`, after a power cut lost an unsynced, already
  // flushed tail): every record the log holds is below `lsn`, so the log
  // starts a fresh segment and drops the old ones (oldest first, each durable
  // before the next; a crash midway leaves a contiguous log that the caller
  // continues again). Call it after Open, before any Append. Does nothing
  // when lsn <= next_lsn().
  virtual Status ContinueAt(uint64_t lsn) = 0;

  // Segments holding only records < lsn may be deleted or recycled. The
  // newest segment holding records is always kept (it carries next_lsn).
  virtual Status ReleaseBefore(uint64_t lsn) = 0;
  // The lowest lsn the log would still hold after ReleaseBefore(lsn) (next_lsn
  // when nothing would remain); callers use it to move what they still need
  // out of the segments about to go.
  virtual uint64_t ReleaseBoundary(uint64_t lsn) const = 0;

  virtual uint64_t next_lsn() const = 0;
  virtual LogStats stats() const = 0;
  // Segment files currently part of the log (oldest first), for tools/tests.
  virtual uint64_t segment_count() const = 0;
  // Sequence number of the newest segment (the one new records go to; 0
  // before the first). Segment seqs are consecutive, so the difference of
  // two is a distance in segments.
  virtual uint64_t head_segment_seq() const = 0;
};

}  // namespace strata::wal
