// Compaction picking: which files to merge next, for the two styles.
//
// Leveled (the SSD default): L0 is compacted into the base level once it
// holds `l0_compaction_trigger` files; a level i >= base is compacted into
// i+1 once it exceeds its target, one file at a time: the file whose overlap
// with level i+1 is smallest relative to its own size (the least rewrite
// per byte moved down). A file that overlaps nothing below is moved by a
// manifest edit alone (a trivial move), and so are L0 files that overlap
// neither each other nor the base level (sequential loads).
//
// Level targets are dynamic by default (`dynamic_level_bytes`): the largest
// level sets the shape. Going up from it each level gets 1/ratio of the one
// below, and the base level is the highest level whose share still exceeds
// `level1_target_bytes` (no level above the base holds data; a target is
// never below level1_target_bytes, so upper levels do not starve L0). An
// empty tree has its base at the last level: L0 compacts straight into it,
// and levels appear above it only as the data grows past
// level1_target_bytes * ratio. So ~90% of the data is in the last level
// whatever its size, and a small database is one sorted run plus L0, which
// is what keeps write amplification low on both. With fixed targets instead
// (dynamic_level_bytes = false), L0 compacts into L1 and level i's target is
// level1_target_bytes * ratio^(i-1); a database far below the last level's
// target then carries its data through every level above.
//
// Nothing here is persisted: targets follow from the files of a Version, so
// a database written with fixed targets opens with dynamic ones (its first
// non-empty level becomes the base) and the other way round.
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
  // With dynamic_level_bytes: the base level's largest target; else L1's.
  uint64_t level1_target_bytes = 256 * 1024 * 1024;
  int level_size_ratio = 10;
  bool dynamic_level_bytes = true;
  uint64_t target_file_bytes = 64 * 1024 * 1024;
  int tiered_run_count_trigger = 4;
  int tiered_size_ratio_percent = 20;
  int tiered_size_amplification_percent = 200;
};

// Where L0 goes and how big each level may grow, for one Version.
struct LevelTargets {
  int base_level = 1;  // L0's output level; levels 1..base_level-1 are empty
  // Target bytes of levels base_level..kLevelCount-2; 0 elsewhere (L0 counts
  // files, the last level is never compacted further).
  uint64_t bytes[kLevelCount] = {};
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
  // inputs[0] can be moved to output_level without rewriting (they overlap
  // nothing there nor each other).
  bool trivial_move = false;
  std::string reason;

  uint64_t InputBytes() const;
  size_t InputFileCount() const { return inputs[0].size() + inputs[1].size(); }
};

class CompactionPicker {
 public:
  explicit CompactionPicker(const CompactionOptions& options) : options_(options) {}

  // Null when nothing needs compacting.
  std::unique_ptr<Compaction> Pick(std::shared_ptr<const Version> version) const;
  // Everything into one sorted run at the bottom (Engine::CompactAll). Null
  // when the version has at most one file and nothing to drop is possible.
  std::unique_ptr<Compaction> PickAll(std::shared_ptr<const Version> version) const;

  // Compaction pressure: >= 1 means some level needs compacting.
  double Score(const Version& version) const;
  const CompactionOptions& options() const { return options_; }
  // Fixed target of `level` (dynamic_level_bytes = false).
  uint64_t LevelTargetBytes(int level) const;
  // The leveled shape for `version`: dynamic or fixed as configured.
  LevelTargets Targets(const Version& version) const;

 private:
  std::unique_ptr<Compaction> PickLeveled(std::shared_ptr<const Version> version) const;
  std::unique_ptr<Compaction> PickTiered(std::shared_ptr<const Version> version) const;
  LevelTargets DynamicTargets(const Version& version) const;
  // Highest-scoring level (>= 1.0 only); -1 when none.
  int BestLevel(const Version& version, const LevelTargets& targets, double* score) const;

  const CompactionOptions options_;
};

}  // namespace strata::lsm
