#include "lsm/super_version.h"

namespace strata::lsm {

namespace {

std::atomic<uint64_t> next_slot_id{1};

// The calling thread's cached reference (see SuperVersionSlot).
struct CachedSuperVersion {
  uint64_t slot_id = 0;
  uint64_t install = 0;
  std::weak_ptr<const SuperVersion> sv;
};

CachedSuperVersion& ThreadCache() {
  thread_local CachedSuperVersion cache;
  return cache;
}

}  // namespace

SuperVersionSlot::SuperVersionSlot()
    : id_(next_slot_id.fetch_add(1, std::memory_order_relaxed)) {}

std::shared_ptr<const SuperVersion> SuperVersionSlot::Get() const {
  CachedSuperVersion& cache = ThreadCache();
  if (cache.slot_id == id_ && cache.install == installs_.load(std::memory_order_acquire)) {
    // Null only when an install raced ahead and the old one is gone.
    std::shared_ptr<const SuperVersion> sv = cache.sv.lock();
    if (sv != nullptr) return sv;
  }
  slow_gets_.fetch_add(1, std::memory_order_relaxed);
  std::shared_ptr<const SuperVersion> sv;
  {
    std::lock_guard lock(mu_);
    sv = current_;
    cache.install = installs_.load(std::memory_order_relaxed);
  }
  cache.slot_id = id_;
  cache.sv = sv;
  return sv;
}

void SuperVersionSlot::Install(std::shared_ptr<const SuperVersion> sv) {
  std::shared_ptr<const SuperVersion> old;
  {
    std::lock_guard lock(mu_);
    old = std::move(current_);
    current_ = std::move(sv);
    installs_.fetch_add(1, std::memory_order_release);
  }
  // `old` goes here, outside the lock: the last reference may free memtables.
}

}  // namespace strata::lsm
