// VersionEdit: one change to the set of SSTables, as logged in the manifest
// (files added and removed per level, the WAL point that is fully flushed,
// counters). See lsm/FORMAT.md (Manifest) for the encoding.
//
// FileMetaData: what the engine knows about one SSTable. Shared (shared_ptr)
// by every Version that contains it. Its opened Table lives in the
// TableCache (lsm/table_cache.h), which may close it between reads and
// reopen it on demand; GetTable hands out a pinned reference.
//
// Threading: a VersionEdit is a value with one owner. FileMetaData is
// immutable once installed in a Version.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lsm/dbformat.h"
#include "strata/status.h"

namespace strata::lsm {

class RangeDelIndex;
class Table;
class TableCache;

// Levels 0..kLevelCount-1. L0 files may overlap; deeper levels hold sorted,
// disjoint runs.
inline constexpr int kLevelCount = 7;

struct FileMetaData {
  uint64_t number = 0;
  uint64_t file_bytes = 0;
  std::string smallest;  // internal keys
  std::string largest;
  SequenceNumber smallest_seq = 0;
  SequenceNumber largest_seq = 0;
  uint64_t entry_count = 0;
  // Set once the file was opened (OpenTableFile); null only inside
  // VersionEdit decoding and in Versions made up by tests.
  std::shared_ptr<TableCache> table_cache;
  // The table's range tombstones, read at its first open and kept here (not
  // only in the evictable Table: every read checks them). Null: none.
  std::shared_ptr<const RangeDelIndex> range_dels;

  // The open table, from the cache or reopened (then Corruption if the file
  // is damaged). The reference keeps it open while the caller holds it.
  // REQUIRES: table_cache set. Defined in lsm/table_cache.cc.
  Status GetTable(std::shared_ptr<const Table>* table) const;

  std::string_view smallest_user_key() const { return ExtractUserKey(smallest); }
  std::string_view largest_user_key() const { return ExtractUserKey(largest); }
};

class VersionEdit {
 public:
  void SetWalLsn(uint64_t lsn) { wal_lsn_ = lsn; }
  void SetNextFileNumber(uint64_t n) { next_file_number_ = n; }
  void SetLastSequence(SequenceNumber s) { last_sequence_ = s; }
  void AddFile(int level, const FileMetaData& f);
  void RemoveFile(int level, uint64_t number) { removed_files_.emplace_back(level, number); }
  // A file found at open whose provenance the manifest could not prove: it
  // is never deleted (VersionSet, "kept at open"), and snapshot manifests
  // carry it on while it exists.
  void KeepFile(uint64_t number) { kept_files_.push_back(number); }

  const std::optional<uint64_t>& wal_lsn() const { return wal_lsn_; }
  const std::optional<uint64_t>& next_file_number() const { return next_file_number_; }
  const std::optional<SequenceNumber>& last_sequence() const { return last_sequence_; }
  const std::vector<std::pair<int, FileMetaData>>& added_files() const { return added_files_; }
  const std::vector<std::pair<int, uint64_t>>& removed_files() const { return removed_files_; }
  const std::vector<uint64_t>& kept_files() const { return kept_files_; }

  void EncodeTo(std::string* dst) const;
  // `where` names the record for error messages ("MANIFEST-000003 @ 16").
  Status DecodeFrom(std::string_view src, std::string_view where);

  // Human-readable, one field per line (for `strata manifest dump`).
  std::string DebugString() const;

 private:
  std::optional<uint64_t> wal_lsn_;
  std::optional<uint64_t> next_file_number_;
  std::optional<SequenceNumber> last_sequence_;
  std::vector<std::pair<int, FileMetaData>> added_files_;
  std::vector<std::pair<int, uint64_t>> removed_files_;
  std::vector<uint64_t> kept_files_;
};

}  // namespace strata::lsm
