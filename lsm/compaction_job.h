// Compaction and flush jobs: merge sorted inputs into new SSTables.
//
// The merge keeps exactly the versions that some reader can still see. The
// live snapshots split the sequence space into stripes (an entry belongs to
// the stripe of the oldest snapshot that sees it, or to the "latest"
// stripe); within a stripe only the newest entry of a user key is visible to
// anyone, so older ones are dropped. A tombstone in the oldest stripe is
// dropped too when the output is bottommost (nothing older below can
// resurrect the key).
//
// In a bottommost output, an entry that every snapshot sees (the newest of
// its key in the oldest stripe) is written with sequence number 0: nothing
// older can exist below it, so the number carries no information, and
// zeros compress better (the 8-byte tag of every key).
//
// Range tombstones (lsm/range_del.h) of the inputs drop every entry they
// cover in the same stripe (no snapshot between the entry and the
// tombstone). They are written on into the outputs, each to the file that is
// open when the merge reaches its begin; a file is never cut inside one of
// its tombstones, and its key range (smallest/largest) includes them, so the
// files of a level stay disjoint and a lookup finds every tombstone that may
// cover its key. A bottommost output drops the tombstones every snapshot
// sees (nothing older that they could hide is left below).
//
// A flush is the same merge over one memtable, never bottommost.
//
// Threading: a job runs on one background thread; it reads pinned inputs and
// writes files no one else knows about until the VersionEdit is applied.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/file_system.h"
#include "io/write_rate_limiter.h"
#include "lsm/compaction_picker.h"
#include "lsm/range_del.h"
#include "lsm/table_builder.h"
#include "lsm/version_set.h"

namespace strata::lsm {

struct JobStats {
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t entries_read = 0;
  uint64_t entries_written = 0;
  uint64_t files_written = 0;
};

struct JobContext {
  io::FileSystem* fs = nullptr;
  VersionSet* versions = nullptr;
  TableOptions table_options;
  // Output files are cut at a user-key boundary once they reach this size
  // (0: never cut, e.g. size-tiered runs and L0 flushes).
  uint64_t target_file_bytes = 0;
  // Returns a fresh file number that DeleteObsoleteFiles will not touch
  // until the edit naming it is applied (the engine's pending outputs).
  std::function<uint64_t()> new_file_number;
  // Live snapshot sequences, ascending.
  std::vector<SequenceNumber> snapshots;
  // When set, output bytes are added here as they reach the files (not when
  // the job ends), so that a long compaction shows up in the engine's
  // counters while it runs, as RocksDB's compaction tickers do.
  std::atomic<uint64_t>* bytes_written_progress = nullptr;
  // Output tables are written through a buffer of this many bytes
  // (io/direct_append_file.h), with O_DIRECT when direct_io
  // (Options::use_direct_io, by default on for the hdd profile,
  // docs/PROFILES.md), else buffered; also buffered where O_DIRECT is refused.
  bool direct_io = false;
  size_t direct_write_buffer_bytes = 1 << 20;
  // Every byte appended to an output table is charged here first
  // (Options::background_write_bytes_per_second); null: no limit.
  std::shared_ptr<io::WriteRateLimiter> write_rate_limiter;
  // Compaction inputs: read-ahead per miss (0: the adaptive read-ahead of
  // scans, 16 KiB doubling to 256 KiB). hdd profile: 2 MiB (docs/PROFILES.md).
  size_t compaction_readahead_bytes = 0;
};

// Writes the merge of `input` (sorted internal keys) into tables at
// `output_level`, adding them to `edit`. Output files are fsynced and the
// directory too, so the edit may be logged right after.
// `range_dels`: the inputs' range tombstones (null: none).
Status WriteMergedTables(const JobContext& ctx, InternalIterator* input, int output_level,
                         bool bottommost, VersionEdit* edit, JobStats* stats,
                         std::shared_ptr<const RangeDelIndex> range_dels = nullptr);

// Runs a picked compaction (or trivial move) and fills `edit`.
Status RunCompaction(const JobContext& ctx, const Compaction& c, VersionEdit* edit,
                     JobStats* stats);

}  // namespace strata::lsm
