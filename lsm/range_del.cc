#include "lsm/range_del.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>

#include "core/assert.h"
#include "core/coding.h"
#include "strata/limits.h"

namespace strata::lsm {

bool RangeTombstoneBefore(const RangeTombstone& a, const RangeTombstone& b) {
  if (const int c = a.begin.compare(b.begin); c != 0) return c < 0;
  if (const int c = a.end.compare(b.end); c != 0) return c < 0;
  return a.seq > b.seq;
}

RangeDelIndex::RangeDelIndex(std::vector<RangeTombstone> tombstones)
    : tombstones_(std::move(tombstones)) {
  std::sort(tombstones_.begin(), tombstones_.end(), RangeTombstoneBefore);
  // Sweep over every boundary: between two consecutive boundaries the set of
  // covering tombstones is constant, which makes one fragment.
  std::vector<std::string_view> bounds;
  bounds.reserve(2 * tombstones_.size());
  for (const RangeTombstone& t : tombstones_) {
    STRATA_ASSERT(t.begin < t.end);
    bounds.push_back(t.begin);
    bounds.push_back(t.end);
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  // Active tombstones keyed by end, so the ones that end are removed cheaply.
  std::multimap<std::string_view, SequenceNumber> active;
  size_t next = 0;
  for (size_t b = 0; b + 1 < bounds.size(); ++b) {
    const std::string_view lo = bounds[b];
    while (!active.empty() && active.begin()->first <= lo) active.erase(active.begin());
    while (next < tombstones_.size() && tombstones_[next].begin == lo) {
      active.emplace(tombstones_[next].end, tombstones_[next].seq);
      ++next;
    }
    if (active.empty()) continue;
    Fragment f;
    f.begin.assign(lo);
    f.end.assign(bounds[b + 1]);
    for (const auto& [end, seq] : active) f.seqs.push_back(seq);
    std::sort(f.seqs.begin(), f.seqs.end(), std::greater<>());
    fragments_.push_back(std::move(f));
  }
}

SequenceNumber RangeDelIndex::MaxCoveringSeq(std::string_view user_key,
                                             SequenceNumber read_seq) const {
  // The last fragment whose begin <= user_key.
  auto it = std::upper_bound(
      fragments_.begin(), fragments_.end(), user_key,
      [](std::string_view key, const Fragment& f) { return key < std::string_view(f.begin); });
  if (it == fragments_.begin()) return 0;
  --it;
  if (user_key >= std::string_view(it->end)) return 0;
  for (SequenceNumber s : it->seqs) {
    if (s <= read_seq) return s;
  }
  return 0;
}

SequenceNumber MaxCoveringSeq(const std::vector<std::shared_ptr<const RangeDelIndex>>& indexes,
                              std::string_view user_key, SequenceNumber read_seq) {
  SequenceNumber best = 0;
  for (const auto& index : indexes) {
    if (index != nullptr) best = std::max(best, index->MaxCoveringSeq(user_key, read_seq));
  }
  return best;
}

std::string EncodeRangeDelBlock(const std::vector<RangeTombstone>& tombstones) {
  std::string out;
  PutFixed32(&out, static_cast<uint32_t>(tombstones.size()));
  for (size_t i = 0; i < tombstones.size(); ++i) {
    const RangeTombstone& t = tombstones[i];
    STRATA_ASSERT(t.begin < t.end);
    STRATA_ASSERT(i == 0 || !RangeTombstoneBefore(t, tombstones[i - 1]));
    PutLengthPrefixed(&out, t.begin);
    PutLengthPrefixed(&out, t.end);
    PutFixed64(&out, t.seq);
  }
  return out;
}

Status DecodeRangeDelBlock(std::string_view block, const std::string& name, uint64_t offset,
                           std::vector<RangeTombstone>* tombstones) {
  auto bad = [&](size_t at, std::string_view what) {
    return Status::Corruption(
        fmt::format("{} @ {}: range-deletion block: {}", name, offset + at, what));
  };
  tombstones->clear();
  std::string_view input = block;
  uint32_t count = 0;
  if (!GetFixed32(&input, &count)) return bad(0, "truncated count");
  // Each tombstone takes at least 1 + 1 + 1 (a one-byte end) + 8 bytes.
  constexpr size_t kTombstoneBytesMin = 11;
  if (count == 0 || count > input.size() / kTombstoneBytesMin) {
    return bad(0, fmt::format("count {} does not fit {} bytes", count, block.size()));
  }
  tombstones->reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const size_t at = block.size() - input.size();
    RangeTombstone t;
    std::string_view begin, end;
    if (!GetLengthPrefixed(&input, &begin) || !GetLengthPrefixed(&input, &end) ||
        !GetFixed64(&input, &t.seq)) {
      return bad(at, fmt::format("tombstone {} truncated", i));
    }
    if (begin.size() > kKeyBytesMax || end.size() > kKeyBytesMax) {
      return bad(at, fmt::format("tombstone {}: key exceeds kKeyBytesMax", i));
    }
    if (begin.compare(end) >= 0) return bad(at, fmt::format("tombstone {}: begin >= end", i));
    if (t.seq == 0 || t.seq > kMaxSequenceNumber) {
      return bad(at, fmt::format("tombstone {}: sequence {} out of range", i, t.seq));
    }
    t.begin.assign(begin);
    t.end.assign(end);
    if (!tombstones->empty() && !RangeTombstoneBefore(tombstones->back(), t)) {
      return bad(at, fmt::format("tombstone {}: out of order", i));
    }
    tombstones->push_back(std::move(t));
  }
  if (!input.empty()) return bad(block.size() - input.size(), "trailing bytes");
  return Status::Ok();
}

}  // namespace strata::lsm
