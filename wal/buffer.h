// AlignedBytes: a heap buffer aligned for O_DIRECT (kDirectBlockBytes). It
// only grows; used by recovery reads and the O_DIRECT staging of the writer.
// Not thread-safe; one owner.
#pragma once

#include <cstdlib>
#include <cstring>
#include <memory>

#include "core/assert.h"
#include "wal/limits.h"

namespace strata::wal {

class AlignedBytes {
 public:
  AlignedBytes() = default;
  // Makes room for `bytes` (contents are not kept when it grows).
  void Reserve(size_t bytes) {
    if (bytes <= capacity_) return;
    const size_t rounded = AlignUp(bytes, kDirectBlockBytes);
    void* p = std::aligned_alloc(kDirectBlockBytes, rounded);
    STRATA_ASSERT(p != nullptr);
    data_.reset(static_cast<char*>(p));
    capacity_ = rounded;
  }
  char* data() { return data_.get(); }
  size_t capacity() const { return capacity_; }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> data_;
  size_t capacity_ = 0;
};

}  // namespace strata::wal
