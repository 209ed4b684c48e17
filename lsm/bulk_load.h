// BulkLoader: builds a new LSM database directory straight from entries in
// strictly ascending key order (an installed snapshot stream), without a
// WAL, memtables or compactions: tables are written as the entries arrive.
//
// Shape: for leveled compaction, files in the last level cut at
// memtable_bytes (the shape compaction gives a settled tree: nothing above
// it, nothing to merge); for size-tiered, one run (one L0 file). Entries
// carry sequence 0 (nothing older can exist) and the manifest's last
// sequence is the caller's, so the database continues after it.
// Finish() syncs every table, writes the manifest, CURRENT and then KIND
// (a directory with KIND is complete), and syncs the directory.
//
// Memory: one table builder (a block, the index and the bloom keys of one
// output file). Threading: one user.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "io/file_system.h"
#include "lsm/table_builder.h"
#include "lsm/version_edit.h"
#include "strata/options.h"

namespace strata::lsm {

class BulkLoader {
 public:
  // Creates `dir` (which must not hold a database).
  static Status Create(const Options& options, const std::string& dir,
                       std::unique_ptr<BulkLoader>* loader);
  ~BulkLoader();

  // REQUIRES: key > every key added before. version 0: a plain value.
  Status Add(std::string_view key, uint64_t version, std::string_view value);
  // Completes the database; its last sequence is `last_sequence`.
  Status Finish(uint64_t last_sequence);

  uint64_t file_count() const { return file_count_; }

 private:
  BulkLoader(std::shared_ptr<io::FileSystem> fs, std::string dir, TableOptions table_options,
             int level, uint64_t target_file_bytes);
  Status OpenTable();
  Status FinishTable();

  const std::shared_ptr<io::FileSystem> fs_;
  const std::string dir_;
  const TableOptions table_options_;
  const int level_;
  const uint64_t target_file_bytes_;  // 0: one file
  uint64_t next_file_number_ = 2;     // as a new database's first table
  uint64_t file_count_ = 0;
  VersionEdit edit_;
  std::unique_ptr<io::WritableFile> file_;
  std::unique_ptr<TableBuilder> builder_;
  FileMetaData meta_;
  std::string last_key_;
  bool has_last_key_ = false;
  std::string ikey_;
  std::string value_;
};

}  // namespace strata::lsm
