// Helpers for LSM engine tests: tiny-limit options and a few shortcuts.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "lsm/db_impl.h"
#include "strata/engine.h"

namespace strata::lsm::testing {

// 64 KiB memtables, 4 KiB blocks, 64 KiB WAL segments: flushes and
// compactions happen within a few hundred writes.
inline Options TinyOptions(CompactionStyle style = CompactionStyle::kLeveled) {
  Options o;
  o.engine = "lsm";
  o.profile = DiskProfile::kSsd;
  o.memtable_bytes = 64 * 1024;
  o.block_cache_bytes = 1 << 20;
  o.block_bytes = 4096;
  o.wal_segment_bytes = 1 << 20;
  o.compaction_style = style;
  return o;
}

inline std::string GetOrStatus(Engine* db, std::string_view key, const Snapshot* snap = nullptr) {
  ReadOptions ro;
  ro.snapshot = snap;
  std::string value;
  Status s = db->Get(ro, key, &value);
  if (s.IsNotFound()) return "NOT_FOUND";
  if (!s.ok()) return "ERROR: " + s.ToString();
  return value;
}

inline uint64_t Property(const EngineStats& stats, std::string_view name) {
  for (const auto& [k, v] : stats.properties) {
    if (k == name) return v;
  }
  return ~uint64_t{0};
}

// Both compaction styles, named for test output: a suite parameterised on
// CompactionStyle runs with
//   INSTANTIATE_TEST_SUITE_P(Styles, Suite, testing::kBothStyles, testing::StyleName);
inline const auto kBothStyles =
    ::testing::Values(CompactionStyle::kLeveled, CompactionStyle::kSizeTiered);
inline std::string StyleName(const ::testing::TestParamInfo<CompactionStyle>& info) {
  return info.param == CompactionStyle::kLeveled ? "Leveled" : "SizeTiered";
}

}  // namespace strata::lsm::testing
