// SuperVersion: everything a read needs (memtable, immutable memtables,
// Version), captured at one moment, and the slot readers load it from
// without the engine mutex.
//
// The engine installs a new SuperVersion under its mutex whenever the
// memtables or the Version change (a memtable switch, a flush, a
// compaction). Readers load the current one with one atomic shared_ptr load
// and hold it for as long as they read: the memtables it names stay alive,
// and its Version stays referenced, which keeps every table of that Version
// on disk (VersionSet::LiveFiles counts each Version still held anywhere).
// A SuperVersion is immutable once published.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "lsm/memtable.h"
#include "lsm/version_set.h"

namespace strata::lsm {

struct SuperVersion {
  std::shared_ptr<MemTable> mem;
  std::vector<std::shared_ptr<MemTable>> imms;  // newest first
  std::shared_ptr<const Version> version;
};

// The published SuperVersion. Store by one writer at a time (the engine
// holds its mutex); Load from any thread, without locks the writers take.
class AtomicSuperVersion {
 public:
  std::shared_ptr<const SuperVersion> Load() const {
    return current_.load(std::memory_order_acquire);
  }
  void Store(std::shared_ptr<const SuperVersion> sv) {
    current_.store(std::move(sv), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const SuperVersion>> current_;
};

}  // namespace strata::lsm
