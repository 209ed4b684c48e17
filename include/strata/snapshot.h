// Snapshot: a remembered sequence number. Reads with ReadOptions::snapshot see
// exactly the state when it was taken. Destroying the handle releases it, so
// compaction may then drop the versions only it could see.
// REQUIRES: the engine outlives every snapshot it handed out.
#pragma once

#include <cstdint>

namespace strata {

class Snapshot {
 public:
  virtual ~Snapshot() = default;
  virtual uint64_t sequence() const = 0;
};

}  // namespace strata
