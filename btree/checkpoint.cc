// BtreeImpl::CreateCheckpoint: a consistent copy of the B+ tree in a new
// directory.
//
// Why a rebuild and not links: btree.db is one file rewritten in place
// (copy-on-write pages go to free pages of the same file), so no part of it
// is immutable and a hard link would share later writes. The copy is built
// from the pinned version instead:
// - The source's WAL is synced first: the copy never holds a write that a
//   power cut could still take from the source.
// - The version (the caller's snapshot, or the current one) stays pinned
//   while we read it, so none of its pages is reused under us; reading it
//   needs no lock and never waits for the writer (writes go on meanwhile).
// - Its entries stream, in key order, into the bulk loader of a new engine
//   opened on "<dir>.tmp-<pid>-<n>": leaves are written as they fill, so
//   memory stays bounded by the branch levels, and the copy is compact
//   (fill kCheckpointFill) whatever the source's fragmentation.
// - The copy's WAL and meta continue at the version's LSN + 1, so the copy
//   goes on numbering after the state it holds, and a snapshot of it has a
//   sequence above CheckpointInfo::sequence.
// - Then KIND, synced, then the directory; only then is the tmp directory
//   renamed to `dir` and the parent synced. A tmp directory never holds
//   KIND before it is complete, so a crash leaves nothing that opens as a
//   database under either name.
// The cost is one sequential write of the live data (reported as
// bytes_written); CheckpointInfo::files_linked is always 0.
#include <fmt/core.h>

#include "btree/btree_impl.h"
#include "core/assert.h"

namespace strata::btree {

namespace {

constexpr std::string_view kCheckpointTmpInfix = ".tmp-";
// Leaves of a checkpoint copy are filled this far: dense for reads, with
// room for a few inserts per leaf before the first splits.
constexpr double kCheckpointFill = 0.9;

}  // namespace

Status BtreeImpl::Checkpoint(const std::string& dir) {
  CheckpointOptions options;
  options.dir = dir;
  return CreateCheckpoint(options, nullptr);
}

Status BtreeImpl::CreateCheckpoint(const CheckpointOptions& options, CheckpointInfo* info) {
  const std::string& dir = options.dir;
  if (dir.empty() || fs_->FileExists(dir)) {
    return Status::InvalidArgument(dir + ": checkpoint target exists (or is empty)");
  }
  {
    // Like the LSM's flush: whatever the copy holds is durable in the
    // source first, so a power cut never leaves the copy ahead of it.
    std::unique_lock lock(apply_mu_);
    STRATA_RETURN_IF_ERROR(LockedTurn(lock));
    Status s = FlushWalBufferLocked();
    if (s.ok()) s = wal_->Sync();
    if (!s.ok()) {
      SetError(s);
      return s;
    }
  }
  ReadOptions read_options;
  read_options.snapshot = options.snapshot;
  read_options.fill_cache = false;
  STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const Version> version, ReadVersion(read_options));
  STRATA_RETURN_IF_ERROR(io::RemoveAbandonedScratchDirs(fs_.get(), dir, kCheckpointTmpInfix));

  const std::string tmp = io::ScratchDirFor(dir, kCheckpointTmpInfix);
  auto build = [&]() -> Status {
    Options copy_options = options_;
    copy_options.file_system = fs_;
    copy_options.create_if_missing = true;
    copy_options.error_if_exists = true;
    copy_options.block_bytes = page_bytes_;
    copy_options.scrub_bytes_per_second = 0;  // a short-lived loader needs no scrubber
    copy_options.wal_dir.clear();  // the copy's WAL lives in its own directory
    // The loader writes leaves as it goes: a small pool is enough.
    copy_options.block_cache_bytes = std::min<size_t>(options_.block_cache_bytes, 8 << 20);
    std::unique_ptr<Engine> engine;
    STRATA_RETURN_IF_ERROR(BtreeImpl::Open(copy_options, tmp, &engine));
    auto* copy = static_cast<BtreeImpl*>(engine.get());
    STRATA_RETURN_IF_ERROR(copy->ContinueAt(version->lsn + 1));
    BtreeIterator it(this, version, std::nullopt);
    it.SeekToFirst();
    STRATA_RETURN_IF_ERROR(copy->BulkLoad(
        [&](std::string* key, std::string* value, uint64_t* v) {
          if (!it.Valid()) return false;
          key->assign(it.key());
          value->assign(it.value());
          *v = it.version().value_or(0);
          it.Next();
          return true;
        },
        kCheckpointFill));
    STRATA_RETURN_IF_ERROR(it.status());
    STRATA_RETURN_IF_ERROR(copy->Close());
    engine.reset();
    STRATA_ASSIGN_OR_RETURN(const uint64_t data_bytes,
                            fs_->FileSize(io::JoinPath(tmp, kDataFileName)));
    // KIND last: only a complete directory says what it is.
    STRATA_RETURN_IF_ERROR(
        io::WriteFileAtomically(fs_.get(), io::JoinPath(tmp, "KIND"), "btree\n"));
    STRATA_RETURN_IF_ERROR(fs_->SyncDir(tmp));
    if (info != nullptr) {
      *info = CheckpointInfo();
      info->files_copied = 1;
      info->bytes_written = data_bytes + 6;
    }
    return Status::Ok();
  };
  Status s = build();
  if (s.ok()) s = fs_->Rename(tmp, dir);
  if (s.ok()) s = fs_->SyncDir(io::DirName(dir));
  if (!s.ok()) {
    (void)io::RemoveTree(fs_.get(), tmp);
    return s;
  }
  if (info != nullptr) info->sequence = version->lsn;
  return Status::Ok();
}

Status BtreeImpl::ContinueAt(uint64_t lsn) {
  std::unique_lock lock(apply_mu_);
  STRATA_RETURN_IF_ERROR(LockedTurn(lock));
  if (CurrentVersion()->root != 0 || next_apply_lsn_ != durable_.wal_lsn) {
    return Status::InvalidArgument("ContinueAt needs an empty btree");
  }
  if (lsn <= next_apply_lsn_) return Status::Ok();
  // The log first: a meta whose LSN the log has not reached would make the
  // next open report a gap. A crash between the two leaves a log ahead of
  // the meta, which only a checkpoint's tmp directory (no KIND) can hold.
  Status s = wal_->ContinueAt(lsn);
  if (s.ok()) {
    next_apply_lsn_ = lsn;
    s = CheckpointLocked();
  }
  if (!s.ok()) SetError(s);
  return s;
}

}  // namespace strata::btree
