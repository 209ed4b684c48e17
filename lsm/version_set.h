// Version and VersionSet: which SSTables make up the database.
//
// A Version is an immutable list of files per level. L0 files may overlap
// and are ordered newest first (by largest sequence, so that size-tiered
// merges of old runs keep their place); files of L1.. are disjoint and
// sorted by key. Versions are shared through shared_ptr: a reader or
// iterator that holds one keeps its files on disk; their open tables live in
// the TableCache (at most max_open_files open, plus those pinned by reads).
//
// VersionSet owns the current Version and the manifest. LogAndApply writes
// an edit to the manifest (fsync) before installing the new Version, so the
// in-memory state never runs ahead of the durable one. On Open, Recover
// replays the manifest and then starts a fresh one holding a snapshot of the
// state, so every open also compacts the manifest. A manifest that grows
// past the rollover size is replaced the same way at the next edit.
//
// Recovery never guesses: a directory whose CURRENT is missing but which
// holds tables, WAL segments or a manifest with content is Corruption (a
// manifest that describes an empty database is what a crash while creating
// one leaves). Files found at open whose provenance the manifest cannot
// prove (tables numbered at or above the manifest's next file number,
// manifests above the live one, every unreferenced table when the manifest
// had a torn tail) are kept on disk (files_kept_at_open), recorded in every
// snapshot manifest so that later opens keep them too, and file numbering
// starts above every number found, so nothing on disk is overwritten.
//
// Threading: all methods are thread-safe (an internal mutex); LogAndApply
// calls are serialised.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "io/file_system.h"
#include "lsm/block_cache.h"
#include "lsm/manifest.h"
#include "lsm/table.h"
#include "lsm/table_cache.h"
#include "lsm/version_edit.h"
#include "strata/options.h"

namespace strata::lsm {

using FileList = std::vector<std::shared_ptr<FileMetaData>>;

// Counters a lookup reports to the engine's stats.
struct LookupStats {
  uint64_t bloom_negatives = 0;
  uint64_t tables_probed = 0;
};

class Version {
 public:
  // A Version holding exactly `levels` (sorted as every Version is). The
  // files need no opened table unless the Version is read; used to check
  // compaction policy against made-up trees.
  static std::shared_ptr<const Version> FromLevels(std::vector<FileList> levels);

  const FileList& files(int level) const { return files_[level]; }
  uint64_t LevelBytes(int level) const;
  uint64_t TotalBytes() const;
  size_t FileCount() const;

  // Newest entry of user_key with sequence <= seq in the tables. *found is
  // false when no table has one; else *type and *value (raw stored value).
  // *found_seq (if not null) gets the entry's sequence.
  Status Get(const ReadOptions& options, std::string_view user_key, SequenceNumber seq, bool* found,
             ValueType* type, std::string* value, LookupStats* stats,
             SequenceNumber* found_seq = nullptr) const;

  // Whether any file holds range tombstones (false: reads skip them all).
  bool has_range_dels() const { return has_range_dels_; }
  // The largest sequence <= seq of a range tombstone covering user_key in
  // the files whose key range holds it; 0 when none.
  SequenceNumber MaxCoveringTombstone(std::string_view user_key, SequenceNumber seq) const;
  // The range-tombstone indexes of every file (for iterators).
  void AddRangeDels(std::vector<std::shared_ptr<const RangeDelIndex>>* out) const;

  // One iterator per L0 file and one concatenating iterator per deeper level.
  void AddIterators(const ReadOptions& options,
                    std::vector<std::unique_ptr<InternalIterator>>* iters) const;

  // Files of `level` whose user-key range intersects [begin, end].
  FileList Overlapping(int level, std::string_view begin_user_key,
                       std::string_view end_user_key) const;

 private:
  friend class VersionSet;
  void NoteRangeDels();  // sets has_range_dels_ once the files are in place
  FileList files_[kLevelCount];
  bool has_range_dels_ = false;
};

// Iterator over the disjoint, sorted files of one level, opening each
// file's iterator on demand. Keeps the files alive via their shared_ptrs.
std::unique_ptr<InternalIterator> NewLevelIterator(const ReadOptions& options, FileList files);

class VersionSet {
 public:
  // A manifest past manifest_rollover_bytes is rewritten at the next edit.
  // At most max_open_files tables stay open in the table cache (0: all).
  // wal_dir: where the WAL lives (checked for segments at open); empty:
  // `<dir>/wal`.
  VersionSet(std::shared_ptr<io::FileSystem> fs, std::string dir, TableOptions table_options,
             BlockCache* cache, uint64_t manifest_rollover_bytes = kManifestRolloverBytesDefault,
             size_t max_open_files = 0, std::string wal_dir = "");

  static constexpr uint64_t kManifestRolloverBytesDefault = 4 * 1024 * 1024;

  // Loads CURRENT and the manifest (or, if the directory holds no database
  // and create is true, starts an empty one), opens every table, writes a
  // fresh manifest and points CURRENT at it.
  Status Recover(bool create_if_missing);
  // Recover for a read-only open: replays the manifest CURRENT names and
  // writes nothing (no new manifest; LogAndApply must not be called).
  Status RecoverReadOnly();

  // Applies the edit: logs it durably, then installs the new Version.
  // Added files must carry their opened table.
  Status LogAndApply(VersionEdit* edit);

  std::shared_ptr<const Version> current() const;
  uint64_t NewFileNumber() { return next_file_number_.fetch_add(1); }
  // Every number handed out so far is below this.
  uint64_t next_file_number() const { return next_file_number_.load(); }
  // WAL records with lsn >= this may hold updates that are in no table.
  uint64_t wal_lsn() const;
  SequenceNumber last_sequence() const;
  uint64_t manifest_number() const;
  uint64_t manifest_bytes() const;

  // File numbers referenced by any Version still alive (current, or held by
  // a reader).
  std::set<uint64_t> LiveFiles() const;
  // Tables and manifests found at open that are not provably obsolete: never
  // deleted by this session. Fixed once Recover returns.
  const std::set<uint64_t>& files_kept_at_open() const { return files_kept_at_open_; }
  // Manifest rollovers since Open (each writes a snapshot manifest).
  uint64_t manifest_rollovers() const;

  // Opens `<dir>/<number>.sst` through the table cache, checking its size,
  // and sets f->table_cache and f->range_dels (OpenTableFile).
  Status OpenTable(FileMetaData* f) const;
  TableCache& table_cache() const { return *table_cache_; }
  const std::string& dir() const { return dir_; }

 private:
  // Names found in the directory at open (and in its WAL directory).
  struct DirectoryScan {
    std::vector<uint64_t> tables;
    std::vector<uint64_t> manifests;
    std::vector<std::string> wal_segments;
    uint64_t number_max = 0;  // highest table or manifest number, 0 if none
  };
  Status ScanDirectory(DirectoryScan* scan) const;
  Status CheckNoDatabaseWithoutCurrent(const DirectoryScan& scan) const;
  void KeepUnprovenFiles(const DirectoryScan& scan, const Version& v, uint64_t recorded_next,
                         uint64_t live_manifest, bool torn_tail,
                         const std::set<uint64_t>& recorded_kept);
  Status ReplayManifest(const std::string& manifest_name, std::shared_ptr<Version>* version,
                        bool* torn_tail, std::set<uint64_t>* recorded_kept);
  Status WriteSnapshotManifest(const Version& version);
  std::shared_ptr<Version> Apply(const Version& base, const VersionEdit& edit) const;
  void InstallLocked(std::shared_ptr<Version> v);

  const std::shared_ptr<io::FileSystem> fs_;
  const std::string dir_;
  const std::string wal_dir_;
  const TableOptions table_options_;
  BlockCache* const cache_;
  const uint64_t manifest_rollover_bytes_;
  const std::shared_ptr<TableCache> table_cache_;
  std::set<uint64_t> files_kept_at_open_;

  mutable std::mutex mu_;
  std::shared_ptr<const Version> current_;
  std::vector<std::weak_ptr<const Version>> versions_;  // every version handed out
  std::unique_ptr<ManifestWriter> manifest_;
  uint64_t manifest_number_ = 0;
  uint64_t manifest_rollovers_ = 0;
  uint64_t wal_lsn_ = 0;
  SequenceNumber last_sequence_ = 0;
  std::atomic<uint64_t> next_file_number_{1};
};

}  // namespace strata::lsm
