#include "lsm/compaction_picker.h"

#include <fmt/core.h>

#include <algorithm>

namespace strata::lsm {

namespace {

// User-key range covered by `files`.
void KeyRange(const FileList& files, std::string* smallest, std::string* largest) {
  for (size_t i = 0; i < files.size(); ++i) {
    if (i == 0 || files[i]->smallest_user_key() < *smallest) {
      smallest->assign(files[i]->smallest_user_key());
    }
    if (i == 0 || files[i]->largest_user_key() > *largest) {
      largest->assign(files[i]->largest_user_key());
    }
  }
}

// True when no file below `output_level` intersects the inputs' key range.
bool NothingOlderBelow(const Version& v, int output_level, const Compaction& c) {
  FileList all = c.inputs[0];
  all.insert(all.end(), c.inputs[1].begin(), c.inputs[1].end());
  std::string smallest, largest;
  KeyRange(all, &smallest, &largest);
  for (int level = output_level + 1; level < kLevelCount; ++level) {
    if (!v.Overlapping(level, smallest, largest).empty()) return false;
  }
  return true;
}

}  // namespace

uint64_t Compaction::InputBytes() const {
  uint64_t total = 0;
  for (const auto& list : inputs) {
    for (const auto& f : list) total += f->file_bytes;
  }
  return total;
}

uint64_t CompactionPicker::LevelTargetBytes(int level) const {
  uint64_t target = options_.level1_target_bytes;
  for (int i = 1; i < level; ++i) target *= static_cast<uint64_t>(options_.level_size_ratio);
  return target;
}

LevelTargets CompactionPicker::Targets(const Version& version) const {
  if (options_.dynamic_level_bytes) return DynamicTargets(version);
  LevelTargets t;
  t.base_level = 1;
  for (int level = 1; level + 1 < kLevelCount; ++level) t.bytes[level] = LevelTargetBytes(level);
  return t;
}

LevelTargets CompactionPicker::DynamicTargets(const Version& version) const {
  constexpr int kLast = kLevelCount - 1;
  LevelTargets t;
  uint64_t largest_bytes = 0;
  int first_non_empty = 0;
  for (int level = 1; level <= kLast; ++level) {
    if (version.files(level).empty()) continue;
    if (first_non_empty == 0) first_non_empty = level;
    largest_bytes = std::max(largest_bytes, version.LevelBytes(level));
  }
  if (first_non_empty == 0) {
    t.base_level = kLast;  // an empty tree: L0 goes straight to the bottom
    return t;
  }
  const uint64_t ratio = static_cast<uint64_t>(options_.level_size_ratio);
  const uint64_t base_max = std::max<uint64_t>(options_.level1_target_bytes, 1);
  // The share of the first non-empty level when the largest level is the
  // bottom and each level above holds 1/ratio of the next.
  uint64_t base_bytes = largest_bytes;
  for (int level = kLast - 1; level >= first_non_empty; --level) base_bytes /= ratio;
  // Open levels above while the top one would be too big (never above L1).
  int base = first_non_empty;
  while (base > 1 && base_bytes > base_max) {
    --base;
    base_bytes /= ratio;
  }
  t.base_level = base;
  base_bytes = std::clamp<uint64_t>(base_bytes, 1, base_max);
  uint64_t level_bytes = base_bytes;
  for (int level = base; level < kLast; ++level) {
    if (level > base) level_bytes *= ratio;
    // Never below base_max: tiny upper levels would win every score and
    // starve L0 (the tree would grow an hourglass).
    t.bytes[level] = std::max(level_bytes, base_max);
  }
  return t;
}

double CompactionPicker::Score(const Version& version) const {
  if (options_.style == CompactionStyle::kSizeTiered) {
    return static_cast<double>(version.files(0).size()) /
           std::max(options_.tiered_run_count_trigger, 1);
  }
  double best = 0;
  (void)BestLevel(version, Targets(version), &best);
  return best;
}

int CompactionPicker::BestLevel(const Version& version, const LevelTargets& targets,
                                double* score) const {
  int best_level = -1;
  double best_score = static_cast<double>(version.files(0).size()) /
                      std::max(options_.l0_compaction_trigger, 1);
  if (best_score >= 1.0) best_level = 0;
  for (int level = 1; level + 1 < kLevelCount; ++level) {
    if (targets.bytes[level] == 0) continue;
    const double s = static_cast<double>(version.LevelBytes(level)) / targets.bytes[level];
    if (s > best_score) {
      best_score = s;
      if (s >= 1.0) best_level = level;
    }
  }
  *score = best_score;
  return best_level;
}

std::unique_ptr<Compaction> CompactionPicker::Pick(std::shared_ptr<const Version> version) const {
  if (options_.style == CompactionStyle::kSizeTiered) return PickTiered(std::move(version));
  return PickLeveled(std::move(version));
}

namespace {

// Bytes of `files` (of level + 1) that overlap f's key range.
uint64_t OverlapBytes(const Version& v, int level, const FileMetaData& f) {
  uint64_t total = 0;
  for (const auto& g : v.Overlapping(level, f.smallest_user_key(), f.largest_user_key())) {
    total += g->file_bytes;
  }
  return total;
}

// True when no two of `files` share a user key.
bool PairwiseDisjoint(FileList files) {
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    return a->smallest_user_key() < b->smallest_user_key();
  });
  for (size_t i = 1; i < files.size(); ++i) {
    if (files[i - 1]->largest_user_key() >= files[i]->smallest_user_key()) return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<Compaction> CompactionPicker::PickLeveled(std::shared_ptr<const Version> v) const {
  const LevelTargets targets = Targets(*v);
  double best_score = 0;
  const int best_level = BestLevel(*v, targets, &best_score);
  if (best_level < 0) return nullptr;
  auto c = std::make_unique<Compaction>();
  c->level = best_level;
  c->output_level = best_level == 0 ? targets.base_level : best_level + 1;
  if (best_level == 0) {
    c->inputs[0] = v->files(0);  // L0 files overlap: take them all
  } else {
    // The file that drags the fewest bytes of the next level along per byte
    // it moves down. Ties go to the file with the smallest keys.
    const FileList& files = v->files(best_level);
    std::shared_ptr<FileMetaData> pick;
    double pick_ratio = 0;
    for (const auto& f : files) {
      const double ratio = static_cast<double>(OverlapBytes(*v, c->output_level, *f)) /
                           static_cast<double>(std::max<uint64_t>(f->file_bytes, 1));
      if (pick == nullptr || ratio < pick_ratio) {
        pick = f;
        pick_ratio = ratio;
      }
    }
    c->inputs[0] = {pick};
  }
  std::string smallest, largest;
  KeyRange(c->inputs[0], &smallest, &largest);
  c->inputs[1] = v->Overlapping(c->output_level, smallest, largest);
  c->trivial_move = c->inputs[1].empty() && PairwiseDisjoint(c->inputs[0]);
  c->bottommost = NothingOlderBelow(*v, c->output_level, *c);
  c->reason = fmt::format("leveled L{} score {:.2f}", best_level, best_score);
  c->version = std::move(v);
  return c;
}

std::unique_ptr<Compaction> CompactionPicker::PickTiered(std::shared_ptr<const Version> v) const {
  const FileList& runs = v->files(0);  // newest first
  const size_t n = runs.size();
  if (n < static_cast<size_t>(options_.tiered_run_count_trigger) || n < 2) return nullptr;
  size_t begin = 0, end = 0;
  std::string reason;
  uint64_t newer_bytes = 0;
  for (size_t i = 0; i + 1 < n; ++i) newer_bytes += runs[i]->file_bytes;
  const uint64_t oldest_bytes = std::max<uint64_t>(runs[n - 1]->file_bytes, 1);
  if (newer_bytes * 100 > oldest_bytes * options_.tiered_size_amplification_percent) {
    begin = 0, end = n;
    reason = fmt::format("size-tiered: space amplification {}%", newer_bytes * 100 / oldest_bytes);
  }
  for (size_t i = 0; end == 0 && i + 1 < n; ++i) {
    uint64_t window_bytes = runs[i]->file_bytes;
    size_t j = i + 1;
    while (j < n && runs[j]->file_bytes * 100 <=
                        window_bytes * (100 + options_.tiered_size_ratio_percent)) {
      window_bytes += runs[j]->file_bytes;
      ++j;
    }
    if (j - i >= 2) {
      begin = i, end = j;
      reason = fmt::format("size-tiered: {} runs of similar size", j - i);
    }
  }
  if (end == 0) {
    begin = 0;
    end = n - static_cast<size_t>(options_.tiered_run_count_trigger) + 2;
    reason = fmt::format("size-tiered: {} runs over the trigger", n);
  }
  auto c = std::make_unique<Compaction>();
  c->level = 0;
  c->output_level = 0;
  c->inputs[0].assign(runs.begin() + static_cast<ptrdiff_t>(begin),
                      runs.begin() + static_cast<ptrdiff_t>(end));
  c->bottommost = end == n && NothingOlderBelow(*v, 0, *c);
  c->reason = std::move(reason);
  c->version = std::move(v);
  return c;
}

std::unique_ptr<Compaction> CompactionPicker::PickAll(std::shared_ptr<const Version> v) const {
  if (v->FileCount() == 0) return nullptr;
  int deepest = 0;
  for (int level = 0; level < kLevelCount; ++level) {
    if (!v->files(level).empty()) deepest = level;
  }
  auto c = std::make_unique<Compaction>();
  c->level = 0;
  if (options_.style == CompactionStyle::kSizeTiered) {
    c->output_level = deepest;
  } else if (options_.dynamic_level_bytes) {
    c->output_level = kLevelCount - 1;  // one sorted run, where the data lives
  } else {
    c->output_level = std::max(deepest, 1);
  }
  for (int level = 0; level < kLevelCount; ++level) {
    const FileList& files = v->files(level);
    FileList& target = level == c->output_level ? c->inputs[1] : c->inputs[0];
    target.insert(target.end(), files.begin(), files.end());
  }
  c->bottommost = true;
  c->reason = "manual: compact all";
  c->version = std::move(v);
  return c;
}

}  // namespace strata::lsm
