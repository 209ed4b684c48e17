// DBImpl::CreateCheckpoint: a consistent copy of the LSM in a new directory.
//
// What the copy holds, and how it gets there:
// - Sequence S: the caller's snapshot, or a snapshot taken here. Holding it
//   keeps every version S can see through compactions while we work.
// - Flush first (not a copy of the WAL tail): after the flush every write
//   <= S is in a table, so the copy needs no WAL at all and opens with an
//   empty one. A flush costs one memtable's worth of table bytes in the
//   source, which it writes anyway sooner or later; copying the WAL instead
//   would copy whole preallocated segments and make the copy replay them.
// - Tables are immutable: a table whose entries are all <= S is hard-linked
//   (io::LinkOrCopyFile copies it where the file system cannot link, e.g.
//   across file systems). A table holding entries newer than S (written
//   after the snapshot, then flushed or compacted) is rewritten without
//   them; a table with only newer entries is left out.
// - A fresh manifest lists the files with last sequence S, then CURRENT,
//   then KIND, each synced, then the directory; only then is the tmp
//   directory renamed to `dir` and its parent synced.
#include "core/assert.h"
#include "lsm/db_impl.h"
#include "lsm/table_builder.h"

namespace strata::lsm {

namespace {

constexpr std::string_view kCheckpointTmpInfix = ".tmp-";

}  // namespace

Status DBImpl::Checkpoint(const std::string& dir) {
  CheckpointOptions options;
  options.dir = dir;
  return CreateCheckpoint(options, nullptr);
}

Status DBImpl::CreateCheckpoint(const CheckpointOptions& options, CheckpointInfo* info) {
  STRATA_RETURN_IF_ERROR(CheckWritable());
  const std::string& dir = options.dir;
  if (dir.empty() || fs_->FileExists(dir)) {
    return Status::InvalidArgument(dir + ": checkpoint target exists (or is empty)");
  }
  std::unique_ptr<Snapshot> pinned;
  const Snapshot* snapshot = options.snapshot;
  if (snapshot == nullptr) {
    pinned = GetSnapshot();
    snapshot = pinned.get();
  }
  const SequenceNumber sequence = snapshot->sequence();
  STRATA_ASSERT(sequence <= last_sequence_.load(std::memory_order_acquire));
  STRATA_RETURN_IF_ERROR(Flush());
  STRATA_RETURN_IF_ERROR(io::RemoveAbandonedScratchDirs(fs_.get(), dir, kCheckpointTmpInfix));

  const std::string tmp = io::ScratchDirFor(dir, kCheckpointTmpInfix);
  CheckpointInfo local;
  STRATA_RETURN_IF_ERROR(fs_->CreateDir(tmp));
  Status s = BuildCheckpoint(tmp, sequence, &local);
  if (s.ok()) s = fs_->Rename(tmp, dir);
  if (s.ok()) s = fs_->SyncDir(io::DirName(dir));
  if (!s.ok()) {
    (void)io::RemoveTree(fs_.get(), tmp);
    return s;
  }
  local.sequence = sequence;
  if (info != nullptr) *info = local;
  return Status::Ok();
}

// Fills `tmp` with the tables, manifest, CURRENT and KIND of the state as
// of `sequence`, all synced.
Status DBImpl::BuildCheckpoint(const std::string& tmp, SequenceNumber sequence,
                               CheckpointInfo* info) {
  // Holding the Version keeps its files on disk while they are linked.
  std::shared_ptr<const Version> version = versions_->current();
  VersionEdit edit;
  for (int level = 0; level < kLevelCount; ++level) {
    for (const auto& f : version->files(level)) {
      if (f->smallest_seq > sequence) continue;  // only writes after the snapshot
      if (f->largest_seq <= sequence) {
        bool linked = false;
        STRATA_RETURN_IF_ERROR(io::LinkOrCopyFile(fs_.get(),
                                                  io::JoinPath(path_, TableFileName(f->number)),
                                                  io::JoinPath(tmp, TableFileName(f->number)),
                                                  &linked));
        (linked ? info->files_linked : info->files_copied)++;
        (linked ? info->bytes_linked : info->bytes_written) += f->file_bytes;
        edit.AddFile(level, *f);
        continue;
      }
      FileMetaData rewritten;
      STRATA_RETURN_IF_ERROR(RewriteTableAsOf(*f, sequence, tmp, &rewritten));
      if (rewritten.entry_count == 0) continue;
      info->files_copied++;
      info->bytes_written += rewritten.file_bytes;
      edit.AddFile(level, rewritten);
    }
  }
  const uint64_t manifest_number = versions_->NewFileNumber();
  edit.SetWalLsn(0);
  edit.SetLastSequence(sequence);
  edit.SetNextFileNumber(manifest_number + 1);
  std::unique_ptr<ManifestWriter> writer;
  const std::string manifest = ManifestFileName(manifest_number);
  STRATA_RETURN_IF_ERROR(ManifestWriter::Create(fs_.get(), io::JoinPath(tmp, manifest), &writer));
  std::string record;
  edit.EncodeTo(&record);
  STRATA_RETURN_IF_ERROR(writer->AddRecord(record));  // fdatasynced
  info->bytes_written += writer->file_bytes();
  STRATA_RETURN_IF_ERROR(writer->Close());
  // The links and the manifest's name must be durable before CURRENT names it.
  STRATA_RETURN_IF_ERROR(fs_->SyncDir(tmp));
  STRATA_RETURN_IF_ERROR(SetCurrentFile(fs_.get(), tmp, manifest));
  // KIND last: only a complete directory says what it is.
  STRATA_RETURN_IF_ERROR(io::WriteFileAtomically(fs_.get(), io::JoinPath(tmp, "KIND"), "lsm\n"));
  info->bytes_written += manifest.size() + 1 + 4;  // CURRENT and KIND
  return fs_->SyncDir(tmp);
}

namespace {

// The tombstones of `index` with sequence <= `sequence` go on into the
// rewritten table; its key range grows to cover them (as compaction outputs
// do, lsm/compaction_job.h).
void AddRangeDelsAsOf(const RangeDelIndex& index, SequenceNumber sequence, TableBuilder* builder,
                      FileMetaData* out) {
  for (const RangeTombstone& t : index.tombstones()) {
    if (t.seq > sequence) continue;
    std::string lo, hi;
    AppendInternalKey(&lo, t.begin, kMaxSequenceNumber, ValueType::kDeletion);
    AppendInternalKey(&hi, t.end, kMaxSequenceNumber, kValueTypeForSeek);
    if (out->entry_count == 0 || CompareInternalKeys(lo, out->smallest) < 0) out->smallest = lo;
    if (out->entry_count == 0 || CompareInternalKeys(hi, out->largest) > 0) out->largest = hi;
    out->smallest_seq = std::min(out->smallest_seq, t.seq);
    out->largest_seq = std::max(out->largest_seq, t.seq);
    ++out->entry_count;
    builder->AddRangeTombstone(t);
  }
}

}  // namespace

// Writes the entries of `f` with sequence <= `sequence` to a new table in
// `dir` (numbered from the source's counter, so it collides with no linked
// table) and describes it in *out; entry_count 0 means none survived and
// no file is left behind.
Status DBImpl::RewriteTableAsOf(const FileMetaData& f, SequenceNumber sequence,
                                const std::string& dir, FileMetaData* out) {
  std::shared_ptr<const Table> table;
  STRATA_RETURN_IF_ERROR(f.GetTable(&table));
  *out = FileMetaData();
  out->number = versions_->NewFileNumber();
  out->smallest_seq = kMaxSequenceNumber;
  const std::string path = io::JoinPath(dir, TableFileName(out->number));
  std::unique_ptr<io::WritableFile> file;
  STRATA_RETURN_IF_ERROR(fs_->NewWritableFile(path, io::FileOptions{}, &file));
  TableBuilder builder(table_options_, file.get());
  ReadOptions read_options;
  read_options.fill_cache = false;
  std::unique_ptr<InternalIterator> it = table->NewIterator(read_options);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ParsedInternalKey parsed;
    if (!ParseInternalKey(it->key(), &parsed)) {
      builder.Abandon();
      return Status::Corruption(TableFileName(f.number) + ": malformed internal key");
    }
    if (parsed.sequence > sequence) continue;
    if (out->entry_count == 0) out->smallest.assign(it->key());
    out->largest.assign(it->key());
    out->smallest_seq = std::min(out->smallest_seq, parsed.sequence);
    out->largest_seq = std::max(out->largest_seq, parsed.sequence);
    ++out->entry_count;
    Status s = builder.Add(it->key(), it->value());
    if (!s.ok()) {
      builder.Abandon();
      return s;
    }
  }
  if (!it->status().ok()) {
    builder.Abandon();
    return it->status();
  }
  if (f.range_dels != nullptr) {
    AddRangeDelsAsOf(*f.range_dels, sequence, &builder, out);
  }
  if (out->entry_count == 0) {
    builder.Abandon();
    STRATA_RETURN_IF_ERROR(file->Close());
    return fs_->RemoveFile(path);
  }
  STRATA_RETURN_IF_ERROR(builder.Finish());
  STRATA_RETURN_IF_ERROR(file->Sync());
  STRATA_RETURN_IF_ERROR(file->Close());
  out->file_bytes = file->size();
  return Status::Ok();
}

}  // namespace strata::lsm
