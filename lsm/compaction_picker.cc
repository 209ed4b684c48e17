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

double CompactionPicker::LevelScore(const Version& version, int level) const {
  if (level == 0) {
    const int trigger = options_.style == CompactionStyle::kSizeTiered
                            ? options_.tiered_run_count_trigger
                            : options_.l0_compaction_trigger;
    return static_cast<double>(version.files(0).size()) / trigger;
  }
  if (options_.style == CompactionStyle::kSizeTiered) return 0;
  return static_cast<double>(version.LevelBytes(level)) / LevelTargetBytes(level);
}

double CompactionPicker::Score(const Version& version) const {
  double best = 0;
  for (int level = 0; level + 1 < kLevelCount; ++level) {
    best = std::max(best, LevelScore(version, level));
  }
  return best;
}

std::unique_ptr<Compaction> CompactionPicker::Pick(std::shared_ptr<const Version> version) {
  if (options_.style == CompactionStyle::kSizeTiered) return PickTiered(std::move(version));
  return PickLeveled(std::move(version));
}

std::unique_ptr<Compaction> CompactionPicker::PickLeveled(std::shared_ptr<const Version> v) {
  int best_level = -1;
  double best_score = 1.0;
  for (int level = 0; level + 1 < kLevelCount; ++level) {
    const double score = LevelScore(*v, level);
    if (score >= best_score) {
      best_score = score;
      best_level = level;
    }
  }
  if (best_level < 0) return nullptr;
  auto c = std::make_unique<Compaction>();
  c->level = best_level;
  c->output_level = best_level + 1;
  if (best_level == 0) {
    c->inputs[0] = v->files(0);  // L0 files overlap: take them all
  } else {
    // Round-robin: the first file after the last one compacted at this level.
    const FileList& files = v->files(best_level);
    std::shared_ptr<FileMetaData> pick = files.front();
    for (const auto& f : files) {
      if (compact_pointer_[best_level].empty() ||
          CompareInternalKeys(f->largest, compact_pointer_[best_level]) > 0) {
        pick = f;
        break;
      }
    }
    compact_pointer_[best_level] = pick->largest;
    c->inputs[0] = {pick};
  }
  std::string smallest, largest;
  KeyRange(c->inputs[0], &smallest, &largest);
  c->inputs[1] = v->Overlapping(c->output_level, smallest, largest);
  c->trivial_move = c->inputs[0].size() == 1 && c->inputs[1].empty();
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
  c->output_level = options_.style == CompactionStyle::kSizeTiered ? deepest : std::max(deepest, 1);
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
