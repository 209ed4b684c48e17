// BtreeImpl: reads, the iterator, snapshots, PutIfNewer, stats and bulk
// load. Checkpoint copies are in checkpoint.cc.
#include <fmt/core.h>

#include <algorithm>
#include <functional>

#include "btree/btree_impl.h"
#include "core/assert.h"

namespace strata::btree {

namespace {

// Bulk load writes its pages out in runs of this many (1 MiB of 4 KiB pages).
constexpr size_t kBulkWriteOutPages = 256;
// Leaves an iterator reads ahead in one batch when it enters a new window:
// 256 KiB, 64 pages of 4 KiB (a few of the hdd profile's larger pages).
constexpr size_t kReadAheadBytes = 256 << 10;

}  // namespace

class BtreeImpl::SnapshotImpl final : public Snapshot {
 public:
  SnapshotImpl(BtreeImpl* db, std::shared_ptr<const Version> v) : db_(db), v_(std::move(v)) {
    db_->snapshots_.fetch_add(1, std::memory_order_relaxed);
  }
  ~SnapshotImpl() override { db_->snapshots_.fetch_sub(1, std::memory_order_relaxed); }
  // The LSN of the version's last change: unique per write, and (unlike
  // version ids) continued across reopens and into checkpoints.
  uint64_t sequence() const override { return v_->lsn; }
  const std::shared_ptr<const Version>& version() const { return v_; }
  const BtreeImpl* db() const { return db_; }

 private:
  BtreeImpl* const db_;
  const std::shared_ptr<const Version> v_;
};

std::shared_ptr<const Version> BtreeImpl::CurrentVersion() const {
  std::lock_guard lock(version_mu_);
  return current_;
}

Result<std::shared_ptr<const Version>> BtreeImpl::ReadVersion(const ReadOptions& options) const {
  if (options.snapshot == nullptr) return CurrentVersion();
  const auto* snap = dynamic_cast<const SnapshotImpl*>(options.snapshot);
  if (snap == nullptr || snap->db() != this) {
    return Status::InvalidArgument("snapshot is not from this btree engine");
  }
  return snap->version();
}

std::unique_ptr<Snapshot> BtreeImpl::GetSnapshot() {
  return std::make_unique<SnapshotImpl>(this, CurrentVersion());
}

Status BtreeImpl::ReadOverflow(uint64_t first, uint64_t bytes, std::string* out) {
  out->clear();
  out->reserve(bytes);
  uint64_t no = first;
  while (out->size() < bytes) {
    if (no == 0) break;
    STRATA_ASSIGN_OR_RETURN(PageRef pg, pager_->Get(no));
    if (PageTypeOf(pg->bytes()) != static_cast<uint8_t>(PageType::kOverflow)) {
      return Status::Corruption(fmt::format("{} page {} @ {}: a {} page in an overflow chain",
                                            data_file(), no, no * page_bytes_,
                                            PageTypeName(PageTypeOf(pg->bytes()))));
    }
    out->append(OverflowData(pg->bytes()));
    no = LinkOf(pg->bytes());
  }
  if (out->size() != bytes || no != 0) {
    return Status::Corruption(fmt::format("{} page {}: overflow chain holds {} bytes, the cell says {}",
                                          data_file(), first, out->size(), bytes));
  }
  return Status::Ok();
}

Status BtreeImpl::ValueOf(const LeafCell& cell, std::string* value) {
  if (cell.flags & kCellOverflow) return ReadOverflow(cell.overflow, cell.value_bytes, value);
  value->assign(cell.value);
  return Status::Ok();
}

Status BtreeImpl::Find(const Version& v, std::string_view key, std::string* value,
                       uint64_t* version) {
  if (v.root == 0) return Status::NotFound("key not found");
  uint64_t no = v.root;
  for (uint32_t level = v.height - 1; level > 0; --level) {
    STRATA_ASSIGN_OR_RETURN(PageRef pg, GetNode(no, level));
    no = BranchChildAt(pg->bytes(), BranchChildFor(pg->bytes(), key));
  }
  STRATA_ASSIGN_OR_RETURN(PageRef leaf, GetNode(no, 0));
  const char* p = leaf->bytes();
  const size_t i = LeafLowerBound(p, key);
  if (i == CountOf(p) || LeafKeyAt(p, i) != key) return Status::NotFound("key not found");
  const LeafCell cell = LeafCellAt(p, i);
  *version = cell.version;
  return ValueOf(cell, value);
}

Status BtreeImpl::Get(const ReadOptions& options, std::string_view key, std::string* value) {
  uint64_t version = 0;
  return GetVersioned(options, key, value, &version);
}

Status BtreeImpl::GetVersioned(const ReadOptions& options, std::string_view key,
                               std::string* value, uint64_t* version) {
  if (key.size() > kKeyBytesMax) {
    return Status::InvalidArgument(fmt::format("key of {} bytes exceeds kKeyBytesMax", key.size()));
  }
  STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const Version> v, ReadVersion(options));
  *version = 0;
  return Find(*v, key, value, version);
}

Status BtreeImpl::PutIfNewer(const WriteOptions& options, std::string_view key, uint64_t version,
                             std::string_view value, bool* applied) {
  *applied = false;
  WriteBatch batch;
  STRATA_RETURN_IF_ERROR(batch.PutVersioned(key, version, value));
  // Read-compare-write under the key's stripe: PutIfNewer calls on one key
  // are serialised, calls on other keys are not.
  std::lock_guard lock(key_locks_[std::hash<std::string_view>{}(key) % kKeyLockStripes]);
  std::string current;
  uint64_t current_version = 0;
  Status s = GetVersioned(ReadOptions{}, key, &current, &current_version);
  if (s.ok() && version <= current_version) return Status::Ok();
  if (!s.ok() && !s.IsNotFound()) return s;
  STRATA_RETURN_IF_ERROR(Write(options, batch));
  *applied = true;
  return Status::Ok();
}

// --- Iterator ----------------------------------------------------------------

namespace {

class ErrorIterator final : public Iterator {
 public:
  explicit ErrorIterator(Status s) : s_(std::move(s)) {}
  bool Valid() const override { return false; }
  void SeekToFirst() override {}
  void Seek(std::string_view) override {}
  void SeekToLast() override {}
  void Next() override {}
  void Prev() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  Status status() const override { return s_; }

 private:
  Status s_;
};

}  // namespace

std::unique_ptr<BtreeIterator> BtreeImpl::NewBtreeIterator(const ReadOptions& options) {
  Result<std::shared_ptr<const Version>> v = ReadVersion(options);
  STRATA_ASSERT(v.ok());
  return std::make_unique<BtreeIterator>(this, *v, options.upper_bound);
}

std::unique_ptr<Iterator> BtreeImpl::NewIterator(const ReadOptions& options) {
  Result<std::shared_ptr<const Version>> v = ReadVersion(options);
  if (!v.ok()) return std::make_unique<ErrorIterator>(v.status());
  return std::make_unique<BtreeIterator>(this, *v, options.upper_bound);
}

BtreeIterator::BtreeIterator(BtreeImpl* db, std::shared_ptr<const Version> version,
                             std::optional<std::string> upper_bound)
    : db_(db), version_ptr_(std::move(version)), upper_bound_(std::move(upper_bound)) {}

void BtreeIterator::Fail(Status s) {
  status_ = std::move(s);
  valid_ = false;
  stack_.clear();
}

// Children of a branch: 0..count; entries of a leaf: 0..count-1.
bool BtreeIterator::DescendEdge(bool last) {
  const uint32_t height = version_ptr_->height;
  while (stack_.size() < height) {
    const Level& top = stack_.back();
    const uint32_t level = height - 1 - static_cast<uint32_t>(stack_.size());  // child's
    if (level == 0) ReadAhead(top.page, top.index, !last);
    Result<PageRef> child = db_->GetNode(BranchChildAt(top.page->bytes(), top.index), level);
    if (!child.ok()) {
      Fail(child.status());
      return false;
    }
    const size_t count = CountOf((*child)->bytes());
    size_t index = 0;
    if (last) index = level == 0 ? (count == 0 ? 0 : count - 1) : count;
    stack_.push_back(Level{std::move(*child), index});
  }
  return true;
}

void BtreeIterator::ReadAhead(const PageRef& branch, size_t index, bool forward) {
  if (branch->no == ahead_page_ && index >= ahead_begin_ && index < ahead_end_) return;
  const size_t children = CountOf(branch->bytes()) + 1;
  const size_t window = ahead_pages_;
  const size_t window_max = std::max<size_t>(kReadAheadBytes / db_->page_bytes_, 2);
  ahead_pages_ = std::min(2 * ahead_pages_, window_max);
  size_t begin = index, end = std::min(children, index + window);
  if (!forward) {
    begin = index + 1 >= window ? index + 1 - window : 0;
    end = index + 1;
  }
  std::vector<uint64_t> nos;
  nos.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) nos.push_back(BranchChildAt(branch->bytes(), i));
  db_->pager_->Prefetch(nos);
  ahead_page_ = branch->no;
  ahead_begin_ = begin;
  ahead_end_ = end;
}

// Moves to the first entry of the next leaf (or the last of the previous).
bool BtreeIterator::StepLeaf(bool forward) {
  stack_.pop_back();
  while (!stack_.empty()) {
    Level& top = stack_.back();
    const size_t count = CountOf(top.page->bytes());
    if (forward && top.index < count) {
      ++top.index;
      return DescendEdge(false);
    }
    if (!forward && top.index > 0) {
      --top.index;
      return DescendEdge(true);
    }
    stack_.pop_back();
  }
  valid_ = false;
  return false;
}

void BtreeIterator::Settle() {
  valid_ = false;
  if (stack_.empty()) return;
  const Level& leaf = stack_.back();
  const char* p = leaf.page->bytes();
  if (leaf.index >= CountOf(p)) return;
  const LeafCell cell = LeafCellAt(p, leaf.index);
  if (upper_bound_.has_value() && cell.key >= *upper_bound_) return;
  key_ = cell.key;
  version_ = cell.version;
  if (cell.flags & kCellOverflow) {
    Status s = db_->ReadOverflow(cell.overflow, cell.value_bytes, &value_buf_);
    if (!s.ok()) {
      Fail(std::move(s));
      return;
    }
    value_ = value_buf_;
  } else {
    value_ = cell.value;
  }
  valid_ = true;
}

void BtreeIterator::SeekToFirst() {
  RestartReadAhead();
  stack_.clear();
  valid_ = false;
  if (!status_.ok() || version_ptr_->root == 0) return;
  Result<PageRef> root = db_->GetNode(version_ptr_->root, version_ptr_->height - 1);
  if (!root.ok()) return Fail(root.status());
  stack_.push_back(Level{std::move(*root), 0});
  if (DescendEdge(false)) Settle();
}

void BtreeIterator::SeekToLast() {
  if (upper_bound_.has_value()) {
    // The entry before the first key at or above the bound.
    Seek(*upper_bound_);
    if (!status_.ok()) return;
    if (!stack_.empty()) {
      Prev();
      return;
    }
    // Every key is below the bound: the very last entry.
  }
  stack_.clear();
  valid_ = false;
  RestartReadAhead();
  if (!status_.ok() || version_ptr_->root == 0) return;
  Result<PageRef> root = db_->GetNode(version_ptr_->root, version_ptr_->height - 1);
  if (!root.ok()) return Fail(root.status());
  const size_t count = CountOf((*root)->bytes());
  const size_t index = version_ptr_->height == 1 ? (count == 0 ? 0 : count - 1) : count;
  stack_.push_back(Level{std::move(*root), index});
  if (DescendEdge(true)) Settle();
}

void BtreeIterator::Seek(std::string_view target) {
  RestartReadAhead();
  stack_.clear();
  valid_ = false;
  if (!status_.ok() || version_ptr_->root == 0) return;
  const uint32_t height = version_ptr_->height;
  uint64_t no = version_ptr_->root;
  for (uint32_t level = height - 1;; --level) {
    Result<PageRef> pg = db_->GetNode(no, level);
    if (!pg.ok()) return Fail(pg.status());
    const char* p = (*pg)->bytes();
    if (level == 0) {
      const size_t index = LeafLowerBound(p, target);
      stack_.push_back(Level{std::move(*pg), index});
      break;
    }
    const size_t child = BranchChildFor(p, target);
    no = BranchChildAt(p, child);
    stack_.push_back(Level{std::move(*pg), child});
  }
  if (stack_.back().index >= CountOf(stack_.back().page->bytes())) {
    if (!StepLeaf(true)) return;
  }
  Settle();
}

void BtreeIterator::Next() {
  STRATA_ASSERT(valid_);
  Level& leaf = stack_.back();
  ++leaf.index;
  if (leaf.index >= CountOf(leaf.page->bytes())) {
    if (!StepLeaf(true)) return;
  }
  Settle();
}

// Moves back one entry; from "past the end of the bound" (stack kept, not
// valid) it lands on the entry before the position.
void BtreeIterator::Prev() {
  if (stack_.empty()) {
    valid_ = false;
    return;
  }
  Level& leaf = stack_.back();
  if (leaf.index == 0) {
    if (!StepLeaf(false)) return;
  } else {
    --leaf.index;
  }
  if (stack_.empty()) return;
  // Entries before a valid position are below any upper bound the position met.
  Settle();
}

// --- Stats, checkpoint copies ----------------------------------------------

EngineStats BtreeImpl::Stats() const {
  EngineStats st;
  st.user_bytes_written = user_bytes_written_.load();
  st.wal_bytes_written = wal_ != nullptr ? wal_->stats().bytes_written : 0;  // null once closed
  const PagerStats ps = pager_->stats();
  st.flush_bytes_written = ps.bytes_written;
  std::shared_ptr<const Version> v = CurrentVersion();
  auto& p = st.properties;
  p.emplace_back("btree.page_bytes", page_bytes_);
  p.emplace_back("btree.height", v->height);
  p.emplace_back("btree.entries", v->entries);
  p.emplace_back("btree.last_lsn", v->lsn);
  p.emplace_back("btree.checkpoints", checkpoints_.load());
  p.emplace_back("btree.pages_written", ps.pages_written);
  p.emplace_back("btree.snapshots", snapshots_.load());
  {
    std::lock_guard lock(apply_mu_);
    p.emplace_back("btree.pages", page_count_);
    p.emplace_back("btree.free_pages", free_.size());
    p.emplace_back("btree.pending_free_pages", pending_.size());
    p.emplace_back("btree.dirty_pages", dirty_.size());
    p.emplace_back("btree.checkpoint_id", durable_.checkpoint);
  }
  if (scrubber_ != nullptr) scrubber_->AppendProperties(&p);
  p.emplace_back("cache.hits", ps.hits);
  p.emplace_back("cache.misses", ps.misses);
  p.emplace_back("cache.evictions", ps.evictions);
  p.emplace_back("cache.usage_bytes", ps.cached_bytes);
  return st;
}

// --- Bulk load ----------------------------------------------------------------

Status BtreeImpl::BulkLoad(const BulkSource& next, double fill) {
  if (!(fill >= 0.5 && fill <= 1.0)) {
    return Status::InvalidArgument(fmt::format("bulk load fill {} is outside [0.5, 1]", fill));
  }
  std::unique_lock lock(apply_mu_);
  STRATA_RETURN_IF_ERROR(LockedTurn(lock));
  std::shared_ptr<const Version> base = CurrentVersion();
  if (base->root != 0) return Status::InvalidArgument("bulk load needs an empty btree");
  Txn t;
  t.version_id = next_version_id_++;
  t.lsn = base->lsn;
  const size_t target = std::max<size_t>(static_cast<size_t>(fill * geo_.usable), geo_.usable / 2);

  // Leaves stream out; the last two groups are held back so that the final
  // leaf can be balanced with its neighbour.
  struct Group {
    std::deque<std::string> cells;
    size_t bytes = 0;
  };
  std::vector<std::pair<std::string, uint64_t>> level_nodes;  // first key, page
  Group prev, cur;
  auto emit_leaf = [&](const std::vector<std::string_view>& cells, std::string first) {
    const uint64_t no = AllocPage(&t);
    std::shared_ptr<Page> pg = pager_->NewPage(no);
    BuildNode(pg->mutable_bytes(), page_bytes_, PageType::kLeaf, 0, no, t.lsn, 0, cells.data(),
              cells.size());
    pager_->Install(std::move(pg));
    level_nodes.emplace_back(std::move(first), no);
  };
  // Leaves (and overflow pages) are written as they fill, kBulkWriteOutPages
  // at a time, so the load holds only the branch levels in memory. They are
  // fresh pages no durable meta reaches: a torn write hurts nobody, and the
  // final checkpoint's fdatasync makes them durable before its meta.
  const size_t dirty_at_start = dirty_.size();
  auto write_out = [&]() -> Status {
    std::vector<PageRef> pages;
    for (uint64_t no : dirty_) {  // ordered: consecutive runs become one write
      if (t.fresh.count(no) == 0) continue;
      STRATA_ASSIGN_OR_RETURN(PageRef pg, pager_->Get(no));
      pages.push_back(std::move(pg));
    }
    STRATA_RETURN_IF_ERROR(pager_->WritePages(pages, /*fresh_bulk=*/true));
    for (const PageRef& pg : pages) dirty_.erase(pg->no);
    pager_->MarkOnDisk(pages);
    return Status::Ok();
  };
  auto group_views = [](const Group& g) {
    return std::vector<std::string_view>(g.cells.begin(), g.cells.end());
  };
  auto first_key = [](std::string_view cell) {
    std::string_view in = cell.substr(1);  // after the flags byte
    std::string_view key;
    const bool ok = GetLengthPrefixed(&in, &key);
    STRATA_ASSERT(ok);
    return std::string(key);
  };
  std::string key, value, last_key;
  uint64_t version = 0;
  uint64_t count = 0;
  Status s;
  while (s.ok() && next(&key, &value, &version)) {
    if (key.size() > geo_.key_max || value.size() > kValueBytesMax) {
      s = Status::InvalidArgument(fmt::format("bulk load: key {} or value {} bytes too big",
                                              key.size(), value.size()));
      break;
    }
    if (count > 0 && key <= last_key) {
      s = Status::InvalidArgument("bulk load: keys are not strictly increasing");
      break;
    }
    std::string cell;
    const uint8_t vflag = version != 0 ? kCellVersioned : 0;
    EncodeLeafCell(&cell, key, vflag, version, value, value.size(), 0);
    if (cell.size() > geo_.cell_max) {
      uint64_t first = 0;
      s = WriteOverflow(&t, value, &first);
      cell.clear();
      EncodeLeafCell(&cell, key, vflag | kCellOverflow, version, {}, value.size(), first);
    }
    if (cur.bytes + cell.size() + kSlotBytes > target && !cur.cells.empty()) {
      if (!prev.cells.empty()) emit_leaf(group_views(prev), first_key(prev.cells.front()));
      if (dirty_.size() >= dirty_at_start + kBulkWriteOutPages) s = write_out();
      prev = std::move(cur);
      cur = Group();
    }
    cur.bytes += cell.size() + kSlotBytes;
    cur.cells.push_back(std::move(cell));
    last_key = key;
    ++count;
  }
  if (s.ok()) {
    // The last two groups: one leaf if they fit, else two balanced ones.
    std::vector<std::string_view> tail;
    for (const Group* g : {&prev, &cur}) {
      for (const auto& c : g->cells) tail.push_back(c);
    }
    size_t total = prev.bytes + cur.bytes;
    if (!tail.empty() && total <= geo_.usable) {
      emit_leaf(tail, first_key(tail.front()));
    } else if (!tail.empty()) {
      size_t left = 0, split = 0, best = SIZE_MAX;
      for (size_t i = 0; i + 1 < tail.size(); ++i) {
        left += tail[i].size() + kSlotBytes;
        const size_t right = total - left;
        const size_t skew = left > right ? left - right : right - left;
        if (left <= geo_.usable && right <= geo_.usable && skew < best) {
          best = skew;
          split = i + 1;
        }
      }
      emit_leaf({tail.begin(), tail.begin() + static_cast<ptrdiff_t>(split)},
                first_key(tail.front()));
      emit_leaf({tail.begin() + static_cast<ptrdiff_t>(split), tail.end()},
                first_key(tail[split]));
    }
  }
  // Branch levels, each built from the one below with the same fill.
  uint32_t level = 0;
  while (s.ok() && level_nodes.size() > 1) {
    ++level;
    std::vector<std::pair<std::string, uint64_t>> below = std::move(level_nodes);
    level_nodes.clear();
    std::vector<std::vector<size_t>> groups(1);
    std::vector<size_t> bytes(1, 0);
    for (size_t i = 0; i < below.size(); ++i) {
      const size_t cell = VarintLength(below[i].first.size()) + below[i].first.size() + 8 +
                          kSlotBytes;
      if (!groups.back().empty() && bytes.back() + cell > target) {
        groups.emplace_back();
        bytes.push_back(0);
      }
      // The first entry of a group is its child 0 (no cell).
      if (!groups.back().empty()) bytes.back() += cell;
      groups.back().push_back(i);
    }
    // A last group below a quarter (or with one child) joins its neighbour.
    if (groups.size() > 1 && (bytes.back() < geo_.usable / 4 || groups.back().size() < 2)) {
      std::vector<size_t> both = groups[groups.size() - 2];
      both.insert(both.end(), groups.back().begin(), groups.back().end());
      groups.pop_back();
      groups.pop_back();
      size_t total = 0;
      for (size_t k = 1; k < both.size(); ++k) {
        total += VarintLength(below[both[k]].first.size()) + below[both[k]].first.size() + 8 +
                 kSlotBytes;
      }
      if (total <= geo_.usable) {
        groups.push_back(both);
      } else {
        const size_t half = both.size() / 2;
        groups.emplace_back(both.begin(), both.begin() + static_cast<ptrdiff_t>(half));
        groups.emplace_back(both.begin() + static_cast<ptrdiff_t>(half), both.end());
      }
    }
    for (const auto& g : groups) {
      std::vector<std::string> cells(g.size());
      std::vector<std::string_view> views;
      for (size_t k = 1; k < g.size(); ++k) {
        EncodeBranchCell(&cells[k], below[g[k]].first, below[g[k]].second);
        views.push_back(cells[k]);
      }
      const uint64_t no = AllocPage(&t);
      std::shared_ptr<Page> pg = pager_->NewPage(no);
      BuildNode(pg->mutable_bytes(), page_bytes_, PageType::kBranch, static_cast<uint8_t>(level),
                no, t.lsn, below[g[0]].second, views.data(), views.size());
      pager_->Install(std::move(pg));
      level_nodes.emplace_back(below[g[0]].first, no);
    }
  }
  if (!s.ok()) {
    for (uint64_t no : t.fresh) {
      dirty_.erase(no);
      pager_->Forget(no);
      free_.insert(no);
    }
    return s;
  }
  if (!level_nodes.empty()) {
    t.root = level_nodes[0].second;
    t.height = level + 1;
  }
  t.entries = count;
  Commit(&t);
  s = CheckpointLocked();
  if (!s.ok()) SetError(s);
  return s;
}

}  // namespace strata::btree
