#include "lsm/compaction_job.h"

#include <fmt/core.h>

#include <algorithm>
#include <set>

#include "core/assert.h"
#include "io/direct_append_file.h"
#include "lsm/merging_iterator.h"

namespace strata::lsm {

namespace {

// Builds one output table at a time.
class OutputWriter {
 public:
  OutputWriter(const JobContext& ctx, int level, VersionEdit* edit, JobStats* stats)
      : ctx_(ctx), level_(level), edit_(edit), stats_(stats) {}

  ~OutputWriter() {
    if (builder_ != nullptr) builder_->Abandon();
  }

  bool open() const { return builder_ != nullptr; }
  uint64_t current_bytes() const { return builder_ ? builder_->file_bytes() : 0; }

  Status Add(std::string_view ikey, const ParsedInternalKey& parsed, std::string_view value) {
    if (builder_ == nullptr) STRATA_RETURN_IF_ERROR(Open());
    if (meta_.entry_count == 0) meta_.smallest.assign(ikey);
    meta_.largest.assign(ikey);
    meta_.smallest_seq = std::min(meta_.smallest_seq, parsed.sequence);
    meta_.largest_seq = std::max(meta_.largest_seq, parsed.sequence);
    ++meta_.entry_count;
    STRATA_RETURN_IF_ERROR(builder_->Add(ikey, value));
    PublishProgress(file_->size());
    return Status::Ok();
  }

  Status Finish() {
    STRATA_ASSERT(builder_ != nullptr);
    Status s = builder_->Finish();
    if (s.ok()) s = file_->Sync();
    if (s.ok()) s = file_->Close();
    builder_.reset();
    if (!s.ok()) return s;
    meta_.file_bytes = file_->size();
    PublishProgress(meta_.file_bytes);
    published_bytes_ = 0;
    file_.reset();
    STRATA_RETURN_IF_ERROR(ctx_.versions->OpenTable(&meta_));
    edit_->AddFile(level_, meta_);
    stats_->bytes_written += meta_.file_bytes;
    stats_->entries_written += meta_.entry_count;
    ++stats_->files_written;
    return Status::Ok();
  }

 private:
  void PublishProgress(uint64_t file_bytes) {
    if (ctx_.bytes_written_progress == nullptr || file_bytes <= published_bytes_) return;
    ctx_.bytes_written_progress->fetch_add(file_bytes - published_bytes_,
                                           std::memory_order_relaxed);
    published_bytes_ = file_bytes;
  }

  Status Open() {
    meta_ = FileMetaData();
    meta_.number = ctx_.new_file_number();
    meta_.smallest_seq = kMaxSequenceNumber;
    const std::string path = io::JoinPath(ctx_.versions->dir(), TableFileName(meta_.number));
    if (ctx_.direct_io) {
      bool direct = false;
      STRATA_RETURN_IF_ERROR(io::NewDirectAppendFile(ctx_.fs, path, ctx_.direct_write_buffer_bytes,
                                                     &file_, &direct));
    } else {
      STRATA_RETURN_IF_ERROR(ctx_.fs->NewWritableFile(path, io::FileOptions{}, &file_));
    }
    builder_ = std::make_unique<TableBuilder>(ctx_.table_options, file_.get());
    return Status::Ok();
  }

  const JobContext& ctx_;
  const int level_;
  VersionEdit* const edit_;
  JobStats* const stats_;
  std::unique_ptr<io::WritableFile> file_;
  std::unique_ptr<TableBuilder> builder_;
  FileMetaData meta_;
  uint64_t published_bytes_ = 0;  // of the open file, added to ctx_.bytes_written_progress
};

}  // namespace

Status WriteMergedTables(const JobContext& ctx, InternalIterator* input, int output_level,
                         bool bottommost, VersionEdit* edit, JobStats* stats) {
  OutputWriter out(ctx, output_level, edit, stats);
  std::string current_user_key;
  std::string zeroed_key;
  bool has_current = false;
  size_t previous_stripe = 0;
  for (input->SeekToFirst(); input->Valid(); input->Next()) {
    const std::string_view ikey = input->key();
    ParsedInternalKey parsed;
    if (!ParseInternalKey(ikey, &parsed)) {
      return Status::Corruption("compaction input: malformed internal key");
    }
    ++stats->entries_read;
    const bool new_user_key = !has_current || parsed.user_key != current_user_key;
    // The stripe is the index of the oldest snapshot that sees this entry.
    const size_t stripe = static_cast<size_t>(
        std::lower_bound(ctx.snapshots.begin(), ctx.snapshots.end(), parsed.sequence) -
        ctx.snapshots.begin());
    if (!new_user_key && stripe == previous_stripe) continue;  // hidden by a newer entry
    if (new_user_key) {
      // Cut between user keys only, so a key's versions never straddle
      // two files of one level (Get reads one file per level).
      if (ctx.target_file_bytes != 0 && out.open() &&
          out.current_bytes() >= ctx.target_file_bytes) {
        STRATA_RETURN_IF_ERROR(out.Finish());
      }
      current_user_key.assign(parsed.user_key);
      has_current = true;
    }
    previous_stripe = stripe;
    if (bottommost && stripe == 0) {
      if (parsed.type == ValueType::kDeletion) continue;
      if (parsed.sequence != 0) {
        zeroed_key.clear();
        AppendInternalKey(&zeroed_key, parsed.user_key, 0, parsed.type);
        ParsedInternalKey zeroed = parsed;
        zeroed.sequence = 0;
        STRATA_RETURN_IF_ERROR(out.Add(zeroed_key, zeroed, input->value()));
        continue;
      }
    }
    STRATA_RETURN_IF_ERROR(out.Add(ikey, parsed, input->value()));
  }
  STRATA_RETURN_IF_ERROR(input->status());
  if (out.open()) STRATA_RETURN_IF_ERROR(out.Finish());
  // The new files' directory entries must be durable before a manifest
  // record names them.
  return ctx.fs->SyncDir(ctx.versions->dir());
}

Status RunCompaction(const JobContext& ctx, const Compaction& c, VersionEdit* edit,
                     JobStats* stats) {
  std::set<uint64_t> input_numbers;
  for (const auto& list : c.inputs) {
    for (const auto& f : list) input_numbers.insert(f->number);
  }
  for (int level = 0; level < kLevelCount; ++level) {
    for (const auto& f : c.version->files(level)) {
      if (input_numbers.count(f->number)) edit->RemoveFile(level, f->number);
    }
  }
  if (c.trivial_move) {
    STRATA_ASSERT(c.inputs[1].empty());
    for (const auto& f : c.inputs[0]) edit->AddFile(c.output_level, *f);
    return Status::Ok();
  }
  ReadOptions read_options;
  read_options.fill_cache = false;
  std::vector<std::unique_ptr<InternalIterator>> children;
  for (const auto& list : c.inputs) {
    for (const auto& f : list) {
      children.push_back(f->table->NewIterator(read_options));
      stats->bytes_read += f->file_bytes;
    }
  }
  std::unique_ptr<InternalIterator> merged = NewMergingIterator(std::move(children));
  return WriteMergedTables(ctx, merged.get(), c.output_level, c.bottommost, edit, stats);
}

}  // namespace strata::lsm
