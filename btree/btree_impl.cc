// BtreeImpl: open, recovery, the write path (copy-on-write mutation) and
// checkpoints. Reads and the iterator are in btree_read.cc.
#include "btree/btree_impl.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>

#include "btree/check.h"
#include "core/assert.h"
#include "io/disk_detect.h"
#include "strata/disk_profile.h"
#include "wal/limits.h"
#include "wal/wal_dir.h"

namespace strata::btree {

namespace {

// Smallest write buffer (checkpoint trigger is half of it).
constexpr size_t kMemTableBytesMin = 4 * 1024;
// Writes without sync are gathered up to this many bytes per WAL record.

}  // namespace

Status OpenBtreeEngine(const Options& options, const std::string& path,
                       std::unique_ptr<Engine>* engine) {
  return BtreeImpl::Open(options, path, engine);
}

BtreeImpl::BtreeImpl(const Options& options, std::string path, std::shared_ptr<io::FileSystem> fs,
                     size_t page_bytes)
    : options_(options), path_(std::move(path)), fs_(std::move(fs)), page_bytes_(page_bytes),
      geo_(PageGeometry::For(page_bytes)) {
  checkpoint_bytes_ = options.memtable_bytes / 2;
  // What one WAL record may carry (the seal and a grow record keep room too);
  // a segment size the WAL refuses is reported by its Open.
  wal_payload_bytes_max_ = options.wal_segment_bytes >= wal::kSegmentBytesMin
                               ? wal::SegmentPayloadBytesMax(options.wal_segment_bytes)
                               : 0;
}

std::string BtreeImpl::data_file() const { return io::JoinPath(path_, kDataFileName); }

Status BtreeImpl::Open(const Options& options, const std::string& path,
                       std::unique_ptr<Engine>* engine) {
  if (options.memtable_bytes < kMemTableBytesMin) {
    return Status::InvalidArgument(fmt::format("memtable_bytes {} is below the minimum {}",
                                               options.memtable_bytes, kMemTableBytesMin));
  }
  std::shared_ptr<io::FileSystem> fs =
      options.file_system ? options.file_system : io::DefaultFileSystem();
  STRATA_RETURN_IF_ERROR(fs->CreateDir(path));
  size_t page_bytes = options.block_bytes;
  const bool explicit_size = page_bytes != 0;
  ResolvedDiskProfile profile;
  io::DetectOptions detect;
  detect.allow_probe = !options.read_only;
  STRATA_RETURN_IF_ERROR(io::ResolveDiskProfile(fs.get(), options.profile, path, detect, &profile));
  if (!explicit_size) {
    page_bytes = profile.profile == DiskProfile::kHdd ? kPageBytesHdd : kPageBytesSsd;
  }
  if (!ValidPageBytes(page_bytes)) {
    return Status::InvalidArgument(fmt::format(
        "btree page size (block_bytes) {} is not a power of two in [{}, {}]", page_bytes,
        kPageBytesMin, kPageBytesMax));
  }
  std::unique_ptr<BtreeImpl> db(new BtreeImpl(options, path, fs, page_bytes));
  STRATA_RETURN_IF_ERROR(db->Recover(explicit_size));
  // After recovery (a new directory holds its data file first); best effort:
  // without it the next open detects again.
  if (!options.read_only) (void)io::PersistDiskProfile(fs.get(), path, profile);
  db->StartScrubber();
  *engine = std::move(db);
  return Status::Ok();
}

Status BtreeImpl::Recover(bool explicit_page_size) {
  STRATA_RETURN_IF_ERROR(fs_->Lock(io::JoinPath(path_, kLockFileName), &lock_file_));
  const std::string file = data_file();
  uint64_t file_size = 0;
  if (fs_->FileExists(file)) {
    STRATA_ASSIGN_OR_RETURN(file_size, fs_->FileSize(file));
  }
  Meta meta;
  if (file_size == 0) {
    if (!options_.create_if_missing) return Status::NotFound(file + ": missing");
    // A new file: checkpoint 0 (an empty tree) in slot 0, slot 1 zeros.
    pager_ = std::make_unique<Pager>(fs_, file, page_bytes_, options_.block_cache_bytes);
    pager_->set_bulk_direct(options_.use_direct_io.value_or(true));
    STRATA_RETURN_IF_ERROR(pager_->Open(true));
    std::string page(page_bytes_, '\0');
    STRATA_RETURN_IF_ERROR(pager_->WriteRaw(1, page.data()));
    BuildMeta(page.data(), page_bytes_, meta);
    STRATA_RETURN_IF_ERROR(pager_->WriteRaw(0, page.data()));
    STRATA_RETURN_IF_ERROR(pager_->Sync());
    STRATA_RETURN_IF_ERROR(fs_->SyncDir(path_));
  } else {
    std::unique_ptr<io::RandomAccessFile> in;
    STRATA_RETURN_IF_ERROR(fs_->NewRandomAccessFile(file, io::FileOptions{}, &in));
    size_t stored = 0;
    STRATA_RETURN_IF_ERROR(LoadNewestMeta(*in, &stored, &meta));
    if (stored != page_bytes_) {
      if (explicit_page_size) {
        return Status::InvalidArgument(fmt::format(
            "{}: file has {}-byte pages, options ask for {} (block_bytes)", file, stored,
            page_bytes_));
      }
      page_bytes_ = stored;
      geo_ = PageGeometry::For(page_bytes_);
    }
    // Divided, not multiplied: a crafted page count must not wrap the product.
    if (meta.page_count > file_size / page_bytes_) {
      return Status::Corruption(fmt::format("{}: {} bytes, the meta says {} pages of {}", file,
                                            file_size, meta.page_count, page_bytes_));
    }
    pager_ = std::make_unique<Pager>(fs_, file, page_bytes_, options_.block_cache_bytes);
    pager_->set_bulk_direct(options_.use_direct_io.value_or(true));
    STRATA_RETURN_IF_ERROR(pager_->Open(false));
    STRATA_RETURN_IF_ERROR(LoadFreeList(meta));
  }
  durable_ = meta;
  page_count_ = meta.page_count;
  auto v = std::make_shared<Version>();
  v->id = 1;
  v->root = meta.root;
  v->height = meta.height;
  v->lsn = meta.wal_lsn - 1;
  v->entries = meta.entries;
  current_ = v;
  published_.emplace_back(v->id, v);

  wal::LogOptions log_options;
  log_options.file_system = fs_;
  log_options.segment_bytes = options_.wal_segment_bytes;
  log_options.direct_io = options_.use_direct_io.value_or(false);
  log_options.recovery = options_.wal_recovery;
  log_options.preparation = wal::SegmentPreparation::kRecycleElseFallocate;
  uint64_t first_lsn = 0;
  auto apply = [&](uint64_t lsn, std::string_view payload) -> Status {
    if (first_lsn == 0) first_lsn = lsn;
    Result<WriteBatch> batch = WriteBatch::FromRep(std::string(payload));
    if (!batch.ok()) {
      return Status::Corruption(fmt::format("wal record lsn {}: {}", lsn,
                                            batch.status().message()));
    }
    return ApplyBatch(lsn, *batch);
  };
  std::string wal_dir;  // <path>/wal unless Options::wal_dir (wal/wal_dir.h)
  wal::WalHandover handover;
  STRATA_RETURN_IF_ERROR(
      wal::ResolveWalDir(fs_.get(), path_, options_.wal_dir, &wal_dir, &handover));
  STRATA_RETURN_IF_ERROR(wal::PrepareWalDir(fs_.get(), path_, wal_dir, handover));
  // After an install's handover (wal/wal_dir.h) the WAL starts afresh at the
  // checkpoint's position.
  if (meta.wal_lsn > 1 && !handover.pending) {
    // Open would start a new log: with none at all, records are lost.
    bool any_segment = false;
    STRATA_RETURN_IF_ERROR(wal::HasSegmentFile(fs_.get(), wal_dir, &any_segment));
    if (!any_segment) {
      return Status::Corruption(fmt::format(
          "{}: no WAL segment, but checkpoint {} continues the WAL at lsn {} (the WAL was lost)",
          wal_dir, meta.checkpoint, meta.wal_lsn));
    }
  }
  STRATA_RETURN_IF_ERROR(
      wal::Log::OpenAndReplay(log_options, wal_dir, meta.wal_lsn, apply, &wal_));
  // The log must continue exactly where the checkpoint ends: a gap means
  // records the tree lacks are gone (e.g. the newest meta page was damaged
  // after its checkpoint released the log below it). A log that holds no
  // record from the checkpoint on and ends at or below it lost at most
  // records the tree already holds (or never had one: a checkpoint copy
  // whose log was continued at its LSN), so its numbering continues there.
  if (first_lsn == 0 && wal_->next_lsn() < meta.wal_lsn) {
    STRATA_RETURN_IF_ERROR(wal_->ContinueAt(meta.wal_lsn));
  }
  if ((first_lsn == 0 && wal_->next_lsn() != meta.wal_lsn) ||
      (first_lsn != 0 && first_lsn != meta.wal_lsn)) {
    return Status::Corruption(fmt::format(
        "{}: checkpoint {} needs the WAL from lsn {}, the WAL continues at lsn {} (next {})",
        path_, meta.checkpoint, meta.wal_lsn, first_lsn, wal_->next_lsn()));
  }
  if (handover.pending) STRATA_RETURN_IF_ERROR(wal::FinishWalHandover(fs_.get(), path_));
  next_apply_lsn_ = wal_->next_lsn();
  wal_bytes_at_checkpoint_ = 0;
  std::unique_lock lock(apply_mu_);
  MaybeCheckpointLocked();
  return error_;
}

Status BtreeImpl::LoadFreeList(const Meta& meta) {
  std::string buf;
  std::set<uint64_t> seen;
  uint64_t no = meta.free_head;
  while (no != 0) {
    if (no < kMetaPages || no >= meta.page_count || !seen.insert(no).second) {
      return Status::Corruption(fmt::format("{}: free list links to page {}", data_file(), no));
    }
    durable_free_pages_.push_back(no);
    STRATA_RETURN_IF_ERROR(pager_->ReadPage(no, &buf));
    if (PageTypeOf(buf.data()) != static_cast<uint8_t>(PageType::kFreeList)) {
      return Status::Corruption(fmt::format("{} page {} @ {}: a {} page in the free list",
                                            data_file(), no, no * page_bytes_,
                                            PageTypeName(PageTypeOf(buf.data()))));
    }
    for (size_t i = 0; i < CountOf(buf.data()); ++i) {
      const uint64_t p = FreeEntryAt(buf.data(), i);
      if (p < kMetaPages || p >= meta.page_count || !free_.insert(p).second) {
        return Status::Corruption(fmt::format("{} page {} @ {}: bad free entry {}", data_file(),
                                              no, no * page_bytes_ + kHeaderBytes + 8 * i, p));
      }
    }
    no = LinkOf(buf.data());
  }
  if (free_.size() != meta.free_count) {
    return Status::Corruption(fmt::format("{}: free list holds {} pages, the meta says {}",
                                          data_file(), free_.size(), meta.free_count));
  }
  for (uint64_t p : durable_free_pages_) {
    if (free_.count(p)) {
      return Status::Corruption(fmt::format("{}: free-list page {} lists itself", data_file(), p));
    }
  }
  return Status::Ok();
}

BtreeImpl::~BtreeImpl() {
  if (scrubber_ != nullptr) scrubber_->Stop();
  if (wal_ != nullptr) {
    std::lock_guard lock(apply_mu_);
    if (error_.ok()) (void)CheckpointLocked();
  }
}

void BtreeImpl::SetError(const Status& s) {
  if (error_.ok()) error_ = s;
  apply_cv_.notify_all();
}

// ---------------------------------------------------------------------------
// Write path

Status BtreeImpl::Put(const WriteOptions& options, std::string_view key, std::string_view value) {
  WriteBatch batch;
  STRATA_RETURN_IF_ERROR(batch.Put(key, value));
  return Write(options, batch);
}

Status BtreeImpl::Delete(const WriteOptions& options, std::string_view key) {
  WriteBatch batch;
  STRATA_RETURN_IF_ERROR(batch.Delete(key));
  return Write(options, batch);
}

namespace {

class KeyLimitChecker final : public WriteBatch::Handler {
 public:
  explicit KeyLimitChecker(size_t key_max) : key_max_(key_max) {}
  Status OnPut(std::string_view key, std::string_view value) override {
    return Check(key, value);
  }
  Status OnDelete(std::string_view key) override { return Check(key, {}); }
  Status OnPutVersioned(std::string_view key, uint64_t, std::string_view value) override {
    return Check(key, value);
  }
  // The bounds are never stored: any size the batch accepts is fine.
  Status OnDeleteRange(std::string_view, std::string_view) override { return Status::Ok(); }

 private:
  Status Check(std::string_view key, std::string_view value) const {
    if (key.size() > key_max_) {
      return Status::InvalidArgument(fmt::format(
          "key of {} bytes exceeds the btree key limit of {} bytes for its page size", key.size(),
          key_max_));
    }
    if (value.size() > kValueBytesMax) {
      return Status::InvalidArgument(
          fmt::format("value of {} bytes exceeds kValueBytesMax", value.size()));
    }
    return Status::Ok();
  }
  size_t key_max_;
};

}  // namespace

Status BtreeImpl::Write(const WriteOptions& options, const WriteBatch& batch) {
  STRATA_RETURN_IF_ERROR(batch.status());  // e.g. a refused DeleteRange
  if (batch.Count() == 0) return Status::Ok();
  if (batch.ApproximateSize() > wal_payload_bytes_max_) {
    return Status::InvalidArgument(fmt::format(
        "write batch of {} bytes does not fit one WAL record ({} bytes with wal_segment_bytes {})",
        batch.ApproximateSize(), wal_payload_bytes_max_, options_.wal_segment_bytes));
  }
  KeyLimitChecker checker(geo_.key_max);
  STRATA_RETURN_IF_ERROR(batch.Iterate(&checker));
  return WriteImpl(options, batch);
}

// A caller that did not append (checkpoints, bulk load) holds apply_mu_ for
// its whole run: it is the writer meanwhile.
Status BtreeImpl::LockedTurn(std::unique_lock<std::mutex>& lock) {
  STRATA_ASSERT(lock.owns_lock());
  if (closed_) return Status::InvalidArgument("the engine is closed");
  return error_;
}

// Two paths keep the WAL order equal to the apply order:
// - Without sync (and with no synced write in flight), the batch is applied
//   at once and its rep joins wal_buffer_, which is logged as one WAL record
//   before the call returns (the default, Options::wal_buffer_bytes == 0: a
//   process crash loses no acknowledged write). With wal_buffer_bytes > 0 the
//   buffer is logged once it passes that size, before any synced write, and
//   at every checkpoint: a process crash may then lose the buffer, a suffix
//   of the unsynced writes, never a hole, for one WAL write per buffer.
// - With sync, the buffer is logged first, then the batch is appended outside
//   the lock (the WAL's group commit merges concurrent synced writers) and
//   applied in LSN order.
Status BtreeImpl::WriteImpl(const WriteOptions& options, const WriteBatch& batch) {
  std::unique_lock lock(apply_mu_);
  if (closed_) return Status::InvalidArgument("the engine is closed");
  if (!options.sync) {
    apply_cv_.wait(lock, [&] {
      return appends_in_flight_ == 0 || !error_.ok();
    });
    STRATA_RETURN_IF_ERROR(error_);
    // The WAL assigns the next LSN to the buffer when it is logged.
    Status s = ApplyBatch(next_apply_lsn_, batch);
    if (s.ok()) s = wal_buffer_.Append(batch);
    if (s.ok() && wal_buffer_.ApproximateSize() >= options_.wal_buffer_bytes) {
      s = FlushWalBufferLocked();
    }
    if (!s.ok()) {
      SetError(s);
      return s;
    }
    user_bytes_written_.fetch_add(batch.ApproximateSize() - WriteBatch::kHeaderBytes,
                                  std::memory_order_relaxed);
    MaybeCheckpointLocked();
    return error_;
  }
  STRATA_RETURN_IF_ERROR(error_);
  Status s = FlushWalBufferLocked();
  if (!s.ok()) {
    SetError(s);
    return s;
  }
  ++appends_in_flight_;
  lock.unlock();
  Result<uint64_t> lsn = wal_->Append(batch.rep(), true);
  lock.lock();
  if (!lsn.ok()) {
    --appends_in_flight_;
    SetError(lsn.status());
    return lsn.status();
  }
  apply_cv_.wait(lock, [&] { return next_apply_lsn_ == *lsn || !error_.ok(); });
  --appends_in_flight_;
  if (!error_.ok()) {
    apply_cv_.notify_all();
    return error_;
  }
  s = ApplyBatch(*lsn, batch);
  if (!s.ok()) {
    // The WAL holds the batch, the tree does not: nothing later may apply.
    SetError(s);
    return s;
  }
  next_apply_lsn_ = *lsn + 1;
  user_bytes_written_.fetch_add(batch.ApproximateSize() - WriteBatch::kHeaderBytes,
                                std::memory_order_relaxed);
  MaybeCheckpointLocked();
  apply_cv_.notify_all();
  return error_;
}

// REQUIRES: apply_mu_ held; no synced append in flight unless the buffer is
// empty (it is: unsynced writes wait while one is in flight).
Status BtreeImpl::FlushWalBufferLocked() {
  if (wal_buffer_.Count() == 0) return Status::Ok();
  STRATA_ASSERT(appends_in_flight_ == 0);
  Result<uint64_t> lsn = wal_->Append(wal_buffer_.rep(), false);
  wal_buffer_.Clear();
  if (!lsn.ok()) return lsn.status();
  // Its batches were applied with this LSN as their page LSN.
  STRATA_ASSERT(*lsn == next_apply_lsn_);
  next_apply_lsn_ = *lsn + 1;
  apply_cv_.notify_all();
  return Status::Ok();
}

namespace {

class OpCollector final : public WriteBatch::Handler {
 public:
  OpCollector(std::function<Status(bool, std::string_view, std::string_view, bool, uint64_t)> fn,
              std::function<Status(std::string_view, std::string_view)> range_fn)
      : fn_(std::move(fn)), range_fn_(std::move(range_fn)) {}
  Status OnPut(std::string_view key, std::string_view value) override {
    return fn_(false, key, value, false, 0);
  }
  Status OnDelete(std::string_view key) override { return fn_(true, key, {}, false, 0); }
  Status OnPutVersioned(std::string_view key, uint64_t version, std::string_view value) override {
    return fn_(false, key, value, true, version);
  }
  Status OnDeleteRange(std::string_view begin, std::string_view end) override {
    return range_fn_(begin, end);
  }

 private:
  std::function<Status(bool, std::string_view, std::string_view, bool, uint64_t)> fn_;
  std::function<Status(std::string_view, std::string_view)> range_fn_;
};

}  // namespace

// REQUIRES: apply_mu_ held (or recovery, before anyone else runs).
Status BtreeImpl::ApplyBatch(uint64_t lsn, const WriteBatch& batch) {
  std::shared_ptr<const Version> base = CurrentVersion();
  Txn t;
  t.version_id = next_version_id_++;
  t.lsn = lsn;
  t.root = base->root;
  t.height = base->height;
  t.entries = base->entries;
  OpCollector collector(
      [&](bool del, std::string_view key, std::string_view value, bool versioned,
          uint64_t version) {
        if (key.size() > geo_.key_max) {
          return Status::Corruption(
              fmt::format("wal record lsn {}: key of {} bytes above the limit", lsn, key.size()));
        }
        Op op;
        op.is_delete = del;
        op.key = key;
        op.value = value;
        op.versioned = versioned;
        op.version = version;
        return ApplyOp(&t, op);
      },
      [&](std::string_view begin, std::string_view end) {
        return ApplyRangeDelete(&t, begin, end);
      });
  STRATA_RETURN_IF_ERROR(batch.Iterate(&collector));
  Commit(&t);
  return Status::Ok();
}

uint64_t BtreeImpl::AllocPage(Txn* t) {
  uint64_t no = 0;
  if (!free_.empty()) {
    no = *free_.begin();
    free_.erase(free_.begin());
  } else {
    no = page_count_++;
  }
  t->fresh.insert(no);
  dirty_.insert(no);
  return no;
}

void BtreeImpl::FreePage(Txn* t, uint64_t no) {
  if (t->fresh.erase(no) > 0) {
    // Nobody ever saw it: reusable at once.
    dirty_.erase(no);
    pager_->Forget(no);
    free_.insert(no);
    return;
  }
  t->freed_published.push_back(no);
}

void BtreeImpl::Commit(Txn* t) {
  for (uint64_t no : t->freed_published) {
    PendingFree f;
    f.page = no;
    f.freed_at = t->version_id;
    // A page never written needs no checkpoint before its reuse; one on disk
    // stays reachable from the durable meta until the next checkpoint.
    f.durable_gen = dirty_.erase(no) > 0 ? 0 : durable_gen_ + 1;
    pending_.push_back(f);
  }
  auto v = std::make_shared<Version>();
  v->id = t->version_id;
  v->root = t->root;
  v->height = t->height;
  v->lsn = t->lsn;
  v->entries = t->entries;
  published_.emplace_back(v->id, v);
  {
    std::lock_guard lock(version_mu_);
    current_ = std::move(v);
  }
  Reclaim();
}

uint64_t BtreeImpl::MinLiveVersion() {
  while (published_.size() > 1 && published_.front().second.expired()) published_.pop_front();
  return published_.front().first;
}

void BtreeImpl::Reclaim() {
  if (pending_.empty()) return;
  const uint64_t min_live = MinLiveVersion();
  while (!pending_.empty() && pending_.front().freed_at <= min_live &&
         pending_.front().durable_gen <= durable_gen_) {
    pager_->Forget(pending_.front().page);
    free_.insert(pending_.front().page);
    pending_.pop_front();
  }
}

// --- Tree mutation ---------------------------------------------------------

Result<PageRef> BtreeImpl::GetNode(uint64_t no, uint32_t level) {
  STRATA_ASSIGN_OR_RETURN(PageRef page, pager_->Get(no));
  const uint8_t want =
      static_cast<uint8_t>(level == 0 ? PageType::kLeaf : PageType::kBranch);
  if (PageTypeOf(page->bytes()) != want || LevelOf(page->bytes()) != level) {
    return Status::Corruption(fmt::format(
        "{} page {} @ {}: a {} page at level {} where the tree expects a {} at level {}",
        data_file(), no, no * page_bytes_, PageTypeName(PageTypeOf(page->bytes())),
        LevelOf(page->bytes()), PageTypeName(want), level));
  }
  return page;
}

Status BtreeImpl::ApplyOp(Txn* t, const Op& op) {
  if (t->root == 0) {
    if (op.is_delete) return Status::Ok();
    // First key: an empty root leaf, then the general insert below.
    MutateResult r;
    std::vector<std::string_view> none;
    EmitLeaf(t, none, none, &r);
    t->root = r.nodes[0].page;
    t->height = 1;
  }
  MutateResult r;
  STRATA_RETURN_IF_ERROR(Mutate(t, t->root, t->height - 1, op, &r));
  if (!r.changed) return Status::Ok();
  return SetRoot(t, r);
}

Status BtreeImpl::SetRoot(Txn* t, const MutateResult& r) {
  if (r.nodes.empty()) {  // a range delete emptied the tree
    t->root = 0;
    t->height = 0;
    return Status::Ok();
  }
  if (r.nodes.size() > 1) {
    std::vector<BranchEntry> ents;
    for (const NodeOut& n : r.nodes) ents.push_back(BranchEntry{n.key, n.page});
    MutateResult top;
    EmitBranch(t, t->height, ents, &top);
    STRATA_ASSERT(top.nodes.size() == 1);
    t->root = top.nodes[0].page;
    ++t->height;
    return Status::Ok();
  }
  t->root = r.nodes[0].page;
  // Collapse: a root branch with one child, or an empty root leaf.
  while (true) {
    STRATA_ASSIGN_OR_RETURN(PageRef root, GetNode(t->root, t->height - 1));
    if (t->height > 1 && CountOf(root->bytes()) == 0) {
      FreePage(t, t->root);
      t->root = LinkOf(root->bytes());
      --t->height;
      continue;
    }
    if (t->height == 1 && CountOf(root->bytes()) == 0) {
      FreePage(t, t->root);
      t->root = 0;
      t->height = 0;
    }
    break;
  }
  return Status::Ok();
}

Status BtreeImpl::Mutate(Txn* t, uint64_t no, uint32_t level, const Op& op, MutateResult* r) {
  STRATA_ASSIGN_OR_RETURN(PageRef page, GetNode(no, level));
  if (level == 0) return MutateLeaf(t, page, op, r);
  return MutateBranch(t, page, level, op, r);
}

Status BtreeImpl::MutateLeaf(Txn* t, const PageRef& page, const Op& op, MutateResult* r) {
  const char* p = page->bytes();
  const size_t count = CountOf(p);
  const size_t pos = LeafLowerBound(p, op.key);
  const bool exists = pos < count && LeafKeyAt(p, pos) == op.key;
  if (op.is_delete && !exists) return Status::Ok();
  std::vector<std::string_view> cells;
  std::vector<std::string_view> keys;
  cells.reserve(count + 1);
  keys.reserve(count + 1);
  for (size_t i = 0; i < count; ++i) {
    const LeafCell c = LeafCellAt(p, i);
    cells.push_back(c.raw);
    keys.push_back(c.key);
  }
  if (exists) STRATA_RETURN_IF_ERROR(FreeOverflow(t, LeafCellAt(p, pos)));
  if (op.is_delete) {
    cells.erase(cells.begin() + static_cast<ptrdiff_t>(pos));
    keys.erase(keys.begin() + static_cast<ptrdiff_t>(pos));
    --t->entries;
  } else {
    std::string& cell = t->keys.emplace_back();
    const uint8_t vflag = op.versioned ? kCellVersioned : 0;
    EncodeLeafCell(&cell, op.key, vflag, op.version, op.value, op.value.size(), 0);
    if (cell.size() > geo_.cell_max) {
      uint64_t first = 0;
      STRATA_RETURN_IF_ERROR(WriteOverflow(t, op.value, &first));
      cell.clear();
      EncodeLeafCell(&cell, op.key, vflag | kCellOverflow, op.version, {}, op.value.size(), first);
      STRATA_ASSERT(cell.size() <= geo_.cell_max);
    }
    std::string& key_copy = t->keys.emplace_back(op.key);
    if (exists) {
      cells[pos] = cell;
      keys[pos] = key_copy;
    } else {
      cells.insert(cells.begin() + static_cast<ptrdiff_t>(pos), cell);
      keys.insert(keys.begin() + static_cast<ptrdiff_t>(pos), key_copy);
      ++t->entries;
    }
  }
  FreePage(t, page->no);
  EmitLeaf(t, cells, keys, r);
  return Status::Ok();
}

// Splits `cells` (in key order) into one or two leaves.
void BtreeImpl::EmitLeaf(Txn* t, std::vector<std::string_view>& cells,
                         std::vector<std::string_view>& keys, MutateResult* r) {
  r->changed = true;
  size_t total = 0;
  for (auto c : cells) total += c.size() + kSlotBytes;
  auto build = [&](size_t begin, size_t end) {
    const uint64_t no = AllocPage(t);
    std::shared_ptr<Page> pg = pager_->NewPage(no);
    BuildNode(pg->mutable_bytes(), page_bytes_, PageType::kLeaf, 0, no, t->lsn, 0,
              cells.data() + begin, end - begin);
    pager_->Install(std::move(pg));
    return no;
  };
  if (total <= geo_.usable) {
    r->nodes.push_back(NodeOut{{}, build(0, cells.size())});
    r->underfull = total < geo_.usable / 4;
    return;
  }
  // Two halves, as even in bytes as the cells allow.
  size_t left = 0, split = 0;
  size_t best = SIZE_MAX;
  for (size_t i = 0; i + 1 < cells.size(); ++i) {
    left += cells[i].size() + kSlotBytes;
    const size_t right = total - left;
    if (left <= geo_.usable && right <= geo_.usable) {
      const size_t skew = left > right ? left - right : right - left;
      if (skew < best) {
        best = skew;
        split = i + 1;
      }
    }
  }
  STRATA_ASSERT(split > 0);
  r->nodes.push_back(NodeOut{{}, build(0, split)});
  // The separator may point into a page the txn frees: keep a copy.
  const std::string_view up = t->keys.emplace_back(keys[split]);
  r->nodes.push_back(NodeOut{up, build(split, cells.size())});
  r->underfull = false;
}

// One or two branch pages from entries (entry 0's key unused).
void BtreeImpl::EmitBranch(Txn* t, uint32_t level, const std::vector<BranchEntry>& ents,
                           MutateResult* r) {
  r->changed = true;
  STRATA_ASSERT(!ents.empty());
  // All cells in one buffer (one allocation), then views into it.
  std::string& store = branch_scratch_;
  store.clear();
  std::vector<size_t> ends(ents.size(), 0);
  for (size_t i = 1; i < ents.size(); ++i) {
    EncodeBranchCell(&store, ents[i].key, ents[i].child);
    ends[i] = store.size();
  }
  std::vector<std::string_view> cells(ents.size());
  size_t total = 0;
  for (size_t i = 1; i < ents.size(); ++i) {
    cells[i] = std::string_view(store).substr(ends[i - 1], ends[i] - ends[i - 1]);
    total += cells[i].size() + kSlotBytes;
  }
  auto build = [&](size_t begin, size_t end) {  // child0 = ents[begin], cells begin+1..end
    const uint64_t no = AllocPage(t);
    std::shared_ptr<Page> pg = pager_->NewPage(no);
    BuildNode(pg->mutable_bytes(), page_bytes_, PageType::kBranch, static_cast<uint8_t>(level), no,
              t->lsn, ents[begin].child, cells.data() + begin + 1, end - begin - 1);
    pager_->Install(std::move(pg));
    return no;
  };
  if (total <= geo_.usable) {
    r->nodes.push_back(NodeOut{{}, build(0, ents.size())});
    r->underfull = total < geo_.usable / 4;
    return;
  }
  // Entry m moves up: left = [0, m), right = [m, n) with ents[m].child as child 0.
  size_t left = 0, split = 0, best = SIZE_MAX;
  for (size_t m = 1; m + 1 < ents.size(); ++m) {
    if (m > 1) left += cells[m - 1].size() + kSlotBytes;
    const size_t right = total - left - (cells[m].size() + kSlotBytes);
    if (left <= geo_.usable && right <= geo_.usable) {
      const size_t skew = left > right ? left - right : right - left;
      if (skew < best) {
        best = skew;
        split = m;
      }
    }
  }
  STRATA_ASSERT(split > 0);
  // Separator keys live in pages the txn may free: copy the one moving up.
  const std::string_view up = t->keys.emplace_back(ents[split].key);
  r->nodes.push_back(NodeOut{{}, build(0, split)});
  r->nodes.push_back(NodeOut{up, build(split, ents.size())});
  r->underfull = false;
}

Status BtreeImpl::MutateBranch(Txn* t, const PageRef& page, uint32_t level, const Op& op,
                               MutateResult* r) {
  const char* p = page->bytes();
  const size_t count = CountOf(p);
  const size_t i = BranchChildFor(p, op.key);
  MutateResult child;
  STRATA_RETURN_IF_ERROR(Mutate(t, BranchChildAt(p, i), level - 1, op, &child));
  if (!child.changed) return Status::Ok();
  std::vector<BranchEntry> ents;
  ents.reserve(count + 2);
  ents.push_back(BranchEntry{{}, LinkOf(p)});
  for (size_t k = 0; k < count; ++k) ents.push_back(BranchEntry{BranchKeyAt(p, k), BranchChildAt(p, k + 1)});
  ents[i].child = child.nodes[0].page;
  for (size_t k = 1; k < child.nodes.size(); ++k) {
    ents.insert(ents.begin() + static_cast<ptrdiff_t>(i + k),
                BranchEntry{child.nodes[k].key, child.nodes[k].page});
  }
  if (child.underfull && ents.size() > 1) {
    STRATA_RETURN_IF_ERROR(Rebalance(t, &ents, i, level - 1));
  }
  FreePage(t, page->no);
  EmitBranch(t, level, ents, r);
  return Status::Ok();
}

// Merges child i with a neighbour, or redistributes the two when they do not
// fit one page. Every non-root page thus stays at least a quarter full.
Status BtreeImpl::Rebalance(Txn* t, std::vector<BranchEntry>* ents, size_t i,
                            uint32_t child_level) {
  const size_t a = i + 1 < ents->size() ? i : i - 1;
  const size_t b = a + 1;
  STRATA_ASSIGN_OR_RETURN(PageRef pa, GetNode((*ents)[a].child, child_level));
  STRATA_ASSIGN_OR_RETURN(PageRef pb, GetNode((*ents)[b].child, child_level));
  MutateResult out;
  if (child_level == 0) {
    std::vector<std::string_view> cells, keys;
    for (const PageRef& pg : {pa, pb}) {
      for (size_t k = 0; k < CountOf(pg->bytes()); ++k) {
        const LeafCell c = LeafCellAt(pg->bytes(), k);
        cells.push_back(c.raw);
        keys.push_back(c.key);
      }
    }
    // Cells still point into pa/pb, which this function holds.
    FreePage(t, pa->no);
    FreePage(t, pb->no);
    EmitLeaf(t, cells, keys, &out);
  } else {
    std::vector<BranchEntry> merged;
    merged.push_back(BranchEntry{{}, LinkOf(pa->bytes())});
    for (size_t k = 0; k < CountOf(pa->bytes()); ++k) {
      merged.push_back(BranchEntry{BranchKeyAt(pa->bytes(), k), BranchChildAt(pa->bytes(), k + 1)});
    }
    merged.push_back(BranchEntry{(*ents)[b].key, LinkOf(pb->bytes())});
    for (size_t k = 0; k < CountOf(pb->bytes()); ++k) {
      merged.push_back(BranchEntry{BranchKeyAt(pb->bytes(), k), BranchChildAt(pb->bytes(), k + 1)});
    }
    FreePage(t, pa->no);
    FreePage(t, pb->no);
    EmitBranch(t, child_level, merged, &out);
  }
  // Keys of the outputs may point into pa/pb: copy them before they go.
  (*ents)[a].child = out.nodes[0].page;
  if (out.nodes.size() == 2) {
    (*ents)[b].key = t->keys.emplace_back(out.nodes[1].key);
    (*ents)[b].child = out.nodes[1].page;
  } else {
    ents->erase(ents->begin() + static_cast<ptrdiff_t>(b));
  }
  return Status::Ok();
}

Status BtreeImpl::WriteOverflow(Txn* t, std::string_view value, uint64_t* first) {
  const size_t per = geo_.overflow_data;
  const size_t n = (value.size() + per - 1) / per;
  std::vector<uint64_t> pages(n);
  for (size_t k = 0; k < n; ++k) pages[k] = AllocPage(t);
  for (size_t k = 0; k < n; ++k) {
    std::shared_ptr<Page> pg = pager_->NewPage(pages[k]);
    BuildOverflow(pg->mutable_bytes(), page_bytes_, pages[k], t->lsn,
                  k + 1 < n ? pages[k + 1] : 0, value.substr(k * per, per));
    pager_->Install(std::move(pg));
  }
  *first = pages[0];
  return Status::Ok();
}

Status BtreeImpl::FreeOverflow(Txn* t, const LeafCell& cell) {
  if (!(cell.flags & kCellOverflow)) return Status::Ok();
  uint64_t no = cell.overflow;
  const uint64_t n = (cell.value_bytes + geo_.overflow_data - 1) / geo_.overflow_data;
  for (uint64_t k = 0; k < n; ++k) {
    STRATA_ASSIGN_OR_RETURN(PageRef pg, pager_->Get(no));
    if (PageTypeOf(pg->bytes()) != static_cast<uint8_t>(PageType::kOverflow)) {
      return Status::Corruption(fmt::format("{} page {} @ {}: expected an overflow page",
                                            data_file(), no, no * page_bytes_));
    }
    const uint64_t next = LinkOf(pg->bytes());
    FreePage(t, no);
    no = next;
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Checkpoints

void BtreeImpl::MaybeCheckpointLocked() {
  if (!error_.ok() || wal_ == nullptr) return;
  const uint64_t wal_bytes =
      wal_->stats().bytes_written + wal_buffer_.ApproximateSize() - wal_bytes_at_checkpoint_;
  // Dirty pages may use the whole write buffer: random writes dirty a page
  // per write, and each checkpoint rewrites every dirty page.
  const uint64_t dirty_bytes = dirty_.size() * page_bytes_;
  if (wal_bytes < checkpoint_bytes_ && dirty_bytes < 2 * checkpoint_bytes_) return;
  Status s = CheckpointLocked();
  if (!s.ok()) SetError(s);
}

Status BtreeImpl::CheckpointLocked() {
  STRATA_RETURN_IF_ERROR(error_);
  STRATA_RETURN_IF_ERROR(FlushWalBufferLocked());
  std::shared_ptr<const Version> v = CurrentVersion();
  if (dirty_.empty() && pending_.empty() && next_apply_lsn_ == durable_.wal_lsn) {
    return Status::Ok();
  }
  Meta m;
  m.checkpoint = durable_.checkpoint + 1;
  m.root = v->root;
  m.height = v->height;
  m.entries = v->entries;
  // Every record below next_apply_lsn_ is in the tree; later ones (synced
  // writes appended but not applied yet) are redone from the WAL.
  m.wal_lsn = next_apply_lsn_;

  // The new free list: every page no tree of the new meta reaches. Its own
  // pages come from pages free now (never from ones the durable meta reaches).
  std::vector<uint64_t> list_pages;
  auto entries_after = [&](size_t k) {
    return free_.size() - std::min(k, free_.size()) + pending_.size() + durable_free_pages_.size();
  };
  size_t k = 0;
  while (k * geo_.free_entries < entries_after(k)) ++k;
  for (size_t j = 0; j < k; ++j) {
    uint64_t no;
    if (!free_.empty()) {
      no = *free_.begin();
      free_.erase(free_.begin());
      pager_->Forget(no);
    } else {
      no = page_count_++;
    }
    list_pages.push_back(no);
  }
  std::vector<uint64_t> listed(free_.begin(), free_.end());
  for (const PendingFree& f : pending_) listed.push_back(f.page);
  listed.insert(listed.end(), durable_free_pages_.begin(), durable_free_pages_.end());
  std::sort(listed.begin(), listed.end());
  STRATA_ASSERT(listed.size() <= k * geo_.free_entries);
  m.page_count = page_count_;
  m.free_count = listed.size();
  m.free_head = list_pages.empty() ? 0 : list_pages[0];

  // WAL before pages: every record the checkpoint covers is durable first, so
  // the log never ends before the checkpoint (and never reuses its LSNs).
  STRATA_RETURN_IF_ERROR(wal_->Sync());
  std::vector<PageRef> writes;
  for (uint64_t no : dirty_) {
    STRATA_ASSIGN_OR_RETURN(PageRef pg, pager_->Get(no));
    writes.push_back(std::move(pg));
  }
  for (size_t j = 0; j < k; ++j) {
    auto pg = pager_->NewPage(list_pages[j]);
    const size_t begin = j * geo_.free_entries;
    const size_t n = std::min(geo_.free_entries, listed.size() - std::min(begin, listed.size()));
    BuildFreeList(pg->mutable_bytes(), page_bytes_, list_pages[j], m.wal_lsn - 1,
                  j + 1 < k ? list_pages[j + 1] : 0, listed.data() + begin, n);
    writes.push_back(std::move(pg));
  }
  std::sort(writes.begin(), writes.end(),
            [](const PageRef& x, const PageRef& y) { return x->no < y->no; });
  Status s = pager_->WritePages(writes);
  if (s.ok()) s = pager_->EnsurePages(m.page_count);
  if (s.ok()) s = pager_->Sync();
  std::string meta_page(page_bytes_, '\0');
  BuildMeta(meta_page.data(), page_bytes_, m);
  if (s.ok()) s = pager_->WriteRaw(m.checkpoint % 2, meta_page.data());
  if (s.ok()) s = pager_->Sync();
  if (!s.ok()) return s;  // the caller fails the engine

  // Durable. The old free-list pages are free now (no reader reads them).
  for (uint64_t no : durable_free_pages_) free_.insert(no);
  durable_free_pages_ = list_pages;
  durable_ = m;
  ++durable_gen_;
  std::vector<PageRef> tree_pages;
  for (const PageRef& pg : writes) {
    if (dirty_.count(pg->no)) tree_pages.push_back(pg);
  }
  dirty_.clear();
  pager_->MarkOnDisk(tree_pages);
  wal_bytes_at_checkpoint_ = wal_->stats().bytes_written;
  checkpoints_.fetch_add(1, std::memory_order_relaxed);
  Reclaim();
  return wal_->ReleaseBefore(m.wal_lsn);
}

Status BtreeImpl::Close() {
  std::unique_lock lock(apply_mu_);
  if (closed_) return Status::InvalidArgument("Close: the engine is already closed");
  Status s = error_.ok() ? CheckpointLocked() : error_;
  if (!s.ok()) SetError(s);
  closed_ = true;
  // Everything is in the checkpoint: the WAL holds nothing the tree lacks.
  wal_.reset();
  lock_file_.reset();
  return s;
}

Status BtreeImpl::Flush() {
  std::unique_lock lock(apply_mu_);
  STRATA_RETURN_IF_ERROR(LockedTurn(lock));
  Status s = CheckpointLocked();
  if (!s.ok()) SetError(s);
  return s;
}

}  // namespace strata::btree
