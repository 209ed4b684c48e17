// Options for opening an engine, and per-call read/write options.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "strata/limits.h"
#include "strata/status.h"

namespace strata {

namespace io {
class FileSystem;  // io/file_system.h; tests inject a fault-injecting one.
}

class Snapshot;

// Receives the engine's info log: one line per event (open and recovery,
// flushes and compactions with their sizes and times, write stalls, errors).
// Called from any engine thread; an implementation must be thread safe and
// should not block for long.
class InfoLogger {
 public:
  virtual ~InfoLogger() = default;
  // `line` has no trailing newline.
  virtual void Log(std::string_view line) = 0;
};

// Which kind of disk the engine tunes itself for. kAuto: the environment
// variable STRATA_PROFILE (ssd|hdd), else the decision stored with the
// database (PROFILE), else detection: the device's rotational flag, or a
// short probe where that flag is not trusted (virtio disks often claim
// rotational=1). strata/disk_profile.h has the rules; docs/PROFILES.md the
// values each profile sets.
enum class DiskProfile : uint8_t { kAuto = 0, kSsd = 1, kHdd = 2 };

enum class CompactionStyle : uint8_t {
  kProfileDefault = 0,  // leveled on SSD, size-tiered on HDD
  kLeveled = 1,
  kSizeTiered = 2,
};

enum class Compression : uint8_t { kNone = 0, kZstd = 1, kLz4 = 2 };

// What the WAL does with a bad record that is followed by valid ones.
enum class WalRecoveryMode : uint8_t {
  kStrict = 0,       // Open fails with Corruption naming segment and offset.
  kPointInTime = 1,  // Stop at the last good record; everything after is dropped.
};

struct Options {
  // Engine kind for a new directory ("lsm" or "btree"). An existing
  // directory's own kind wins; a mismatch is InvalidArgument.
  std::string engine = "lsm";
  bool create_if_missing = true;
  bool error_if_exists = false;

  DiskProfile profile = DiskProfile::kAuto;

  // Memory budgets. The engine's resident memory is about
  // memtable_bytes + block_cache_bytes, plus the index and filter blocks of
  // open tables (kept outside the cache: about 3 bytes per key at 10 bloom
  // bits per key) and the transient buffers of one flush and one compaction.
  //
  // memtable_bytes bounds all write buffers together (lsm: the active
  // memtable and the one being flushed). A memtable becomes immutable at
  // memtable_bytes / 2, so the flush of one half overlaps the filling of the
  // other; when both halves are full, writers wait for the flush (counted in
  // EngineStats::stall_micros). The bound may be passed by one write group
  // (1 MiB, or one bigger batch) and one arena block (at most 1 MiB) per
  // memtable. A memtable that a live iterator still holds after its flush
  // is that iterator's memory, not the budget's. Minimum 16 KiB.
  size_t memtable_bytes = 64 * kMiB;
  // Decoded data blocks kept for reads (per-entry overhead included).
  size_t block_cache_bytes = 64 * kMiB;

  // 0 means "from the disk profile".
  size_t block_bytes = 0;
  int bloom_bits_per_key = 10;
  Compression compression = Compression::kZstd;
  // LSM: tables written by flushes and by compactions that do not write the
  // bottommost data use this instead (LZ4 decompresses several times faster
  // than zstd; the bottom holds most of the data and keeps `compression`).
  // Ignored when `compression` is kNone.
  Compression upper_level_compression = Compression::kLz4;
  int zstd_level = 3;
  // A compressed block is kept only if it saves at least this fraction.
  double compression_min_savings = 0.125;
  CompactionStyle compaction_style = CompactionStyle::kProfileDefault;

  // Where the WAL lives. Empty: `<dir>/wal`, or the directory recorded in
  // `<dir>/WALDIR` (so tools open such a database without being told).
  // Else a directory of its own, e.g. on another disk (on HDD a spindle of
  // its own for the WAL is the classic win: appends never wait for a seek
  // away from compaction traffic). Created and fsynced (with its parent)
  // like the database directory, recorded in `<dir>/WALDIR` (wal/FORMAT.md);
  // LOCK stays in the database directory and the WAL directory has its own.
  // Opening with a wal_dir other than the recorded one, or moving an
  // existing `<dir>/wal` that holds segments, is InvalidArgument. One WAL
  // directory per database. LSM and B+ tree.
  std::string wal_dir;

  // A write batch is one WAL record and must fit one segment: below
  // kWalSegmentBytesForMaxBatch, batches bigger than a segment's space are
  // InvalidArgument (strata/limits.h). This is the most one segment may
  // hold, not its size on disk: segment files grow in chunks as records
  // arrive, and the LSM moves to a new segment at memtable_bytes / 8 (at
  // least 64 KiB), so that flushes release them soon (wal/FORMAT.md).
  uint64_t wal_segment_bytes = 64 * kMiB;
  WalRecoveryMode wal_recovery = WalRecoveryMode::kStrict;
  // O_DIRECT for table files written by flushes and compactions (large
  // sequential writes that would otherwise push the readers' pages out of
  // the page cache; written through a 1 MiB aligned buffer). Unset: the disk
  // profile decides: on for hdd, off for ssd (docs/PROFILES.md). true also
  // writes the WAL with O_DIRECT (records padded to 4 KiB blocks). Where the
  // file system refuses O_DIRECT (tmpfs) tables are written buffered.
  // btree: a bulk load's leaves (snapshot install, checkpoint copies) are
  // written with O_DIRECT on every profile unless this is false.
  std::optional<bool> use_direct_io;

  // Null means the default io_uring file system.
  std::shared_ptr<io::FileSystem> file_system;

  // Limits that gate rare paths (lsm). The defaults suit production; tests
  // set tiny values so that each path runs hundreds of times.
  // A manifest that grew past this many bytes is rewritten as a snapshot of
  // the current state at the next edit (a manifest rollover).
  uint64_t manifest_rollover_bytes = 4 * kMiB;
  // Leveled: L0 files that trigger a compaction into the base level.
  // Size-tiered: runs that trigger a merge. At least 1.
  int l0_compaction_trigger = 4;
  // Backpressure on L0 files (size-tiered: runs). At l0_slowdown_writes_trigger
  // each write that switches a memtable first sleeps 1 ms; at
  // l0_stop_writes_trigger writers wait for compaction. Required:
  // 1 <= l0_slowdown_writes_trigger <= l0_stop_writes_trigger; a compaction
  // trigger above them leaves writers waiting for a manual compaction.
  int l0_slowdown_writes_trigger = 20;
  int l0_stop_writes_trigger = 36;
  // Compaction outputs below L0 are cut at a key boundary once they reach
  // this size. 0: memtable_bytes (a flushed memtable's worth).
  uint64_t target_file_bytes = 0;
  // LSM: at most this many tables are kept open (a table cache of file
  // handles with their index, filter and properties blocks, least recently
  // used first out). A table evicted while a read or compaction uses it
  // stays open until that use ends, so the count may exceed the bound by the
  // tables pinned at that moment. A read of an evicted table reopens it
  // (one footer read and one read of its meta blocks, checksums verified).
  // The engine holds a few other files too (WAL segment, manifest, LOG,
  // LOCK). 0: from the process's open-file limit (RLIMIT_NOFILE soft limit):
  // half of it, at least 64 and at most 65536; same on both profiles
  // (docs/PROFILES.md). Negative: no bound (every table stays open).
  int max_open_files = 0;
  // The block cache has 2^block_cache_shard_bits shards (0..8), each with an
  // equal slice of block_cache_bytes: more shards, less lock contention,
  // but a smaller slice per shard (a block larger than a slice is not cached).
  // Lowered for a small cache so that each slice holds at least 512 KiB and
  // 8 data blocks (lsm/block_cache.h).
  int block_cache_shard_bits = 4;

  // Writes without sync reach the OS (a write to the WAL file) before
  // Put/Write returns, so a process crash (SIGKILL, abort) loses none of
  // them; only a machine crash may lose them. Above 0, they are instead
  // gathered in process memory up to this many bytes and written together
  // (with the next sync write, at a memtable switch or at Close): fewer,
  // larger WAL writes, but a process crash may then lose up to this many
  // bytes of acknowledged writes (a suffix of the write order). 0 = off.
  size_t wal_buffer_bytes = 0;

  // Opens an existing database without writing anything: no directory, KIND,
  // WAL segment or manifest is created, no file is deleted, no background
  // work runs, and the WAL is replayed into memory only. Writes, Flush,
  // CompactAll and Checkpoint return NotSupported. Works on a read-only
  // directory or a full disk. create_if_missing is ignored (never creates).
  bool read_only = false;

  // Info log sink. Null: a file named LOG in the database directory (none in
  // read-only mode), renamed to LOG.old when it reaches info_log_bytes_max.
  std::shared_ptr<InfoLogger> info_log;
  size_t info_log_bytes_max = 1 * kMiB;

  // LSM: flushes and compactions write their tables at most this many bytes
  // per second on average (a token bucket, io/write_rate_limiter.h: refilled
  // continuously, holding at most 100 ms of the rate, so a burst after an
  // idle spell is bounded too), leaving the disk's bandwidth to foreground
  // reads and WAL writes. Too low a rate lets L0 fill up and stalls writers
  // (l0_slowdown_writes_trigger). 0 = no limit, the default on both profiles
  // (docs/PROFILES.md has the figures). EngineStats::properties
  // "lsm.write_rate_limit.*" count the bytes charged and the waits.
  uint64_t background_write_bytes_per_second = 0;

  // Background scrub (io/scrub.h): a thread re-reads every immutable file
  // (lsm: the live SSTables; btree: the pages of the newest checkpoint) at
  // most this many bytes per second, verifies every checksum, and reports
  // each Corruption (naming file and offset) to on_scrub_corruption, the info
  // log and EngineStats::properties ("scrub.corruptions", "scrub.bytes", ...).
  // After a pass it pauses a second and starts again. 0 = off (the default).
  uint64_t scrub_bytes_per_second = 0;
  // Called on the scrub thread, once per corrupt file and pass.
  std::function<void(const Status& corruption)> on_scrub_corruption;
};

struct WriteOptions {
  // When true the call returns only after the write is durable (fdatasync).
  // When false a crash may lose it, but only as a suffix of the write order.
  bool sync = false;
};

struct ReadOptions {
  // Read as of this snapshot (from Engine::GetSnapshot); null reads the latest.
  const Snapshot* snapshot = nullptr;
  // Iterators stop before the first key >= upper_bound.
  std::optional<std::string> upper_bound;
  // There is no verify_checksums: every block read from disk is verified
  // (a block in the block cache was verified when it was read). Skipping
  // it would save one XXH3 pass per block read and let flipped bits through
  // as wrong values.
  bool fill_cache = true;
};

}  // namespace strata
