// Helpers for the snapshot/ tests: small options per engine kind, a random
// workload, and the whole visible state of an engine as a map.
#pragma once

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>

#include "strata/engine.h"

namespace strata::snapshot::testing {

// key -> (version, value), as GetVersioned reports them.
using State = std::map<std::string, std::pair<uint64_t, std::string>>;

// Tiny limits so that flushes, compactions and WAL rollovers happen within a
// few hundred writes.
inline Options SmallOptions(const std::string& kind) {
  Options o;
  o.engine = kind;
  o.profile = DiskProfile::kSsd;
  o.memtable_bytes = 64 * 1024;
  o.block_cache_bytes = 1 << 20;
  o.block_bytes = 4096;
  o.wal_segment_bytes = 1 << 20;
  return o;
}

// The visible state as of `snapshot` (null: latest), versions included.
inline State ReadState(Engine* db, const Snapshot* snapshot = nullptr) {
  State state;
  ReadOptions ro;
  ro.snapshot = snapshot;
  std::unique_ptr<Iterator> it = db->NewIterator(ro);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string value;
    uint64_t version = 0;
    Status s = db->GetVersioned(ro, it->key(), &value, &version);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(value, it->value());
    state.emplace(std::string(it->key()), std::make_pair(version, std::move(value)));
  }
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return state;
}

inline State OpenAndReadState(const std::string& kind, const std::string& dir) {
  Options o = SmallOptions(kind);
  o.engine = "";
  o.create_if_missing = false;
  std::unique_ptr<Engine> db;
  Status s = strata::Open(o, dir, &db);
  EXPECT_TRUE(s.ok()) << dir << ": " << s.ToString();
  if (!s.ok()) return {};
  return ReadState(db.get());
}

inline std::string Key(uint64_t i) { return fmt::format("key{:06}", i); }

// `ops` random puts, deletes and PutIfNewer over `key_space` keys.
inline void RandomWrites(Engine* db, std::mt19937_64& rng, int ops, uint64_t key_space) {
  for (int i = 0; i < ops; ++i) {
    const std::string key = Key(rng() % key_space);
    const int op = static_cast<int>(rng() % 10);
    Status s;
    if (op < 6) {
      s = db->Put(WriteOptions{}, key, fmt::format("v{}-{}", i, std::string(rng() % 40, 'x')));
    } else if (op < 8) {
      s = db->Delete(WriteOptions{}, key);
    } else {
      bool applied = false;
      s = db->PutIfNewer(WriteOptions{}, key, 1 + rng() % 1000, fmt::format("ver{}", i),
                         &applied);
    }
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
}

inline std::string KindName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

}  // namespace strata::snapshot::testing
