// BtreeImpl: DeleteRange, page by page (see btree_impl.h).
//
// A branch splits its children into three kinds against [begin, end): those
// outside it stay as they are; those wholly inside it are freed by a walk
// of their pages (no key lookups; the walk reads each page once to free its
// overflow chains and to count the entries removed); the one or two
// children that straddle a bound are rewritten recursively. The rewritten
// children may be under a quarter full: they are merged with or balanced
// against a neighbour as a single Delete would do, so the tree keeps the
// shape btree/check.cc verifies. Like every mutation, this writes fresh
// pages only: readers of older versions keep seeing the old pages.
#include <fmt/core.h>

#include "btree/btree_impl.h"
#include "core/assert.h"

namespace strata::btree {

namespace {

// The same measure as the checker: bytes of cells plus their slots.
size_t UsedBytes(const char* p, size_t page_bytes) {
  return (page_bytes - kTrailerBytes - AuxOf(p)) + kSlotBytes * CountOf(p);
}

}  // namespace

Status BtreeImpl::ApplyRangeDelete(Txn* t, std::string_view begin, std::string_view end) {
  STRATA_ASSERT(begin < end);
  if (t->root == 0) return Status::Ok();
  MutateResult r;
  STRATA_RETURN_IF_ERROR(
      RangeDeleteNode(t, t->root, t->height - 1, begin, end, nullptr, nullptr, &r));
  if (!r.changed) return Status::Ok();
  return SetRoot(t, r);
}

// `lo` and `hi` bound the keys of the subtree (null: unbounded); r->nodes
// is empty when nothing of the subtree is left.
Status BtreeImpl::RangeDeleteNode(Txn* t, uint64_t no, uint32_t level, std::string_view begin,
                                  std::string_view end, const std::string_view* lo,
                                  const std::string_view* hi, MutateResult* r) {
  STRATA_ASSIGN_OR_RETURN(PageRef page, GetNode(no, level));
  if (level == 0) return RangeDeleteLeaf(t, page, begin, end, r);
  const char* p = page->bytes();
  const size_t child_count = CountOf(p) + size_t{1};
  std::vector<BranchEntry> ents;
  ents.reserve(child_count + 1);
  bool changed = false;
  for (size_t i = 0; i < child_count; ++i) {
    std::string_view child_lo_key, child_hi_key;
    const std::string_view* child_lo = lo;
    const std::string_view* child_hi = hi;
    if (i > 0) child_lo = &(child_lo_key = BranchKeyAt(p, i - 1));
    if (i + 1 < child_count) child_hi = &(child_hi_key = BranchKeyAt(p, i));
    const BranchEntry entry{i > 0 ? BranchKeyAt(p, i - 1) : std::string_view(),
                            i > 0 ? BranchChildAt(p, i) : LinkOf(p)};
    const bool intersects =
        (child_lo == nullptr || *child_lo < end) && (child_hi == nullptr || *child_hi > begin);
    if (!intersects) {
      ents.push_back(entry);
      continue;
    }
    const bool covered = (child_lo == nullptr ? begin.empty() : *child_lo >= begin) &&
                         child_hi != nullptr && *child_hi <= end;
    if (covered) {
      STRATA_RETURN_IF_ERROR(FreeSubtree(t, entry.child, level - 1));
      changed = true;
      continue;
    }
    MutateResult child;
    STRATA_RETURN_IF_ERROR(
        RangeDeleteNode(t, entry.child, level - 1, begin, end, child_lo, child_hi, &child));
    if (!child.changed) {
      ents.push_back(entry);
      continue;
    }
    changed = true;
    for (size_t k = 0; k < child.nodes.size(); ++k) {
      ents.push_back(BranchEntry{k == 0 ? entry.key : child.nodes[k].key, child.nodes[k].page});
    }
  }
  if (!changed) return Status::Ok();
  FreePage(t, no);  // `page` stays readable: the entries' keys point into it
  if (ents.empty()) {
    r->changed = true;
    r->underfull = true;
    return Status::Ok();
  }
  STRATA_RETURN_IF_ERROR(RebalanceTouched(t, &ents, level - 1));
  EmitBranch(t, level, ents, r);
  return Status::Ok();
}

Status BtreeImpl::RangeDeleteLeaf(Txn* t, const PageRef& page, std::string_view begin,
                                  std::string_view end, MutateResult* r) {
  const char* p = page->bytes();
  const size_t count = CountOf(p);
  const size_t first = LeafLowerBound(p, begin);
  const size_t last = LeafLowerBound(p, end);
  if (first >= last) return Status::Ok();
  for (size_t i = first; i < last; ++i) {
    STRATA_RETURN_IF_ERROR(FreeOverflow(t, LeafCellAt(p, i)));
  }
  STRATA_ASSERT(t->entries >= last - first);
  t->entries -= last - first;
  FreePage(t, page->no);
  r->changed = true;
  if (first == 0 && last == count) {
    r->underfull = true;
    return Status::Ok();
  }
  std::vector<std::string_view> cells, keys;
  cells.reserve(count - (last - first));
  keys.reserve(count - (last - first));
  for (size_t i = 0; i < count; ++i) {
    if (i == first) i = last;
    if (i >= count) break;
    const LeafCell c = LeafCellAt(p, i);
    cells.push_back(c.raw);
    keys.push_back(c.key);
  }
  EmitLeaf(t, cells, keys, r);
  return Status::Ok();
}

Status BtreeImpl::FreeSubtree(Txn* t, uint64_t no, uint32_t level) {
  STRATA_ASSIGN_OR_RETURN(PageRef page, GetNode(no, level));
  const char* p = page->bytes();
  const size_t count = CountOf(p);
  if (level == 0) {
    for (size_t i = 0; i < count; ++i) {
      STRATA_RETURN_IF_ERROR(FreeOverflow(t, LeafCellAt(p, i)));
    }
    if (t->entries < count) {
      return Status::Corruption(fmt::format("{} page {} @ {}: more entries than the tree holds",
                                            data_file(), no, no * page_bytes_));
    }
    t->entries -= count;
  } else {
    STRATA_RETURN_IF_ERROR(FreeSubtree(t, LinkOf(p), level - 1));
    for (size_t i = 0; i < count; ++i) {
      STRATA_RETURN_IF_ERROR(FreeSubtree(t, BranchChildAt(p, i + 1), level - 1));
    }
  }
  FreePage(t, no);
  return Status::Ok();
}

// Children written by this transaction (the rewritten edges of the range)
// that are under a quarter full are merged with or balanced against a
// neighbour until none is left, or only one child remains (then the parent
// merges this node with a neighbour and repairs the merged node's children:
// FixFreshBranch).
Status BtreeImpl::RebalanceTouched(Txn* t, std::vector<BranchEntry>* ents, uint32_t child_level) {
  // Each round merges two children (one fewer) or balances two into pages
  // at least a quarter full, so the rounds are bounded by the children.
  const size_t rounds_max = 2 * ents->size() + 2;
  for (size_t round = 0; round < rounds_max && ents->size() > 1; ++round) {
    size_t underfull = ents->size();
    for (size_t i = 0; i < ents->size() && underfull == ents->size(); ++i) {
      if (!t->fresh.contains((*ents)[i].child)) continue;
      STRATA_ASSIGN_OR_RETURN(PageRef child, GetNode((*ents)[i].child, child_level));
      if (UsedBytes(child->bytes(), page_bytes_) < geo_.usable / 4) underfull = i;
    }
    if (underfull == ents->size()) return Status::Ok();
    const size_t count_before = ents->size();
    const size_t a = underfull + 1 < ents->size() ? underfull : underfull - 1;
    STRATA_RETURN_IF_ERROR(Rebalance(t, ents, underfull, child_level));
    if (child_level == 0) continue;
    // A merged branch may hold an underfull child of its own (the only
    // child of the node that was underfull): repair its children too.
    const size_t outputs = ents->size() == count_before ? 2 : 1;
    for (size_t k = a + outputs; k-- > a;) {
      MutateResult fixed;
      STRATA_RETURN_IF_ERROR(FixFreshBranch(t, (*ents)[k].child, child_level, &fixed));
      if (!fixed.changed) continue;
      (*ents)[k].child = fixed.nodes[0].page;
      for (size_t n = 1; n < fixed.nodes.size(); ++n) {
        ents->insert(ents->begin() + static_cast<ptrdiff_t>(k + n),
                     BranchEntry{t->keys.emplace_back(fixed.nodes[n].key), fixed.nodes[n].page});
      }
    }
  }
  return Status::Ok();
}

// Rebalances the fresh children of a branch this transaction wrote, and
// rewrites it when that changed anything.
Status BtreeImpl::FixFreshBranch(Txn* t, uint64_t no, uint32_t level, MutateResult* r) {
  STRATA_ASSERT(level >= 1);
  STRATA_ASSIGN_OR_RETURN(PageRef page, GetNode(no, level));
  const char* p = page->bytes();
  std::vector<BranchEntry> ents;
  ents.push_back(BranchEntry{{}, LinkOf(p)});
  for (size_t k = 0; k < CountOf(p); ++k) {
    ents.push_back(BranchEntry{BranchKeyAt(p, k), BranchChildAt(p, k + 1)});
  }
  std::vector<uint64_t> children_before;
  for (const BranchEntry& e : ents) children_before.push_back(e.child);
  STRATA_RETURN_IF_ERROR(RebalanceTouched(t, &ents, level - 1));
  std::vector<uint64_t> children_after;
  for (const BranchEntry& e : ents) children_after.push_back(e.child);
  if (children_after == children_before) return Status::Ok();
  FreePage(t, no);  // `page` stays readable while ents point into it
  EmitBranch(t, level, ents, r);
  return Status::Ok();
}

}  // namespace strata::btree
