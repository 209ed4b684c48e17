// NewMergingIterator: a k-way merge of InternalIterators in internal key order
// (CompareInternalKeys), with a binary heap of the valid children (a min-heap
// walking forward, a max-heap walking backward).
//
// Equal internal keys from different children (which a correct LSM never
// produces) come out in child order: the lower child index first (last when
// walking backward, so Prev retraces Next exactly).
// Turning around (Prev after Next, or Next after Prev) re-seeks every child
// around the current key; moving on in one direction costs a heap sift.
// status() is the first non-ok child status; a child that fails stops the
// merge (Valid() becomes false), so no entry is skipped silently.
// Ownership: owns its children. Threading: one thread at a time.
#pragma once

#include <memory>
#include <vector>

#include "lsm/dbformat.h"

namespace strata::lsm {

std::unique_ptr<InternalIterator> NewMergingIterator(
    std::vector<std::unique_ptr<InternalIterator>> children);

}  // namespace strata::lsm
