// Helpers shared by the btree tests.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "btree/btree_impl.h"
#include "btree/check.h"
#include "io/file_system.h"
#include "strata/engine.h"

namespace strata::btree::testing {

// Tiny pages, a tiny write buffer (a checkpoint every few KiB of WAL), a tiny
// cache (eviction all the time) and the smallest WAL segments (release and
// recycling all the time).
inline Options TinyOptions(size_t page_bytes = 512) {
  Options o;
  o.engine = "btree";
  o.block_bytes = page_bytes;
  o.memtable_bytes = 64 * 1024;
  o.block_cache_bytes = 16 * 1024;
  o.wal_segment_bytes = 64 * 1024;
  return o;
}

inline BtreeImpl* AsBtree(Engine* e) { return dynamic_cast<BtreeImpl*>(e); }

// Runs the structural checker over the directory's data file.
inline Status CheckDir(const std::string& dir, CheckReport* report = nullptr) {
  CheckReport local;
  return CheckFile(io::DefaultFileSystem().get(), dir + "/" + kDataFileName,
                   report ? report : &local);
}

inline std::map<std::string, std::string> Dump(Engine* e, const Snapshot* snap = nullptr) {
  std::map<std::string, std::string> out;
  ReadOptions ro;
  ro.snapshot = snap;
  auto it = e->NewIterator(ro);
  for (it->SeekToFirst(); it->Valid(); it->Next()) out[std::string(it->key())] = it->value();
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return out;
}

}  // namespace strata::btree::testing
