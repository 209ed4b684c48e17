// Segment files of LogImpl: preparation ahead of need (background thread),
// opening the active segment, and releasing old segments.
#include <fmt/core.h>

#include <algorithm>
#include <cstring>

#include "core/assert.h"
#include "wal/format.h"
#include "wal/log_impl.h"

namespace strata::wal {

namespace {
constexpr size_t kZeroFillChunkBytes = 1 * kMiB;
}  // namespace

std::string LogImpl::PathOf(const std::string& name) const { return io::JoinPath(dir_, name); }
std::string LogImpl::SegmentPath(uint64_t seq) const { return PathOf(SegmentFileName(seq)); }

// Makes segment `seq` ready: a file of at least InitialAllocation() bytes
// whose header names seq, durable, under its final name. Built under a
// temporary name so that a crash midway leaves nothing recovery could mistake
// for a segment. A recycled file keeps its old records (they carry the old
// seq and read as stale) and its size, up to segment_bytes: space it already
// has needs no allocation when the segment grows into it.
Status LogImpl::PrepareSegment(uint64_t seq, const std::string& free_name) {
  const std::string tmp = PathOf(TempSegmentFileName(seq));
  const io::FileOptions file_options{};
  std::unique_ptr<io::WritableFile> file;
  const uint64_t bytes = InitialAllocation();
  if (!free_name.empty()) {
    STRATA_RETURN_IF_ERROR(fs_->Rename(PathOf(free_name), tmp));
    STRATA_RETURN_IF_ERROR(fs_->ReopenWritableFile(tmp, file_options, &file));
    if (file->size() > options_.segment_bytes) {
      // Recycled from a log with bigger segments: start clean.
      STRATA_RETURN_IF_ERROR(file->Truncate(0));
    }
    if (file->size() < bytes) {
      STRATA_RETURN_IF_ERROR(file->Allocate(file->size(), bytes - file->size()));
    }
  } else {
    STRATA_RETURN_IF_ERROR(fs_->NewWritableFile(tmp, file_options, &file));
    if (options_.preparation == SegmentPreparation::kFallocate ||
        options_.preparation == SegmentPreparation::kRecycleElseFallocate) {
      STRATA_RETURN_IF_ERROR(file->Allocate(0, bytes));
    } else {
      const std::string zeros(kZeroFillChunkBytes, '\0');
      for (uint64_t at = 0; at < bytes; at += zeros.size()) {
        STRATA_RETURN_IF_ERROR(
            file->WriteAt(at, std::string_view(zeros).substr(0, std::min<uint64_t>(zeros.size(),
                                                                                bytes - at))));
      }
    }
  }
  std::string header(kSegmentHeaderBytes, '\0');
  EncodeSegmentHeader(SegmentHeader{seq, options_.segment_bytes, bytes}, header.data());
  STRATA_RETURN_IF_ERROR(file->WriteAt(0, header));
  STRATA_RETURN_IF_ERROR(file->Sync());
  STRATA_RETURN_IF_ERROR(file->Close());
  STRATA_RETURN_IF_ERROR(fs_->Rename(tmp, SegmentPath(seq)));
  STRATA_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  std::lock_guard<std::mutex> lock(mu_);
  stats_.segments_prepared++;
  if (!free_name.empty()) stats_.segments_recycled++;
  return Status::Ok();
}

void LogImpl::StartPreparer() {
  preparer_ = std::thread([this] { PreparerLoop(); });
}

void LogImpl::PreparerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    prep_cv_.wait(lock, [&] {
      return stop_ || (prep_want_ != 0 && prepared_seq_ != prep_want_ && prep_status_.ok());
    });
    if (stop_) return;
    const uint64_t seq = prep_want_;
    std::string free_name;
    if (Recycles(options_.preparation) && !free_files_.empty()) {
      free_name = free_files_.back();
      free_files_.pop_back();
    }
    lock.unlock();
    Status status = PrepareSegment(seq, free_name);
    lock.lock();
    if (status.ok()) {
      prepared_seq_ = seq;
    } else {
      prep_status_ = status.WithContext(fmt::format("wal: preparing segment {}", seq));
    }
    prep_cv_.notify_all();
  }
}

Status LogImpl::OpenActiveFile(uint64_t seq, uint64_t end_offset) {
  io::FileOptions file_options;
  file_options.direct = options_.direct_io;
  file_.reset();
  STRATA_RETURN_IF_ERROR(fs_->ReopenWritableFile(SegmentPath(seq), file_options, &file_));
  file_seq_ = seq;
  // Recovery made sure the file is at least as big as its header and grow
  // records declare; the writer grows it from there (GrowActiveFile).
  file_allocated_ = file_->size();
  tail_block_.clear();
  const uint64_t block_start = AlignDown(end_offset, kDirectBlockBytes);
  if (options_.direct_io && block_start != end_offset) {
    // Keep the partial last block: O_DIRECT rewrites it with the next records.
    std::unique_ptr<io::RandomAccessFile> reader;
    STRATA_RETURN_IF_ERROR(fs_->NewRandomAccessFile(SegmentPath(seq), io::FileOptions{}, &reader));
    tail_block_.resize(end_offset - block_start);
    size_t got = 0;
    STRATA_RETURN_IF_ERROR(reader->Read(block_start, tail_block_.size(), tail_block_.data(), &got));
    if (got != tail_block_.size()) {
      return Status::Corruption(fmt::format("{} @ {}: short read of the last block",
                                            SegmentPath(seq), block_start));
    }
  }
  return Status::Ok();
}

Status LogImpl::GrowActiveFile(uint64_t bytes, uint64_t* syncs) {
  STRATA_ASSERT(bytes > file_allocated_ && bytes % kDirectBlockBytes == 0);
  if (options_.preparation == SegmentPreparation::kZeroFill ||
      options_.preparation == SegmentPreparation::kRecycle) {
    // Written zeros, as a prepared segment: later fdatasyncs of records
    // there overwrite data and write no extent metadata. Aligned, so that an
    // O_DIRECT file takes them as they are.
    AlignedBytes zeros;
    const uint64_t piece = std::min<uint64_t>(kZeroFillChunkBytes, bytes - file_allocated_);
    zeros.Reserve(piece);
    std::memset(zeros.data(), 0, piece);
    for (uint64_t at = file_allocated_; at < bytes; at += piece) {
      const uint64_t n = std::min<uint64_t>(piece, bytes - at);
      STRATA_RETURN_IF_ERROR(file_->WriteAt(at, std::string_view(zeros.data(), n)));
    }
  } else {
    STRATA_RETURN_IF_ERROR(file_->Allocate(file_allocated_, bytes - file_allocated_));
  }
  // The size is durable before any record that lies past the old end (and
  // the grow record declaring it) is written.
  STRATA_RETURN_IF_ERROR(file_->Sync());
  ++*syncs;
  file_allocated_ = bytes;
  std::lock_guard<std::mutex> lock(mu_);
  stats_.segment_growths++;
  return Status::Ok();
}

Status LogImpl::ContinueAt(uint64_t lsn) {
  std::vector<uint64_t> old_seqs;
  uint64_t seq = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    STRATA_ASSERT(!preparer_started_);  // before any Append
    STRATA_ASSERT(queue_.empty());
    if (!failed_.ok()) return failed_;
    if (lsn <= next_lsn_) return Status::Ok();
    for (const Segment& seg : segments_) old_seqs.push_back(seg.seq);
    seq = segments_.back().seq + 1;
  }
  // The fresh segment is durable before any old one goes, so that a crash
  // midway leaves a contiguous log whose records are all below `lsn`.
  file_.reset();
  std::string free_name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (Recycles(options_.preparation) && !free_files_.empty()) {
      free_name = free_files_.back();
      free_files_.pop_back();
    }
  }
  STRATA_RETURN_IF_ERROR(PrepareSegment(seq, free_name));
  for (uint64_t old : old_seqs) STRATA_RETURN_IF_ERROR(RemoveSegmentFile(old));
  {
    std::lock_guard<std::mutex> lock(mu_);
    segments_.clear();
    segments_.push_back(
        Segment{seq, options_.segment_bytes, 0, 0, kSegmentHeaderBytes, InitialAllocation()});
    next_lsn_ = lsn;
    written_lsn_ = synced_lsn_ = lsn - 1;
    written_seq_ = seq;
    prep_want_ = seq + 1;
    stats_.segments_released += old_seqs.size();
  }
  {
    std::lock_guard<std::mutex> read_lock(read_mu_);
    readers_.clear();
  }
  return OpenActiveFile(seq, kSegmentHeaderBytes);
}

size_t LogImpl::ReleasableCountLocked(uint64_t lsn) const {
  // The newest segment holding records carries next_lsn across a restart.
  size_t keep_from = segments_.size() - 1;
  while (keep_from > 0 && segments_[keep_from].first_lsn == 0) --keep_from;
  size_t count = 0;
  while (count < keep_from) {
    const Segment& seg = segments_[count];
    // Only sealed segments (older than the one the leader writes) go.
    if (seg.seq >= written_seq_ || seg.last_lsn >= lsn) break;
    ++count;
  }
  return count;
}

uint64_t LogImpl::ReleaseBoundary(uint64_t lsn) const {
  std::lock_guard<std::mutex> lock(mu_);
  const size_t count = ReleasableCountLocked(lsn);
  for (size_t i = count; i < segments_.size(); ++i) {
    if (segments_[i].first_lsn != 0) return segments_[i].first_lsn;
  }
  return next_lsn_;
}

Status LogImpl::ReleaseBefore(uint64_t lsn) {
  std::lock_guard<std::mutex> release_lock(release_mu_);
  std::unique_lock<std::mutex> lock(mu_);
  for (size_t count = ReleasableCountLocked(lsn); count > 0; --count) {
    const uint64_t seq = segments_.front().seq;
    const bool recycle = Recycles(options_.preparation) &&
                         free_files_.size() < options_.recycled_segments_max;
    segments_.pop_front();
    {
      std::lock_guard<std::mutex> read_lock(read_mu_);
      readers_.erase(seq);
    }
    lock.unlock();
    // Released in order, each made durable before the next, so that a crash
    // leaves the log contiguous.
    Status s = recycle ? fs_->Rename(SegmentPath(seq), PathOf(FreeSegmentFileName(seq)))
                       : fs_->RemoveFile(SegmentPath(seq));
    if (s.ok()) s = fs_->SyncDir(dir_);
    lock.lock();
    if (!s.ok()) return s;
    if (recycle) {
      free_files_.push_back(FreeSegmentFileName(seq));
      prep_cv_.notify_all();
    }
    stats_.segments_released++;
  }
  return Status::Ok();
}

}  // namespace strata::wal
