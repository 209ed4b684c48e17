// DBIter: turns a merged stream of internal keys into the user's view at one
// sequence number: the newest visible version of each key, tombstones and
// newer versions hidden, versioned values without their version prefix, and
// nothing at or past the upper bound. A version that a range tombstone
// visible at the sequence covers (lsm/range_del.h) counts as deleted.
//
// `pin` keeps whatever the internal iterator reads from (memtables, tables)
// alive for the iterator's lifetime.
// Threading: one thread at a time, like every Iterator.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lsm/dbformat.h"
#include "lsm/range_del.h"
#include "strata/iterator.h"

namespace strata::lsm {

std::unique_ptr<Iterator> NewDBIterator(
    std::shared_ptr<const void> pin, std::unique_ptr<InternalIterator> internal,
    SequenceNumber sequence, std::optional<std::string> upper_bound,
    std::vector<std::shared_ptr<const RangeDelIndex>> range_dels = {});

// Strips the version prefix of a kVersionedValue; false if it is too short.
bool SplitVersionedValue(std::string_view stored, uint64_t* version, std::string_view* value);

}  // namespace strata::lsm
