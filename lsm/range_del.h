// Range tombstones of the LSM: DeleteRange(begin, end) at sequence s hides
// every version of every key in [begin, end) whose sequence is below s, for
// a reader whose sequence is at least s (older snapshots do not see it).
//
// Tombstones live beside the point entries, never in the skiplist or in the
// data blocks: the memtable keeps them in a small list, an SSTable in its
// range-deletion block (lsm/FORMAT.md). A reader that finds none pays one
// pointer test per lookup and per iterator step.
//
// RangeDelIndex is the immutable lookup form of a set of tombstones: the
// ranges are cut at every begin and end into disjoint fragments, each with
// the sequences of the tombstones covering it (descending), so that "the
// newest tombstone visible at sequence r covering key k" is a binary search
// plus a short scan.
//
// Threading: RangeDelIndex is immutable and shared; the rest are values.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lsm/dbformat.h"
#include "strata/status.h"

namespace strata::lsm {

struct RangeTombstone {
  std::string begin;  // inclusive
  std::string end;    // exclusive; begin < end bytewise
  SequenceNumber seq = 0;
};

// Orders by begin, then end, then sequence descending (the block order).
bool RangeTombstoneBefore(const RangeTombstone& a, const RangeTombstone& b);

class RangeDelIndex {
 public:
  // `tombstones` in any order.
  explicit RangeDelIndex(std::vector<RangeTombstone> tombstones);

  // The largest sequence s <= read_seq of a tombstone covering user_key, or 0
  // when there is none. A version with sequence v is deleted for a reader at
  // read_seq when v < MaxCoveringSeq(key, read_seq).
  SequenceNumber MaxCoveringSeq(std::string_view user_key, SequenceNumber read_seq) const;
  // The tombstones, sorted by RangeTombstoneBefore.
  const std::vector<RangeTombstone>& tombstones() const { return tombstones_; }
  bool empty() const { return tombstones_.empty(); }

 private:
  struct Fragment {
    std::string begin;
    std::string end;
    std::vector<SequenceNumber> seqs;  // descending
  };
  std::vector<RangeTombstone> tombstones_;
  std::vector<Fragment> fragments_;  // disjoint, sorted by begin
};

// The largest covering sequence over several indexes (null entries skipped).
SequenceNumber MaxCoveringSeq(const std::vector<std::shared_ptr<const RangeDelIndex>>& indexes,
                              std::string_view user_key, SequenceNumber read_seq);

// The range-deletion block of an SSTable (lsm/FORMAT.md, "Range-deletion
// block"): fixed32 count, then per tombstone varint32 begin_bytes | begin |
// varint32 end_bytes | end | fixed64 sequence, sorted by RangeTombstoneBefore.
// REQUIRES: `tombstones` sorted and each valid.
std::string EncodeRangeDelBlock(const std::vector<RangeTombstone>& tombstones);
// Validates every length, the order, begin < end, key sizes and
// 1 <= sequence <= kMaxSequenceNumber; a bad block is Corruption naming
// `name` and `offset` (the block's file offset).
Status DecodeRangeDelBlock(std::string_view block, const std::string& name, uint64_t offset,
                           std::vector<RangeTombstone>* tombstones);

}  // namespace strata::lsm
