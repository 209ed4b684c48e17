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
    NoteKeyRange(ikey, ikey, parsed.sequence);
    STRATA_RETURN_IF_ERROR(builder_->Add(ikey, value));
    PublishProgress(file_->size());
    return Status::Ok();
  }

  // The file's key range grows to cover [begin, end): from the first
  // possible entry of begin to just before every entry of end (end's
  // bound sorts before a next file's bound at the same user key).
  Status AddTombstone(const RangeTombstone& t) {
    if (builder_ == nullptr) STRATA_RETURN_IF_ERROR(Open());
    std::string lo, hi;
    AppendInternalKey(&lo, t.begin, kMaxSequenceNumber, ValueType::kDeletion);
    AppendInternalKey(&hi, t.end, kMaxSequenceNumber, kValueTypeForSeek);
    NoteKeyRange(lo, hi, t.seq);
    builder_->AddRangeTombstone(t);
    if (tombstone_end_max_.empty() || t.end > tombstone_end_max_) tombstone_end_max_ = t.end;
    return Status::Ok();
  }

  // False while the open file has a tombstone reaching past user_key.
  bool MayCutBefore(std::string_view user_key) const {
    return tombstone_end_max_.empty() || std::string_view(tombstone_end_max_) <= user_key;
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

  // Counts one entry (a point entry or a tombstone) spanning [lo, hi].
  void NoteKeyRange(std::string_view lo, std::string_view hi, SequenceNumber seq) {
    if (meta_.entry_count == 0 || CompareInternalKeys(lo, meta_.smallest) < 0) {
      meta_.smallest.assign(lo);
    }
    if (meta_.entry_count == 0 || CompareInternalKeys(hi, meta_.largest) > 0) {
      meta_.largest.assign(hi);
    }
    meta_.smallest_seq = std::min(meta_.smallest_seq, seq);
    meta_.largest_seq = std::max(meta_.largest_seq, seq);
    ++meta_.entry_count;
  }

  Status Open() {
    tombstone_end_max_.clear();
    meta_ = FileMetaData();
    meta_.number = ctx_.new_file_number();
    meta_.smallest_seq = kMaxSequenceNumber;
    const std::string path = io::JoinPath(ctx_.versions->dir(), TableFileName(meta_.number));
    if (ctx_.direct_io) {
      bool direct = false;
      STRATA_RETURN_IF_ERROR(io::NewDirectAppendFile(ctx_.fs, path, ctx_.direct_write_buffer_bytes,
                                                     &file_, &direct));
    } else {
      STRATA_RETURN_IF_ERROR(
          io::NewBufferedAppendFile(ctx_.fs, path, ctx_.direct_write_buffer_bytes, &file_));
    }
    if (ctx_.write_rate_limiter != nullptr) {
      file_ = std::make_unique<io::RateLimitedWritableFile>(std::move(file_),
                                                            ctx_.write_rate_limiter);
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
  std::string tombstone_end_max_;  // of the open file's tombstones; empty: none
};

// The stripe of `seq`: the index of the oldest snapshot that sees it.
size_t StripeOf(const std::vector<SequenceNumber>& snapshots, SequenceNumber seq) {
  return static_cast<size_t>(std::lower_bound(snapshots.begin(), snapshots.end(), seq) -
                             snapshots.begin());
}

// Feeds the inputs' tombstones to the outputs in begin order.
class TombstoneFeed {
 public:
  TombstoneFeed(const JobContext& ctx, const RangeDelIndex* index, bool bottommost)
      : ctx_(ctx), index_(index), bottommost_(bottommost) {}

  // True when an entry of user_key at seq is deleted by a tombstone of its
  // own stripe (no snapshot can see it).
  bool Covers(std::string_view user_key, SequenceNumber seq, size_t stripe) const {
    if (index_ == nullptr) return false;
    const SequenceNumber bound =
        stripe < ctx_.snapshots.size() ? ctx_.snapshots[stripe] : kMaxSequenceNumber;
    return index_->MaxCoveringSeq(user_key, bound) > seq;
  }

  // Writes every tombstone beginning before `user_key` (all when null).
  Status WriteBefore(const std::string_view* user_key, OutputWriter* out) {
    if (index_ == nullptr) return Status::Ok();
    const auto& all = index_->tombstones();
    for (; next_ < all.size(); ++next_) {
      const RangeTombstone& t = all[next_];
      if (user_key != nullptr && std::string_view(t.begin) >= *user_key) break;
      // Every snapshot sees it at the bottom: what it covers was dropped here.
      if (bottommost_ && StripeOf(ctx_.snapshots, t.seq) == 0) continue;
      STRATA_RETURN_IF_ERROR(out->AddTombstone(t));
    }
    return Status::Ok();
  }

 private:
  const JobContext& ctx_;
  const RangeDelIndex* const index_;
  const bool bottommost_;
  size_t next_ = 0;
};

}  // namespace

Status WriteMergedTables(const JobContext& ctx, InternalIterator* input, int output_level,
                         bool bottommost, VersionEdit* edit, JobStats* stats,
                         std::shared_ptr<const RangeDelIndex> range_dels) {
  OutputWriter out(ctx, output_level, edit, stats);
  if (range_dels != nullptr && range_dels->empty()) range_dels.reset();
  TombstoneFeed tombstones(ctx, range_dels.get(), bottommost);
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
    const size_t stripe = StripeOf(ctx.snapshots, parsed.sequence);
    if (!new_user_key && stripe == previous_stripe) continue;  // hidden by a newer entry
    if (new_user_key) {
      STRATA_RETURN_IF_ERROR(tombstones.WriteBefore(&parsed.user_key, &out));
      // Cut between user keys only, so a key's versions never straddle
      // two files of one level (Get reads one file per level).
      if (ctx.target_file_bytes != 0 && out.open() &&
          out.current_bytes() >= ctx.target_file_bytes && out.MayCutBefore(parsed.user_key)) {
        STRATA_RETURN_IF_ERROR(out.Finish());
      }
      current_user_key.assign(parsed.user_key);
      has_current = true;
    }
    previous_stripe = stripe;
    if (tombstones.Covers(parsed.user_key, parsed.sequence, stripe)) continue;
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
  STRATA_RETURN_IF_ERROR(tombstones.WriteBefore(nullptr, &out));
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
  std::vector<RangeTombstone> range_dels;
  for (const auto& list : c.inputs) {
    for (const auto& f : list) {
      std::shared_ptr<const Table> table;
      STRATA_RETURN_IF_ERROR(f->GetTable(&table));
      children.push_back(
          NewPinnedTableIterator(std::move(table), read_options, ctx.compaction_readahead_bytes));
      stats->bytes_read += f->file_bytes;
      if (f->range_dels != nullptr) {
        const auto& ts = f->range_dels->tombstones();
        range_dels.insert(range_dels.end(), ts.begin(), ts.end());
      }
    }
  }
  std::unique_ptr<InternalIterator> merged = NewMergingIterator(std::move(children));
  std::shared_ptr<const RangeDelIndex> index;
  if (!range_dels.empty()) index = std::make_shared<const RangeDelIndex>(std::move(range_dels));
  return WriteMergedTables(ctx, merged.get(), c.output_level, c.bottommost, edit, stats,
                           std::move(index));
}

}  // namespace strata::lsm
