// SuperVersion: everything a read needs (memtable, immutable memtables,
// Version), captured at one moment, and the slot readers get it from
// without the engine mutex.
//
// The engine installs a new SuperVersion (under its own mutex) whenever the
// memtables or the Version change: a memtable switch, a flush, a compaction.
// Readers hold the SuperVersion they got for as long as they read: the
// memtables it names stay alive, and its Version stays referenced, which
// keeps every table of that Version on disk (VersionSet::LiveFiles counts
// each Version still held anywhere). A SuperVersion is immutable.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "lsm/memtable.h"
#include "lsm/version_set.h"

namespace strata::lsm {

struct SuperVersion {
  std::shared_ptr<MemTable> mem;
  std::vector<std::shared_ptr<MemTable>> imms;  // newest first
  std::shared_ptr<const Version> version;
};

// The published SuperVersion.
//
// Get: each thread caches a weak reference to the SuperVersion it last got
// from this slot, with the install number it had then. While no install
// happened since, a read costs one atomic load (the install number) and one
// weak_ptr::lock (a compare-and-swap on the use count): no lock at all. The
// first read of a thread after an install takes `mu_`, a leaf mutex held
// only to copy one shared_ptr (never during I/O, never while waiting for
// anything), and refreshes the cache. The cache holds no strong reference,
// so an idle thread never keeps an old SuperVersion's memtables or tables.
//
// A Get racing with an Install may return the SuperVersion that was current
// just before it (as if the read had come first).
//
// (std::atomic<std::shared_ptr> would do without the cache, but libstdc++ 12
// releases its internal lock with relaxed order, which ThreadSanitizer
// reports as a race.)
class SuperVersionSlot {
 public:
  SuperVersionSlot();
  SuperVersionSlot(const SuperVersionSlot&) = delete;
  SuperVersionSlot& operator=(const SuperVersionSlot&) = delete;

  // Any thread.
  std::shared_ptr<const SuperVersion> Get() const;
  // One installer at a time (the engine holds its mutex).
  void Install(std::shared_ptr<const SuperVersion> sv);

  // Reads that took the mutex (cache misses), for tests.
  uint64_t slow_gets() const { return slow_gets_.load(std::memory_order_relaxed); }

 private:
  const uint64_t id_;  // unique per slot, never reused (an address may be)
  mutable std::mutex mu_;
  std::shared_ptr<const SuperVersion> current_;  // guarded by mu_
  // Incremented after each install, under mu_; read without it.
  std::atomic<uint64_t> installs_{0};
  mutable std::atomic<uint64_t> slow_gets_{0};
};

}  // namespace strata::lsm
