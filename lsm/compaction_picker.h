// Compaction picking: which files to merge next, for the two styles.
//
// Leveled (the SSD default): L0 is compacted into L1 once it holds
// `l0_compaction_trigger` files; level i >= 1 is compacted into i+1 once it
// exceeds its target (level1_target_bytes * size_ratio^(i-1)), one file at a
// time in round-robin key order. With ratio 10 the last level holds ~90%.
//
// Size-tiered (the HDD default): every run is one L0 file, newest first.
// Once there are `tiered_run_count_trigger` runs, merge (1) everything when
// the newer runs add more than tiered_size_amplification_percent of the
// oldest run's size, else (2) the newest window of runs of similar size
// (each next run no bigger than tiered_size_ratio_percent over the window so
// far), else (3) the newest runs needed to get back under the trigger. Fewer
// rewrites than leveled, and each merge is one long sequential write.
//
// Threading: a CompactionPicker is used by the one compaction thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "lsm/version_set.h"
#include "strata/options.h"

namespace strata::lsm {

struct CompactionOptions {
  CompactionStyle style = CompactionStyle::kLeveled;  // resolved: never kProfileDefault
  int l0_compaction_trigger = 4;
  uint64_t level1_target_bytes = 256 * 1024 * 1024;
  int level_size_ratio = 10;
  uint64_t target_file_bytes = 64 * 1024 * 1024;
  int tiered_run_count_trigger = 4;
  int tiered_size_ratio_percent = 20;
  int tiered_size_amplification_percent = 200;
};

struct Compaction {
  std::shared_ptr<const Version> version;  // pins the inputs
  int level = 0;                           // level of inputs[0]
  int output_level = 0;
  // inputs[0]: files of `level`; inputs[1]: overlapping files of output_level
  // (empty when output_level == level, as in size-tiered merges).
  FileList inputs[2];
  // No data older than the inputs can hold their keys, so a tombstone that
  // every snapshot sees can be dropped.
  bool bottommost = false;
  // A single file that can be moved to output_level without rewriting.
  bool trivial_move = false;
  std::string reason;

  uint64_t InputBytes() const;
  size_t InputFileCount() const { return inputs[0].size() + inputs[1].size(); }
};

class CompactionPicker {
 public:
  explicit CompactionPicker(const CompactionOptions& options) : options_(options) {}

  // Null when nothing needs compacting.
  std::unique_ptr<Compaction> Pick(std::shared_ptr<const Version> version);
  // Everything into one sorted run at the bottom (Engine::CompactAll). Null
  // when the version has at most one file and nothing to drop is possible.
  std::unique_ptr<Compaction> PickAll(std::shared_ptr<const Version> version) const;

  // Compaction pressure: >= 1 means some level needs compacting.
  double Score(const Version& version) const;
  const CompactionOptions& options() const { return options_; }
  uint64_t LevelTargetBytes(int level) const;

 private:
  std::unique_ptr<Compaction> PickLeveled(std::shared_ptr<const Version> version);
  std::unique_ptr<Compaction> PickTiered(std::shared_ptr<const Version> version) const;
  double LevelScore(const Version& version, int level) const;

  const CompactionOptions options_;
  std::string compact_pointer_[kLevelCount];  // largest key of the last file picked
};

}  // namespace strata::lsm
